#!/usr/bin/env bash
# selftest.sh — starts the loopback test server on a free port, exercises each
# route and the scripted behaviours with curl, checks the bytes with grep, and
# stops the server. Exit status 0 when every check passes.
#   tests/server/selftest.sh        (needs python3 and curl; nothing else)
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fails=0
pass=0
check() { # check NAME COMMAND… : the command must succeed
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        echo "FAIL: $name"
        fails=$((fails + 1))
    fi
}
has() { LC_ALL=C grep -aq -- "$2" "$1"; }          # has FILE PATTERN
lacks() { ! LC_ALL=C grep -aq -- "$2" "$1"; }      # lacks FILE PATTERN
count_is() { [ "$(LC_ALL=C grep -ac -- "$2" "$1")" = "$3" ]; }

cat >"$tmp/script.json" <<'EOF'
{"m-429": ["429:retry-after=1", "ok"],
 "m-529": ["529", "529", "ok"],
 "m-midstream": ["overloaded-event", "ok"],
 "m-reset": ["reset-after-first-token", "ok"],
 "m-stall": ["stall:5"],
 "m-trunc": ["truncate", "ok"],
 "m-split": ["split-utf8"],
 "m-safety": ["gemini-safety"],
 "m-http-date": ["429:retry-after-date=2", "ok"],
 "m-500": ["500","500","500","500","500","500"]}
EOF

python3 "$here/loopback.py" --port 0 --script "$tmp/script.json" >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
port=
for _ in $(seq 50); do
    port=$(sed -n '1s/^PORT \([0-9][0-9]*\)$/\1/p' "$tmp/stdout")
    [ -n "$port" ] && break
    sleep 0.1
done
if [ -z "$port" ]; then
    echo "FAIL: the server printed no PORT line"; cat "$tmp/stderr"; exit 1
fi
base=http://127.0.0.1:$port
echo "server pid $pid on port $port"

ko='"messages":[{"role":"user","content":"한국의 수도는 어디입니까?"}]'
en='"messages":[{"role":"user","content":"What is the capital of France?"}]'
post() { # post OUTFILE PATH JSON [curl options…]
    local out=$1 path=$2 json=$3
    shift 3
    curl -sN "$@" -o "$out" "$base$path" -H 'Content-Type: application/json' --data-binary "$json"
}

# --- health and routes
check "health" sh -c "curl -s $base/health | grep -q '\"ok\"'"

post "$tmp/oa" /v1/chat/completions "{\"model\":\"gpt-x\",\"stream\":true,\"stream_options\":{\"include_usage\":true},$ko}" \
    -H 'Authorization: Bearer sk-test-SECRET-0123'
check "openai: Korean answer" has "$tmp/oa" '"content":"서"'
check "openai: chunk object" has "$tmp/oa" '"object":"chat.completion.chunk"'
check "openai: finish_reason stop" has "$tmp/oa" '"finish_reason":"stop"'
check "openai: usage chunk (5 token events)" has "$tmp/oa" '"choices":\[\],"usage":{"prompt_tokens":[0-9]*,"completion_tokens":5,'
check "openai: [DONE]" has "$tmp/oa" '^data: \[DONE\]$'
check "openai: 5 token events" count_is "$tmp/oa" '"delta":{[^}]*"content":"[^"]' 5

post "$tmp/oa2" /v1/chat/completions "{\"model\":\"gpt-x\",\"stream\":true,$en}"
check "openai: no usage unless include_usage" lacks "$tmp/oa2" '"completion_tokens"'
check "openai: English answer" has "$tmp/oa2" '"content":"Pa"'

post "$tmp/an" /v1/messages "{\"model\":\"claude-x\",\"max_tokens\":64,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"日本の首都はどこですか\"}]}" \
    -H 'x-api-key: sk-ant-SECRET-4567'
for ev in message_start content_block_start ping content_block_delta content_block_stop message_delta message_stop; do
    check "anthropic: event $ev" has "$tmp/an" "^event: $ev$"
done
check "anthropic: Japanese answer" has "$tmp/an" '"text_delta","text":"東"'
check "anthropic: input_tokens" has "$tmp/an" '"usage":{"input_tokens":[0-9]'
check "anthropic: output_tokens 4" has "$tmp/an" '"stop_reason":"end_turn".*"output_tokens":4'

post "$tmp/ge" "/v1beta/models/gemini-x:streamGenerateContent?alt=sse" \
    '{"contents":[{"role":"user","parts":[{"text":"中国的首都是哪里"}]}]}' -H 'x-goog-api-key: AIzaSECRET89'
check "gemini: Chinese answer" has "$tmp/ge" '"parts":\[{"text":"北"}\]'
check "gemini: finishReason STOP" has "$tmp/ge" '"finishReason":"STOP"'
check "gemini: usageMetadata" has "$tmp/ge" '"candidatesTokenCount":2,"totalTokenCount":'

post "$tmp/ol" /api/chat "{\"model\":\"qwen2.5:7b\",$en}"
check "ollama: NDJSON lines" count_is "$tmp/ol" '^{"model":"qwen2.5:7b"' 4
check "ollama: done false" has "$tmp/ol" '"done":false'
check "ollama: final line" has "$tmp/ol" '"done":true,"done_reason":"stop".*"eval_count":3,"eval_duration":[0-9]'
check "ollama: not SSE" lacks "$tmp/ol" '^data:'

post "$tmp/cl" /v3/chat-completions/HCX-005 "{$ko}" -H 'Authorization: Bearer nv-SECRET-abcdef'
check "clova: token events" count_is "$tmp/cl" '^event:token$' 5
check "clova: result event" has "$tmp/cl" '"content":"서울입니다"}.*"completionTokens":5'
check "clova: signal [DONE]" has "$tmp/cl" '^data:{"data":"\[DONE\]"}$'

# --- scripted faults
curl -s -D "$tmp/h429" -o "$tmp/b429" "$base/v1/messages" --data-binary "{\"model\":\"m-429\",\"stream\":true,$ko}"
check "429: status" has "$tmp/h429" '^HTTP/1.1 429 '
check "429: Retry-After 1" has "$tmp/h429" '^Retry-After: 1'
check "429: anthropic rate_limit_error" has "$tmp/b429" '"rate_limit_error"'
post "$tmp/a429" /v1/messages "{\"model\":\"m-429\",\"stream\":true,$ko}"
check "429 then ok" has "$tmp/a429" '^event: message_stop$'

curl -s -D "$tmp/hdate" -o /dev/null "$base/v1/chat/completions" --data-binary "{\"model\":\"m-http-date\",\"stream\":true,$ko}"
d=$(sed -n 's/^Date: \(.*\)\r$/\1/p' "$tmp/hdate")
ra=$(sed -n 's/^Retry-After: \(.*\)\r$/\1/p' "$tmp/hdate")
check "429: Retry-After HTTP-date = Date + 2 s" \
    test "$(( $(date -d "$ra" +%s) - $(date -d "$d" +%s) ))" = 2

curl -s -H 'Content-Type: application/json' "$base/__script" -d '{"m-ms":["429:retry-after-ms=1500"]}' >"$tmp/scr"
check "POST /__script" has "$tmp/scr" '"ok": true'
curl -s -D "$tmp/hms" -o /dev/null "$base/v1/chat/completions" --data-binary "{\"model\":\"m-ms\",\"stream\":true,$ko}"
check "429: retry-after-ms" has "$tmp/hms" '^retry-after-ms: 1500'
curl -s -H 'Content-Type: application/json' "$base/__script" --data-binary @"$tmp/script.json" >/dev/null

for i in 1 2 3; do
    curl -s -D "$tmp/h529.$i" -o "$tmp/b529.$i" "$base/v1/messages" --data-binary "{\"model\":\"m-529\",\"stream\":true,$ko}"
done
check "529: status" has "$tmp/h529.1" '^HTTP/1.1 529 '
check "529: overloaded_error body" has "$tmp/b529.2" '"type": "overloaded_error"'
check "529, 529, then ok" has "$tmp/b529.3" '^event: message_stop$'

for i in 1 2 3 4 5 6; do
    curl -s -D "$tmp/h500.$i" -o "$tmp/b500.$i" "$base/v3/chat-completions/m-500" --data-binary "{$ko}"
done
check "500: clova error body" has "$tmp/b500.6" '"status": {"code": "50000"'
check "500: status" has "$tmp/h500.6" '^HTTP/1.1 500 '

post "$tmp/mid" /v1/messages "{\"model\":\"m-midstream\",\"stream\":true,$ko}" -D "$tmp/hmid"
check "overloaded-event: HTTP 200" has "$tmp/hmid" '^HTTP/1.1 200 '
check "overloaded-event: event: error" has "$tmp/mid" '^event: error$'
check "overloaded-event: overloaded_error" has "$tmp/mid" '"type":"overloaded_error"'
check "overloaded-event: no message_stop" lacks "$tmp/mid" 'message_stop'

post "$tmp/rst" /v1/chat/completions "{\"model\":\"m-reset\",\"stream\":true,$ko}"
rc=$?
check "reset: curl sees a reset (56)" test "$rc" = 56
check "reset: one token before" count_is "$tmp/rst" '"content":"서"' 1

post "$tmp/stall" /api/chat "{\"model\":\"m-stall\",$ko}" -m 1
rc=$?
check "stall: client timeout (28)" test "$rc" = 28
check "stall: one event before" count_is "$tmp/stall" '"done":false' 1

post "$tmp/tr" /v1/chat/completions "{\"model\":\"m-trunc\",\"stream\":true,$ko}"
rc=$?
check "truncate: transfer completes (0)" test "$rc" = 0
check "truncate: some events" has "$tmp/tr" '"content":"서"'
check "truncate: no [DONE]" lacks "$tmp/tr" 'DONE'
check "truncate: no finish_reason" lacks "$tmp/tr" '"finish_reason":"stop"'

post "$tmp/sp" /v1/chat/completions "{\"model\":\"m-split\",\"stream\":true,$en}" --raw
check "split-utf8: chunk ends inside 서 (EC 84 | 9C)" has "$tmp/sp" $'\xec\x84\r$'
check "split-utf8: a line split after 'dat'" has "$tmp/sp" $'^dat\r$'
check "split-utf8: CRLF split between CR and LF" has "$tmp/sp" $'}\r\r$'
check "split-utf8: stream still ends" has "$tmp/sp" '^data: \[DONE\]'

post "$tmp/sf" "/v1beta/models/m-safety:streamGenerateContent?alt=sse" '{"contents":[{"role":"user","parts":[{"text":"x"}]}]}'
check "gemini-safety: SAFETY" has "$tmp/sf" '"finishReason":"SAFETY"'
check "gemini-safety: no text" lacks "$tmp/sf" '"text"'

curl -s "$base/__script" --data-binary '{"m-mix":["role-prelude+reasoning+comment-keepalive:delay-ms=1"],"m-nu":["no-usage"],"m-len":["length"],"m-bad":["invalid-utf8"],"m-gerr":["503:array=1"]}' >/dev/null
post "$tmp/mix" /v1/chat/completions "{\"model\":\"m-mix\",\"stream\":true,$ko}"
check "role-prelude: role-only first chunk" has "$tmp/mix" '"delta":{"role":"assistant","content":""}'
check "role-prelude: usage-only chunk" has "$tmp/mix" '"choices":\[\],"usage":{'
check "reasoning: reasoning_content deltas" has "$tmp/mix" '"reasoning_content":"먼저"'
check "reasoning: before content" sh -c "LC_ALL=C grep -an 'reasoning_content\":\"먼저' '$tmp/mix' | cut -d: -f1 | { read r; c=\$(LC_ALL=C grep -an '\"content\":\"서' '$tmp/mix' | cut -d: -f1); [ \"\$r\" -lt \"\$c\" ]; }"
check "comment-keepalive: comments" has "$tmp/mix" '^: keepalive$'
post "$tmp/nu" /v1/chat/completions "{\"model\":\"m-nu\",\"stream\":true,\"stream_options\":{\"include_usage\":true},$ko}"
check "no-usage: no usage chunk" lacks "$tmp/nu" '"completion_tokens"'
check "no-usage: still [DONE]" has "$tmp/nu" 'DONE'
post "$tmp/len" /v1/chat/completions "{\"model\":\"m-len\",\"stream\":true,$ko}"
check "length: finish_reason length" has "$tmp/len" '"finish_reason":"length"'
check "length: no content" lacks "$tmp/len" '"content":"[^"]'
check "length: reasoning only" has "$tmp/len" '"reasoning_content":'
post "$tmp/bad" /v1/chat/completions "{\"model\":\"m-bad\",\"stream\":true,$ko}"
check "invalid-utf8: raw EB 85 in a JSON string" has "$tmp/bad" $'"content":"\xeb\x85"'
curl -s -o "$tmp/gerr" "$base/v1beta/models/m-gerr:streamGenerateContent?alt=sse" -d '{}'
check "503: gemini error wrapped in an array" has "$tmp/gerr" '^\[{"error": {"code": 503,.*"UNAVAILABLE"'

# --- the request log
curl -s "$base/__log" >"$tmp/log"
check "log: JSON array" python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), list)' "$tmp/log"
check "log: 3 attempts of m-529" python3 -c '
import json,sys; L=json.load(open(sys.argv[1]))
assert sum(1 for e in L if e["model"] == "m-529") == 3
assert [e["status"] for e in L if e["model"] == "m-529"] == [529, 529, 200]' "$tmp/log"
check "log: keys redacted" lacks "$tmp/log" 'SECRET'
check "log: first 4 chars kept" has "$tmp/log" 'Bearer sk-t…REDACTED'
check "log: x-api-key redacted" has "$tmp/log" '"sk-a…REDACTED"'
check "log: body recorded" has "$tmp/log" '"include_usage": true'
check "log: behaviour recorded" has "$tmp/log" '"behaviour": "reset-after-first-token"'
curl -s -X POST "$base/__log/clear" >/dev/null
check "log: cleared" sh -c "curl -s $base/__log | grep -qx '\\[\\]'"

# --- shutdown
curl -s -X POST "$base/__shutdown" >/dev/null
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
check "POST /__shutdown stops the server" sh -c "! kill -0 $pid"

echo "selftest: $pass passed, $fails failed"
[ "$fails" = 0 ]
