#!/usr/bin/env python3
"""
loopback.py — koeval's loopback protocol test server.

Speaks the five streaming chat protocols koeval measures (OpenAI-compatible
chat completions, Anthropic Messages, Gemini streamGenerateContent?alt=sse,
Ollama native /api/chat, CLOVA Studio v3) on 127.0.0.1 only, and plays the
wire-level faults a real server cannot be made to show on demand (429 with
Retry-After, 5xx, mid-stream error events, resets, stalls, truncation, UTF-8
split across writes, …). Which fault a request gets is scripted per model
name, so tests are deterministic. See README.md in this folder.

Standard library only. Never contacts anything: it only accepts connections.

    python3 tests/server/loopback.py --port 0 [--script FILE] [--delay-ms 20]
        [--first-delay-ms 20] [--header-delay-ms 0] [--framing chunked|close]
        [--verbose]

The first line on stdout is "PORT <n>" (flushed) once the socket listens.
"""

import argparse
import email.utils
import json
import re
import socket
import struct
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

# ---------------------------------------------------------------- answers

ANSWERS = {"ko": "서울입니다", "ja": "東京です", "zh": "北京", "en": "Paris"}
REASONING = {
    "ko": "먼저 조건을 정리하면",
    "ja": "まず条件を整理すると",
    "zh": "首先整理条件",
    "en": "First, recall the capital",
}
INVALID_MARK = "@@KV-INVALID-UTF8@@"  # replaced by the raw bytes EB 85 on the wire
INVALID_BYTES = b"\xeb\x85"


def detect_lang(text):
    """Hangul → ko, kana → ja, Han → zh, anything else → en (first match wins)."""
    if re.search("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]", text):
        return "ko"
    if re.search("[\u3040-\u30ff]", text):
        return "ja"
    if re.search("[\u3400-\u4dbf\u4e00-\u9fff]", text):
        return "zh"
    return "en"


def split_answer(text):
    """Token events of an answer: one per non-ASCII code point, ASCII runs in
    pieces of 2 characters ("Paris" → "Pa", "ri", "s")."""
    out = []
    for run in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]", text):
        if ord(run[0]) < 0x80:
            out.extend(run[i:i + 2] for i in range(0, len(run), 2))
        else:
            out.append(run)
    return out


def split_words(text):
    """Reasoning token events: one per word, with its leading space."""
    return re.findall(r"\s*\S+", text)


def text_of(content):
    """Text of a message content: a string or a list of parts/blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for p in content:
            if isinstance(p, str):
                parts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                parts.append(p["text"])
        return "".join(parts)
    return ""


def prompt_texts(route, body):
    """(user text, all input text) of a request body."""
    if not isinstance(body, dict):
        return "", ""
    user, every = [], []
    if route == "gemini":
        for c in body.get("contents") or []:
            if isinstance(c, dict):
                t = text_of(c.get("parts"))
                every.append(t)
                if c.get("role", "user") == "user":
                    user.append(t)
        si = body.get("systemInstruction") or body.get("system_instruction")
        if isinstance(si, dict):
            every.append(text_of(si.get("parts")))
    else:
        if route == "anthropic":
            every.append(text_of(body.get("system")))
        for m in body.get("messages") or []:
            if isinstance(m, dict):
                t = text_of(m.get("content"))
                every.append(t)
                if m.get("role") == "user":
                    user.append(t)
    return (user[-1] if user else ""), "".join(every)


# ---------------------------------------------------------------- script


FLAGS = {
    "ok", "overloaded-event", "reset-after-first-token", "stall", "truncate",
    "split-utf8", "comment-keepalive", "role-prelude", "reasoning", "no-usage",
    "gemini-safety", "safety", "length", "invalid-utf8", "hang", "drop",
}


def parse_behaviour(spec):
    """A behaviour from the script: "name[:params][+name[:params]…]" or an
    object {"behaviour": "…", param: value, …}. Returns (flags, params, text).
    params "k=v,k2=v2"; a bare value is the parameter "arg"."""
    if isinstance(spec, dict):
        obj = dict(spec)
        text = obj.pop("behaviour", obj.pop("do", "ok"))
        flags, params, _ = parse_behaviour(text)
        for k, v in obj.items():
            params[k.replace("_", "-")] = v
        return flags, params, json.dumps(spec, ensure_ascii=False)
    if not isinstance(spec, str):
        raise ValueError("a behaviour is a string or an object: %r" % (spec,))
    flags, params = set(), {}
    for part in spec.split("+"):
        part = part.strip()
        if not part:
            continue
        name, _, rest = part.partition(":")
        name = name.strip()
        if re.fullmatch(r"[1-5][0-9][0-9]", name):
            params["status"] = int(name)
        elif name in FLAGS:
            flags.add(name)
        else:
            raise ValueError("unknown behaviour %r in %r" % (name, spec))
        for item in filter(None, (s.strip() for s in rest.split(","))):
            k, eq, v = item.partition("=")
            if eq:
                params[k.strip()] = v.strip()
            else:
                params.setdefault("arg", k)
                if name in ("stall", "hang"):
                    params[name] = k
    if "gemini-safety" in flags:
        flags.add("safety")
    return flags, params, spec


class Script:
    """model name (or "*") → list of behaviours consumed in order. A string
    instead of a list applies to every request of that key, forever."""

    def __init__(self):
        self.lock = threading.Lock()
        self.table = {}

    def replace(self, table):
        if not isinstance(table, dict):
            raise ValueError("a script is a JSON object: key → list of behaviours")
        checked = {}
        for key, val in table.items():
            items = [val] if isinstance(val, (str, dict)) else val
            if not isinstance(items, list):
                raise ValueError("script key %r: a list of behaviours" % key)
            for it in items:
                parse_behaviour(it)  # validate now, not at request time
            checked[key] = val if isinstance(val, (str, dict)) else list(val)
        with self.lock:
            self.table = checked

    def next(self, model):
        """(key, spec) for a request naming `model`: its own entry, else "*";
        an exhausted list gives "ok"."""
        with self.lock:
            for key in (model, "*"):
                if key is None or key not in self.table:
                    continue
                val = self.table[key]
                if isinstance(val, (str, dict)):
                    return key, val
                if val:
                    return key, val.pop(0)
                return key, "ok"
        return None, "ok"

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.table))


# ---------------------------------------------------------------- protocols


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8").replace(
        INVALID_MARK.encode(), INVALID_BYTES)


def sse(data, event=None, compact=False, eid=None):
    sep = b":" if compact else b": "
    out = b""
    if eid is not None:
        out += b"id" + sep + eid.encode() + b"\n"
    if event is not None:
        out += b"event" + sep + event.encode() + b"\n"
    payload = data if isinstance(data, bytes) else jdump(data)
    return out + b"data" + sep + payload + b"\n\n"


def iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


class Ctx:
    """What a protocol needs to know about one request."""

    def __init__(self, route, model, body, seq, params, defaults):
        self.route = route
        self.model = model or "model"
        self.body = body if isinstance(body, dict) else {}
        self.seq = seq
        self.params = params
        user, every = prompt_texts(route, self.body)
        self.lang = detect_lang(user)
        self.prompt_tokens = max(1, len(every))
        self.n_tokens = 0  # token events sent so far (content + reasoning)
        self.content = []  # content text sent so far
        self.reasoning = []
        self.created = int(time.time())
        so = self.body.get("stream_options")
        self.include_usage = isinstance(so, dict) and so.get("include_usage") is True
        self.delay_ms = float(params.get("delay-ms", defaults["delay_ms"]))
        self.first_delay_ms = float(params.get("first-delay-ms", defaults["first_delay_ms"]))
        self.header_delay_ms = float(params.get("header-delay-ms", defaults["header_delay_ms"]))


class OpenAI:
    name = "openai"
    content_type = "text/event-stream; charset=utf-8"
    sse_protocol = True

    def _chunk(self, ctx, choices, usage=False):
        obj = {"id": "chatcmpl-koeval-%d" % ctx.seq, "object": "chat.completion.chunk",
               "created": ctx.created, "model": ctx.model, "system_fingerprint": None,
               "choices": choices}
        if ctx.include_usage:
            obj["usage"] = None
        if usage:
            obj["usage"] = {"prompt_tokens": ctx.prompt_tokens, "completion_tokens": ctx.n_tokens,
                            "total_tokens": ctx.prompt_tokens + ctx.n_tokens}
        return obj

    def prelude(self, ctx, flags):
        if "role-prelude" in flags:
            return [sse(self._chunk(ctx, [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                           "logprobs": None, "finish_reason": None}]))]
        return []

    def token(self, ctx, kind, text, first, flags):
        delta = {}
        if first and "role-prelude" not in flags:
            delta["role"] = "assistant"
        if kind == "reasoning":
            delta[ctx.params.get("reasoning-field", "reasoning_content")] = text
        else:
            delta["content"] = text
        return sse(self._chunk(ctx, [{"index": 0, "delta": delta, "logprobs": None,
                                      "finish_reason": None}]))

    def finish(self, ctx, reason, flags):
        fr = {"stop": "stop", "length": "length", "safety": "content_filter"}[reason]
        out = [sse(self._chunk(ctx, [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": fr}]))]
        if "no-usage" not in flags and (ctx.include_usage or "role-prelude" in flags):
            out.append(sse(self._chunk(ctx, [], usage=True)))
        out.append(b"data: [DONE]\n\n")
        return out

    def stream_error(self, ctx, etype):
        kinds = {"overloaded_error": ("server_error", "overloaded",
                                      "The server is overloaded, please try again later."),
                 "rate_limit_error": ("requests", "rate_limit_exceeded", "Rate limit reached."),
                 "api_error": ("server_error", None, "The server had an error while processing "
                                                     "your request. Sorry about that!")}
        t, code, msg = kinds.get(etype, ("server_error", etype, "error: " + etype))
        return [sse({"error": {"message": msg, "type": t, "param": None, "code": code}})]

    def error_body(self, ctx, status):
        t, code, msg = {
            429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
            400: ("invalid_request_error", None, "Invalid request."),
            401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            404: ("invalid_request_error", "model_not_found",
                  "The model `%s` does not exist." % ctx.model),
            503: ("server_error", None, "The engine is currently overloaded, please try again later."),
            529: ("server_error", "overloaded", "Overloaded."),
        }.get(status, ("server_error", None, "The server had an error while processing your request."))
        return {"error": {"message": msg, "type": t, "param": None, "code": code}}

    def whole(self, ctx, content, reasoning, reason):
        msg = {"role": "assistant", "content": content}
        if reasoning:
            msg["reasoning_content"] = reasoning
        fr = {"stop": "stop", "length": "length", "safety": "content_filter"}[reason]
        return {"id": "chatcmpl-koeval-%d" % ctx.seq, "object": "chat.completion",
                "created": ctx.created, "model": ctx.model,
                "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": fr}],
                "usage": {"prompt_tokens": ctx.prompt_tokens, "completion_tokens": ctx.n_tokens,
                          "total_tokens": ctx.prompt_tokens + ctx.n_tokens}}


class Anthropic:
    name = "anthropic"
    content_type = "text/event-stream; charset=utf-8"
    sse_protocol = True

    def _ev(self, name, obj):
        return sse(dict({"type": name}, **obj), event=name)

    def prelude(self, ctx, flags):
        ctx.block_index = -1
        ctx.block_kind = None
        usage = {"input_tokens": ctx.prompt_tokens, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": 1}
        return [self._ev("message_start", {"message": {
                    "id": "msg_koeval_%d" % ctx.seq, "type": "message", "role": "assistant",
                    "content": [], "model": ctx.model, "stop_reason": None, "stop_sequence": None,
                    "usage": usage}})] + (
            self._switch(ctx, ctx.first_kind) if ctx.first_kind else []) + [self._ev("ping", {})]

    def _close(self, ctx):
        out = []
        if ctx.block_kind == "reasoning":
            out.append(self._ev("content_block_delta", {"index": ctx.block_index, "delta": {
                "type": "signature_delta", "signature": "a29ldmFsLWxvb3BiYWNr"}}))
        if ctx.block_kind is not None:
            out.append(self._ev("content_block_stop", {"index": ctx.block_index}))
        ctx.block_kind = None
        return out

    def _switch(self, ctx, kind):
        if ctx.block_kind == kind:
            return []
        out = self._close(ctx)
        ctx.block_index += 1
        ctx.block_kind = kind
        block = ({"type": "thinking", "thinking": "", "signature": ""} if kind == "reasoning"
                 else {"type": "text", "text": ""})
        out.append(self._ev("content_block_start", {"index": ctx.block_index, "content_block": block}))
        return out

    def token(self, ctx, kind, text, first, flags):
        out = self._switch(ctx, kind)
        if kind == "reasoning":
            delta = {"type": "thinking_delta", "thinking": text}
        else:
            delta = {"type": "text_delta", "text": text}
        out.append(self._ev("content_block_delta", {"index": ctx.block_index, "delta": delta}))
        return out

    def finish(self, ctx, reason, flags):
        out = []
        if reason != "safety" and ctx.block_kind is None:
            out += self._switch(ctx, "content")
        out += self._close(ctx)
        sr = {"stop": "end_turn", "length": "max_tokens", "safety": "refusal"}[reason]
        md = {"delta": {"stop_reason": sr, "stop_sequence": None}}
        if "no-usage" not in flags:
            md["usage"] = {"output_tokens": ctx.n_tokens}
        out.append(self._ev("message_delta", md))
        out.append(self._ev("message_stop", {}))
        return out

    def stream_error(self, ctx, etype):
        msg = {"overloaded_error": "Overloaded", "rate_limit_error": "Rate limited",
               "api_error": "Internal server error"}.get(etype, etype)
        return [self._ev("error", {"error": {"type": etype, "message": msg}})]

    def error_body(self, ctx, status):
        t, msg = {
            400: ("invalid_request_error", "invalid request"),
            401: ("authentication_error", "invalid x-api-key"),
            403: ("permission_error", "permission denied"),
            404: ("not_found_error", "model: %s" % ctx.model),
            413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
            429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
            503: ("overloaded_error", "Overloaded"),
            529: ("overloaded_error", "Overloaded"),
        }.get(status, ("api_error", "Internal server error"))
        return {"type": "error", "error": {"type": t, "message": msg},
                "request_id": "req_koeval_%d" % ctx.seq}

    def whole(self, ctx, content, reasoning, reason):
        blocks = []
        if reasoning:
            blocks.append({"type": "thinking", "thinking": reasoning, "signature": "a29ldmFs"})
        if content or not reasoning:
            blocks.append({"type": "text", "text": content})
        sr = {"stop": "end_turn", "length": "max_tokens", "safety": "refusal"}[reason]
        return {"id": "msg_koeval_%d" % ctx.seq, "type": "message", "role": "assistant",
                "model": ctx.model, "content": blocks, "stop_reason": sr, "stop_sequence": None,
                "usage": {"input_tokens": ctx.prompt_tokens, "output_tokens": ctx.n_tokens}}


class Gemini:
    name = "gemini"
    content_type = "text/event-stream"
    sse_protocol = True

    def _usage(self, ctx, final):
        u = {"promptTokenCount": ctx.prompt_tokens}
        cand = len(ctx.content)
        thoughts = len(ctx.reasoning)
        if cand:
            u["candidatesTokenCount"] = cand
        if thoughts:
            u["thoughtsTokenCount"] = thoughts
        u["totalTokenCount"] = ctx.prompt_tokens + cand + thoughts
        return u

    def _chunk(self, ctx, cand, flags, final=False):
        obj = {"candidates": [cand]}
        if "no-usage" not in flags:
            obj["usageMetadata"] = self._usage(ctx, final)
        obj["modelVersion"] = ctx.model
        obj["responseId"] = "koeval-%d" % ctx.seq
        return sse(obj)

    def prelude(self, ctx, flags):
        return []

    def token(self, ctx, kind, text, first, flags):
        part = {"text": text}
        if kind == "reasoning":
            part["thought"] = True
        return self._chunk(ctx, {"content": {"parts": [part], "role": "model"}, "index": 0}, flags)

    def finish(self, ctx, reason, flags):
        if reason == "safety":
            cand = {"finishReason": "SAFETY", "index": 0, "safetyRatings": [
                {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]}
        else:
            cand = {"content": {"parts": [{"text": ""}], "role": "model"},
                    "finishReason": "STOP" if reason == "stop" else "MAX_TOKENS", "index": 0}
        return [self._chunk(ctx, cand, flags, final=True)]

    def _err(self, code, status, msg, retry_s=None):
        e = {"code": code, "message": msg, "status": status}
        if retry_s is not None:
            e["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                             "retryDelay": "%ss" % retry_s}]
        return {"error": e}

    def stream_error(self, ctx, etype):
        code, status, msg = {
            "overloaded_error": (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
            "rate_limit_error": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
        }.get(etype, (500, "INTERNAL", "An internal error has occurred."))
        return [sse(self._err(code, status, msg))]

    def error_body(self, ctx, status):
        name, msg = {
            400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
            401: ("UNAUTHENTICATED", "API key not valid."),
            403: ("PERMISSION_DENIED", "Permission denied."),
            404: ("NOT_FOUND", "models/%s is not found." % ctx.model),
            408: ("DEADLINE_EXCEEDED", "Deadline exceeded."),
            429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
            503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
            504: ("DEADLINE_EXCEEDED", "Deadline exceeded."),
            529: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
        }.get(status, ("INTERNAL", "An internal error has occurred."))
        retry = ctx.params.get("retry-after")
        body = self._err(status, name, msg, retry if status == 429 else None)
        return [body] if ctx.params.get("array") else body


class Ollama:
    name = "ollama"
    content_type = "application/x-ndjson"
    sse_protocol = False

    def prelude(self, ctx, flags):
        return []

    def token(self, ctx, kind, text, first, flags):
        msg = {"role": "assistant", "content": ""}
        if kind == "reasoning":
            msg["thinking"] = text
        else:
            msg["content"] = text
        return jdump({"model": ctx.model, "created_at": iso_now(), "message": msg, "done": False}) + b"\n"

    def finish(self, ctx, reason, flags):
        obj = {"model": ctx.model, "created_at": iso_now(),
               "message": {"role": "assistant", "content": ""}, "done": True,
               "done_reason": "length" if reason == "length" else "stop"}
        if "no-usage" not in flags:
            eval_ns = int(max(1, ctx.n_tokens) * max(ctx.delay_ms, 1.0) * 1e6)
            prompt_ns = int(max(ctx.first_delay_ms, 1.0) * 1e6)
            obj.update({"total_duration": eval_ns + prompt_ns + 1000000, "load_duration": 1000000,
                        "prompt_eval_count": ctx.prompt_tokens, "prompt_eval_duration": prompt_ns,
                        "eval_count": ctx.n_tokens, "eval_duration": eval_ns})
        return [jdump(obj) + b"\n"]

    def stream_error(self, ctx, etype):
        msg = {"overloaded_error": "server busy, please try again.  maximum pending requests exceeded",
               }.get(etype, "an error was encountered while running the model: " + etype)
        return [jdump({"error": msg}) + b"\n"]

    def error_body(self, ctx, status):
        return {"error": {
            404: 'model "%s" not found, try pulling it first' % ctx.model,
            400: "invalid request",
            429: "too many requests",
            503: "server busy, please try again.  maximum pending requests exceeded",
        }.get(status, "an error was encountered while running the model")}

    def whole(self, ctx, content, reasoning, reason):
        obj = {"model": ctx.model, "created_at": iso_now(),
               "message": {"role": "assistant", "content": content}, "done": True,
               "done_reason": "length" if reason == "length" else "stop",
               "prompt_eval_count": ctx.prompt_tokens, "eval_count": ctx.n_tokens,
               "eval_duration": int(max(1, ctx.n_tokens) * max(ctx.delay_ms, 1.0) * 1e6)}
        if reasoning:
            obj["message"]["thinking"] = reasoning
        return obj


class Clova:
    name = "clova"
    content_type = "text/event-stream;charset=UTF-8"
    sse_protocol = True

    def _ev(self, ctx, event, obj):
        ctx.eid = getattr(ctx, "eid", 0) + 1
        return sse(obj, event=event, compact=True, eid="koeval-%d-%d" % (ctx.seq, ctx.eid))

    def prelude(self, ctx, flags):
        return []

    def token(self, ctx, kind, text, first, flags):
        msg = {"role": "assistant", "content": ""}
        if kind == "reasoning":
            msg["thinkingContent"] = text
        else:
            msg["content"] = text
        return self._ev(ctx, "token", {"message": msg, "finishReason": None, "created": ctx.created,
                                       "seed": 0, "usage": None})

    def finish(self, ctx, reason, flags):
        msg = {"role": "assistant", "content": "".join(ctx.content)}
        if ctx.reasoning:
            msg["thinkingContent"] = "".join(ctx.reasoning)
        field = ctx.params.get("stop-field", "finishReason")
        res = {"message": msg, field: {"stop": "stop", "length": "length", "safety": "stop"}[reason],
               "created": ctx.created, "seed": 0, "usage": None}
        if "no-usage" not in flags:
            res["usage"] = {"promptTokens": ctx.prompt_tokens, "completionTokens": ctx.n_tokens,
                            "totalTokens": ctx.prompt_tokens + ctx.n_tokens}
        return [self._ev(ctx, "result", res), self._ev(ctx, "signal", {"data": "[DONE]"})]

    def stream_error(self, ctx, etype):
        code, msg = {"overloaded_error": ("50300", "Service unavailable - server overloaded"),
                     "rate_limit_error": ("42900", "Too many requests - rate exceeded")}.get(
                         etype, ("50000", "Internal server error"))
        return [self._ev(ctx, "error", {"status": {"code": code, "message": msg}})]

    def error_body(self, ctx, status):
        code, msg = {
            400: ("40000", "Bad request"),
            401: ("40100", "Unauthorized"),
            404: ("40400", "Not found"),
            429: ("42900", "Too many requests - rate exceeded"),
            503: ("50300", "Service unavailable"),
            529: ("52900", "Service overloaded"),
        }.get(status, ("%d00" % status, "Internal server error" if status >= 500 else "Error"))
        return {"status": {"code": code, "message": msg}}


PROTOCOLS = {"openai": OpenAI, "anthropic": Anthropic, "gemini": Gemini, "ollama": Ollama,
             "clova": Clova}

ROUTES = [  # (method, regex on the path without query, route, group giving the model or None)
    ("POST", re.compile(r"^(?:/.*)?/chat/completions$"), "openai", None),
    ("POST", re.compile(r"^(?:/.*)?/messages$"), "anthropic", None),
    ("POST", re.compile(r"^(?:/.*)?/models/([^/:]+):streamGenerateContent$"), "gemini", 1),
    ("POST", re.compile(r"^(?:/.*)?/api/chat$"), "ollama", None),
    ("POST", re.compile(r"^(?:/.*)?/chat-completions/([^/]+)$"), "clova", 1),
]

SECRET_HEADERS = {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "cookie"}


def redact(value):
    scheme = ""
    m = re.match(r"^(Bearer|Basic|Token)\s+(.*)$", value, re.I)
    if m:
        scheme, value = m.group(1) + " ", m.group(2)
    return scheme + value[:4] + "…REDACTED"


def is_secret_header(name):
    n = name.lower()
    return n in SECRET_HEADERS or "api-key" in n or "apikey" in n


def redact_path(path):
    parts = urlsplit(path)
    if not parts.query:
        return path
    q = [(k, redact(v) if k.lower() in ("key", "api_key", "apikey") else v)
         for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return parts.path + "?" + urlencode(q, safe=":…")


class ClientGone(Exception):
    pass


# ---------------------------------------------------------------- server


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "koeval-loopback/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("loopback: %s\n" % (fmt % args))

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # --- raw output -------------------------------------------------------

    def _send(self, data):
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, OSError) as e:
            raise ClientGone() from e

    def _head(self, status, headers):
        reason = {529: "Site Overloaded"}.get(status)
        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Error"
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        have = {k.lower() for k, _ in headers}
        if "date" not in have:
            headers = [("Date", email.utils.formatdate(time.time(), usegmt=True))] + headers
        headers = headers + [("Server", self.server_version)]
        lines += ["%s: %s" % kv for kv in headers]
        self._send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _json_reply(self, status, obj, extra=()):
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._head(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))] + list(extra))
        self._send(body)

    # --- request ----------------------------------------------------------

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        srv = self.server
        raw = self._read_body()
        path = urlsplit(self.path).path
        # control endpoints: not logged
        if path == "/__log" and method == "GET":
            with srv.log_lock:
                return self._json_reply(200, srv.log)
        if (path, method) in (("/__log/clear", "POST"), ("/__log", "DELETE")):
            with srv.log_lock:
                srv.log.clear()
            return self._json_reply(200, {"ok": True})
        if path == "/__script":
            if method == "GET":
                return self._json_reply(200, srv.script.snapshot())
            try:
                srv.script.replace(json.loads(raw.decode("utf-8") or "{}"))
            except (ValueError, UnicodeDecodeError) as e:
                return self._json_reply(400, {"ok": False, "error": str(e)})
            return self._json_reply(200, {"ok": True})
        if path == "/__shutdown" and method == "POST":
            self.close_connection = True
            self._json_reply(200, {"ok": True}, [("Connection", "close")])
            threading.Thread(target=srv.shutdown, daemon=True).start()
            return

        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            body = {"_raw": raw.decode("utf-8", "replace")}
        route, model = None, None
        for m, rx, name, grp in ROUTES:
            mt = rx.match(path)
            if mt and m == method:
                route = name
                if grp:
                    model = mt.group(grp)
                elif isinstance(body, dict) and isinstance(body.get("model"), str):
                    model = body["model"]
                break
        entry = {
            "seq": None, "method": method, "path": redact_path(self.path), "route": route,
            "model": model,
            "headers": {k: (redact(v) if is_secret_header(k) else v) for k, v in self.headers.items()},
            "body": body, "key": None, "behaviour": None, "status": None, "events": 0,
            "outcome": None, "t_received": time.time(), "t_received_mono": time.monotonic(),
            "t_end": None, "t_end_mono": None,
        }
        with srv.log_lock:
            srv.seq += 1
            entry["seq"] = srv.seq
            srv.log.append(entry)
        try:
            if path == "/health" and method == "GET":
                entry["status"] = 200
                self._json_reply(200, {"status": "ok"})
                entry["outcome"] = "complete"
            elif route is None:
                entry["status"] = 404
                self._json_reply(404, {"error": "no route for %s %s" % (method, path)})
                entry["outcome"] = "complete"
            else:
                key, spec = srv.script.next(model)
                entry["key"] = key
                entry["behaviour"] = spec if isinstance(spec, str) else json.dumps(spec, ensure_ascii=False)
                self._serve_chat(route, model, body, entry, spec)
        except ClientGone:
            entry["outcome"] = "client-gone"
            self.close_connection = True
        finally:
            entry["t_end"] = time.time()
            entry["t_end_mono"] = time.monotonic()

    # --- chat -------------------------------------------------------------

    def _serve_chat(self, route, model, body, entry, spec):
        srv = self.server
        flags, params, _ = parse_behaviour(spec)
        proto = PROTOCOLS[route]()
        ctx = Ctx(route, model, body, entry["seq"], params, srv.defaults)
        framing = params.get("framing", srv.framing)

        if "hang" in flags:  # nothing at all for N s, then behave as "ok"
            time.sleep(float(params.get("hang", params.get("arg", 5))))
        elif ctx.header_delay_ms > 0:
            time.sleep(ctx.header_delay_ms / 1000)

        if "drop" in flags:  # close without any response
            entry["outcome"] = "dropped"
            self._abort(rst=params.get("rst") in ("1", "true", True))
            return

        status = int(params.get("status", 200))
        if status != 200:
            entry["status"] = status
            extra = self._retry_headers(params)
            self._json_reply(status, proto.error_body(ctx, status), extra)
            entry["outcome"] = "complete"
            return

        # the answer
        if "text" in params:
            content_text = str(params["text"])
        else:
            content_text = ANSWERS[ctx.lang]
            if "split-utf8" in flags and not any(ord(c) >= 0x800 for c in content_text):
                content_text = ANSWERS["ko"]
        content = params.get("tokens")
        if isinstance(content, str):
            content = content.split("|")
        if not isinstance(content, list):
            content = split_answer(content_text)
        lang = "ko" if "split-utf8" in flags and ctx.lang == "en" else ctx.lang
        reasoning = split_words(REASONING[lang]) if ({"reasoning", "length"} & flags) else []
        reason = "stop"
        if "length" in flags:
            content, reason = [], "length"
        if "safety" in flags:
            content, reasoning, reason = [], [], "safety"
        if "invalid-utf8" in flags:
            content = content[:1] + [INVALID_MARK] + content[1:]
        tokens = [("reasoning", t) for t in reasoning] + [("content", t) for t in content]

        stream = body.get("stream") if isinstance(body, dict) else None
        if stream is not True and route in ("openai", "anthropic") or stream is False and route == "ollama":
            return self._serve_whole(proto, ctx, entry, tokens, reason, flags)

        self.chunked = framing != "close"
        headers = [("Content-Type", proto.content_type), ("Cache-Control", "no-cache")]
        if self.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Connection", "close"))
            self.close_connection = True
        if route == "openai":
            headers.append(("x-request-id", "req_koeval_%d" % ctx.seq))
        elif route == "anthropic":
            headers.append(("request-id", "req_koeval_%d" % ctx.seq))
        entry["status"] = 200
        self._head(200, headers)

        keepalive = "comment-keepalive" in flags and proto.sse_protocol
        comment = b": keepalive\n\n"
        self.split_pause = float(params.get("split-pause-ms", 50)) / 1000
        self.split_n = 0 if "split-utf8" in flags else None
        self.ctx_entry = entry

        if keepalive:
            self._write(comment, count=False)
        ctx.first_kind = tokens[0][0] if tokens and "overloaded-event" not in flags else None
        for ev in proto.prelude(ctx, flags):
            self._write(ev)
            if keepalive:
                self._write(comment, count=False)

        n = len(tokens)
        after_default = {"truncate": max(1, n // 2), "overloaded-event": 0}
        stop_at, fault = None, None
        for f in ("overloaded-event", "truncate"):
            if f in flags:
                stop_at, fault = int(params.get("after", after_default[f])), f
                break
        if ctx.first_delay_ms > 0:
            time.sleep(ctx.first_delay_ms / 1000)
        for i, (kind, text) in enumerate(tokens):
            if i == stop_at:
                return self._fault(proto, ctx, entry, fault, params)
            if i > 0 and ctx.delay_ms > 0:
                time.sleep(ctx.delay_ms / 1000)
            ctx.n_tokens += 1
            (ctx.reasoning if kind == "reasoning" else ctx.content).append(text)
            evs = proto.token(ctx, kind, text, i == 0, flags)
            evs = evs if isinstance(evs, list) else [evs]
            for j, ev in enumerate(evs):  # only the delta itself is cut by split-utf8
                self._write(ev, token=(j == len(evs) - 1))
            if keepalive:
                self._write(comment, count=False)
            if i == 0 and "reset-after-first-token" in flags:
                entry["outcome"] = "reset"
                self._abort(rst=True)
                return
            if i == 0 and "stall" in flags:
                time.sleep(float(params.get("stall", params.get("arg", 5))))
        if stop_at is not None and stop_at >= n:
            return self._fault(proto, ctx, entry, fault, params)
        if ctx.delay_ms > 0 and n:
            time.sleep(ctx.delay_ms / 1000)
        for ev in proto.finish(ctx, reason, flags):
            self._write(ev)
            if keepalive:
                self._write(comment, count=False)
        self._end()
        entry["outcome"] = "complete"

    def _fault(self, proto, ctx, entry, fault, params):
        if fault == "overloaded-event":
            for ev in proto.stream_error(ctx, params.get("type", "overloaded_error")):
                self._write(ev)
            entry["outcome"] = "stream-error"
        else:
            entry["outcome"] = "truncated"
        self._end()
        self.close_connection = True

    def _serve_whole(self, proto, ctx, entry, tokens, reason, flags):
        """A non-streamed answer (request without "stream": true): one JSON body."""
        if not hasattr(proto, "whole"):
            entry["status"] = 400
            self._json_reply(400, {"error": "this route only streams"})
            return
        content = "".join(t for k, t in tokens if k == "content")
        reasoning = "".join(t for k, t in tokens if k == "reasoning")
        ctx.n_tokens = len(tokens)
        body = jdump(proto.whole(ctx, content, reasoning, reason))
        entry["status"] = 200
        self._head(200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        self._send(body)
        entry["outcome"] = "complete"

    def _retry_headers(self, p):
        out = []
        if "retry-after" in p:
            out.append(("Retry-After", str(p["retry-after"])))
        if "retry-after-ms" in p:
            out.append(("retry-after-ms", str(p["retry-after-ms"])))
        if "retry-after-date" in p:
            now = int(time.time())
            out.append(("Date", email.utils.formatdate(now, usegmt=True)))
            out.append(("Retry-After", email.utils.formatdate(now + int(p["retry-after-date"]), usegmt=True)))
        return out

    # --- stream output ----------------------------------------------------

    def _raw(self, data):
        if self.chunked:
            data = b"%x\r\n" % len(data) + data + b"\r\n"
        self._send(data)

    def _write(self, ev, token=False, count=True):
        """One event, flushed. split-utf8 cuts the first three token events."""
        if count:
            self.ctx_entry["events"] += 1
        if token and self.split_n is not None and self.split_n < 3:
            pieces = self._split(ev, self.split_n)
            if pieces:
                self.split_n += 1
                for j, piece in enumerate(pieces):
                    if j:
                        time.sleep(self.split_pause)
                    self._raw(piece)
                return
        self._raw(ev)

    def _split(self, ev, which):
        if which == 0:  # inside a 3-byte UTF-8 character, after its 2nd byte
            for k, b in enumerate(ev):
                if b >= 0xE0 and b < 0xF0 and k + 2 < len(ev):
                    return [ev[:k + 2], ev[k + 2:]]
            return None
        if which == 1:  # in the middle of a line
            k = ev.find(b"data") + 3 if ev.find(b"data") >= 0 else len(ev) // 2
            return [ev[:k], ev[k:]]
        # CRLF line endings, split between CR and LF (NDJSON: before the LF)
        if ev.startswith(b"{"):
            return [ev[:-1], ev[-1:]]
        crlf = ev.replace(b"\n", b"\r\n")
        k = crlf.find(b"\r\n")
        return [crlf[:k + 1], crlf[k + 1:]]

    def _end(self):
        if self.chunked:
            self._send(b"0\r\n\r\n")
        else:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _abort(self, rst):
        """Close the connection now; with rst, abortively (SO_LINGER 0 → RST)."""
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, script, defaults, framing, verbose):
        super().__init__(("127.0.0.1", port), Handler)
        self.script = script
        self.defaults = defaults
        self.framing = framing
        self.verbose = verbose
        self.log = []
        self.log_lock = threading.Lock()
        self.seq = 0

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description="koeval loopback protocol test server (127.0.0.1 only)")
    ap.add_argument("--port", type=int, default=0, help="port to listen on; 0 = pick a free one")
    ap.add_argument("--script", help="JSON file: key (model name or *) → list of behaviours")
    ap.add_argument("--delay-ms", type=float, default=20, help="delay between events (default 20)")
    ap.add_argument("--first-delay-ms", type=float, default=20,
                    help="delay between the headers (and prelude events) and the first token event")
    ap.add_argument("--header-delay-ms", type=float, default=0, help="delay before the status line")
    ap.add_argument("--framing", choices=("chunked", "close"), default="chunked",
                    help="stream bodies chunked (default) or unframed with Connection: close")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    a = ap.parse_args(argv)

    script = Script()
    if a.script:
        with open(a.script, encoding="utf-8") as f:
            script.replace(json.load(f))
    defaults = {"delay_ms": a.delay_ms, "first_delay_ms": a.first_delay_ms,
                "header_delay_ms": a.header_delay_ms}
    srv = Server(a.port, script, defaults, a.framing, a.verbose)
    sys.stdout.write("PORT %d\n" % srv.server_address[1])
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
