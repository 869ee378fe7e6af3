#!/usr/bin/env python3
"""Write a random-weight qwen2-architecture GGUF model around a vocabulary-only GGUF.

The tokenizer metadata (tokens, token types, merges, special token ids, pre-tokenizer name)
and the chat template are copied from the vocabulary file; the weights are small random
values, so the model writes nonsense but tokenizes exactly like the real model family.

Needs llama.cpp's gguf-py on PYTHONPATH and numpy. make-random-model.sh sets both up.
"""
import argparse
import os
import sys

import numpy as np

import gguf

ARCH = "qwen2"
# Keys that describe the vocabulary model itself and must not be copied.
SKIP_PREFIXES = ("GGUF.", "general.", ARCH + ".")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("vocab", help="vocabulary-only GGUF (e.g. models/ggml-vocab-qwen2.gguf)")
    p.add_argument("out", help="output GGUF file")
    p.add_argument("--width", type=int, default=64, help="embedding width (default 64)")
    p.add_argument("--layers", type=int, default=2, help="transformer blocks (default 2)")
    p.add_argument("--heads", type=int, default=4, help="attention heads (default 4)")
    p.add_argument("--kv-heads", type=int, default=2, help="key/value heads (default 2)")
    p.add_argument("--ffn", type=int, default=0, help="feed-forward width (default 4*width)")
    p.add_argument("--ctx", type=int, default=4096, help="training context length (default 4096)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--scale", type=float, default=0.02, help="std of the random weights (default 0.02)")
    p.add_argument("--untied", action="store_true",
                   help="add a separate output.weight (default: the output reuses token_embd)")
    p.add_argument("--name", default=None, help="general.name (default: derived from the shape)")
    a = p.parse_args()
    if a.width <= 0 or a.layers <= 0 or a.heads <= 0 or a.kv_heads <= 0:
        p.error("width, layers, heads and kv-heads must be positive")
    if a.width % a.heads or (a.width // a.heads) % 2:
        p.error("width must be a multiple of heads with an even head size")
    if a.heads % a.kv_heads:
        p.error("heads must be a multiple of kv-heads")
    if a.ffn <= 0:
        a.ffn = 4 * a.width
    return a


def copy_vocab_fields(reader, writer):
    copied = []
    for key, field in reader.fields.items():
        if key.startswith(SKIP_PREFIXES):
            continue
        vtype = field.types[0]
        sub_type = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        if vtype == gguf.GGUFValueType.ARRAY and len(field.types) > 2:
            raise SystemExit(f"make_random_model.py: error: nested array field {key} is not supported")
        value = field.contents()
        writer.add_key_value(key, value, vtype, sub_type)
        copied.append(key)
    return copied


def main():
    a = parse_args()
    reader = gguf.GGUFReader(a.vocab)
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    if tokens is None:
        raise SystemExit(f"make_random_model.py: error: {a.vocab} has no tokenizer.ggml.tokens")
    n_vocab = len(tokens.data)
    if "tokenizer.chat_template" not in reader.fields:
        print("make_random_model.py: note: the vocabulary has no chat template; "
              "llama-server will fall back to ChatML", file=sys.stderr)

    rng = np.random.default_rng(a.seed)
    d, ff, hd = a.width, a.ffn, a.width // a.heads
    d_kv = hd * a.kv_heads

    # numpy shapes are (rows, cols) = GGUF shape reversed: a GGUF {n_in, n_out} is (n_out, n_in).
    def mat(n_out, n_in):
        return (rng.standard_normal((n_out, n_in), dtype=np.float32) * a.scale).astype(np.float16)

    def vec(n, fill=None):
        if fill is not None:
            return np.full((n,), fill, dtype=np.float32)
        return rng.standard_normal((n,), dtype=np.float32) * a.scale

    name = a.name or f"koeval random qwen2-vocab {d}x{a.layers}"
    tmp = a.out + ".tmp"
    writer = gguf.GGUFWriter(tmp, ARCH)
    writer.add_name(name)
    writer.add_context_length(a.ctx)
    writer.add_embedding_length(d)
    writer.add_block_count(a.layers)
    writer.add_feed_forward_length(ff)
    writer.add_head_count(a.heads)
    writer.add_head_count_kv(a.kv_heads)
    writer.add_rope_freq_base(1000000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    copy_vocab_fields(reader, writer)

    writer.add_tensor("token_embd.weight", mat(n_vocab, d))
    for i in range(a.layers):
        b = f"blk.{i}."
        writer.add_tensor(b + "attn_norm.weight", vec(d, 1.0))
        writer.add_tensor(b + "attn_q.weight", mat(d, d))
        writer.add_tensor(b + "attn_q.bias", vec(d))
        writer.add_tensor(b + "attn_k.weight", mat(d_kv, d))
        writer.add_tensor(b + "attn_k.bias", vec(d_kv))
        writer.add_tensor(b + "attn_v.weight", mat(d_kv, d))
        writer.add_tensor(b + "attn_v.bias", vec(d_kv))
        writer.add_tensor(b + "attn_output.weight", mat(d, d))
        writer.add_tensor(b + "ffn_norm.weight", vec(d, 1.0))
        writer.add_tensor(b + "ffn_gate.weight", mat(ff, d))
        writer.add_tensor(b + "ffn_up.weight", mat(ff, d))
        writer.add_tensor(b + "ffn_down.weight", mat(d, ff))
    writer.add_tensor("output_norm.weight", vec(d, 1.0))
    if a.untied:
        writer.add_tensor("output.weight", mat(n_vocab, d))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, a.out)
    n_params = n_vocab * d * (2 if a.untied else 1) + d + a.layers * (
        2 * d + d * d + d + 2 * (d_kv * d + d_kv) + d * d + 3 * d * ff)
    print(f"make_random_model.py: wrote {a.out}: {ARCH}, width {d}, {a.layers} layers, "
          f"{a.heads}/{a.kv_heads} heads, ffn {ff}, vocab {n_vocab}, "
          f"{n_params / 1e6:.1f}M parameters", file=sys.stderr)


if __name__ == "__main__":
    main()
