#!/usr/bin/env bash
# Create a random-weight qwen2-architecture GGUF model with the real Qwen2 tokenizer.
#
#   scripts/make-random-model.sh OUT.gguf [--width N] [--layers N] [--heads N] [--kv-heads N]
#                                         [--ffn N] [--ctx N] [--seed N] [--untied]
#
# Defaults: 64 wide, 2 layers, 4 heads (2 key/value heads), feed-forward 256, seed 0, output
# tied to the token embedding (about 20 MB). Same arguments, same file.
#
# The tokenizer metadata and chat template come from models/ggml-vocab-qwen2.gguf in the
# llama.cpp source tree that scripts/llama-server.sh caches (fetched if missing, not built);
# the file is written with that tree's own gguf-py, which needs Debian's python3-numpy and
# python3-yaml (installed with apt-get when missing and running as root).
#
# Environment:
#   KOEVAL_VOCAB_GGUF   vocabulary GGUF to use instead of the one in the llama.cpp source
#   KOEVAL_CACHE, ...   as for scripts/llama-server.sh
#
# Prints the path of the model on stdout; progress on stderr; on failure one error line, exit 1.
set -euo pipefail

die() { printf 'make-random-model.sh: error: %s\n' "$*" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    ""|-*) die "usage: make-random-model.sh OUT.gguf [options] (see --help)" ;;
esac
out="$1"; shift
outdir="$(dirname "$out")"
[ -d "$outdir" ] || die "directory $outdir does not exist"

src="$("$here/llama-server.sh" --src | tail -n 1)" || exit 1
vocab="${KOEVAL_VOCAB_GGUF:-$src/models/ggml-vocab-qwen2.gguf}"
[ -f "$vocab" ] || die "vocabulary GGUF $vocab not found"
[ -d "$src/gguf-py/gguf" ] || die "no gguf-py in $src"

# A Python that has numpy and yaml (gguf-py imports both); Debian's if need be.
pick_python() {
    local py
    for py in "$(command -v python3 2>/dev/null || true)" /usr/bin/python3; do
        [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import numpy, yaml' >/dev/null 2>&1 \
            && { printf '%s\n' "$py"; return 0; }
    done
    return 1
}
if ! py="$(pick_python)"; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "python3 with numpy and yaml not found (run: sudo apt-get install python3-numpy python3-yaml)"
    fi
    printf 'make-random-model.sh: installing python3-numpy python3-yaml from Debian\n' >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 python3-numpy python3-yaml; } >&2 \
        || die "apt-get install python3-numpy python3-yaml failed"
    py="$(pick_python)" || die "python3-numpy is installed but python3 still cannot import numpy"
fi

PYTHONPATH="$src/gguf-py${PYTHONPATH:+:$PYTHONPATH}" "$py" "$here/make_random_model.py" "$vocab" "$out" "$@" \
    || die "writing $out failed"
printf '%s\n' "$out"
