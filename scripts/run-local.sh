#!/usr/bin/env bash
# Runs koeval's starter suite against a local llama.cpp server and prints the
# per-language table: the README's main command.
#   scripts/run-local.sh [koeval run options…]
# It gets llama-server (scripts/llama-server.sh: built once, then cached), a
# small model (../shared/models when present, else a random-weight Qwen2
# model made by scripts/make-random-model.sh), starts the server on a free
# 127.0.0.1 port, runs `koeval run`, and stops the server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
koeval=${KOEVAL:-$root/build/koeval}
cache=${KOEVAL_CACHE:-$HOME/.cache/koeval}
[ -x "$koeval" ] || { echo "run-local.sh: build koeval first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }

server=$("$here/llama-server.sh" | tail -n 1)
model=${KOEVAL_MODEL:-}
if [ -z "$model" ]; then
  if [ -f "$root/../shared/models/stories260K.gguf" ]; then
    model="$root/../shared/models/stories260K.gguf"
  else
    model="$cache/random-qwen2-64x2.gguf"
    [ -f "$model" ] || "$here/make-random-model.sh" "$model" >/dev/null
  fi
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp -t koeval-llama-server.XXXXXX.log)
"$server" -m "$model" --host 127.0.0.1 --port "$port" -c 4096 --parallel 4 --no-jinja >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "run-local.sh: llama-server exited:" >&2; tail -n 20 "$log" >&2; exit 1; fi
  sleep 0.1
done
echo "run-local.sh: llama-server $(basename "$model") on 127.0.0.1:$port" >&2
"$koeval" run "$root/corpora/starter/starter.jsonl" \
  --model "openai:$(basename "$model" .gguf)@http://127.0.0.1:$port/v1" \
  --db "${KOEVAL_DB:-koeval.db}" --concurrency 4 --max-tokens 24 --temperature 0 "$@"
