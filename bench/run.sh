#!/usr/bin/env bash
# Scores ../shared/bench/{ref,hyp}.txt (100,000 real ko/en lines) with koeval
# and prints, per run, the score, CPU seconds (user + sys, best of 5) and peak
# RSS, next to the reference implementations' figures from
# ../shared/bench/BASELINE.md (sacreBLEU 2.6.0 and rouge-score 0.1.2, which
# cannot be installed on this machine, so their recorded figures stand in for
# a same-run measurement). Usage: bench/run.sh [path/to/koeval]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
koeval=${1:-$here/../build/koeval}
data=${KOEVAL_BENCH_DATA:-$here/../../shared/bench}
[ -x "$koeval" ] || { echo "bench: build koeval first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
[ -f "$data/ref.txt" ] || { echo "bench: $data/ref.txt not found (needs ../shared/bench)" >&2; exit 2; }

# name | koeval arguments | reference CPU s | reference RSS MiB | reference score
runs=(
  "BLEU tok 13a|-m bleu|13.32|818|58.3738"
  "BLEU tok char|-m bleu -tok char|20.50|1866|74.8908"
  "chrF2|-m chrf|23.43|2535|70.2459"
  "chrF2++|-m chrf++|26.96|2807|70.7051"
  "ROUGE-L default tokenizer|-m rougeL --rouge-tokenizer default|5.01|62|0.697626"
  "ROUGE-L whitespace tokens|-m rougeL --rouge-tokenizer whitespace|6.71|62|0.803417"
  "TER, first 10,000 lines|-m ter|29.85|132|25.7544"
)

# CPU seconds (user + sys) of one run of the command, stdout to $1: the
# rusage that wait4 returns for that process alone, to the microsecond
# (/usr/bin/time rounds to 10 ms, and bash's `time` also counts the fork).
cpu_seconds() {
  python3 - "$@" <<'PY'
import os, sys
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_DUP2, out, 1)])
_, status, ru = os.wait4(pid, 0)
if status != 0:
    sys.exit("bench: %s failed" % sys.argv[2])
print("%.4f" % (ru.ru_utime + ru.ru_stime))
PY
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 10000 "$data/ref.txt" > "$tmp/ref10k"
head -n 10000 "$data/hyp.txt" > "$tmp/hyp10k"

printf '| run | koeval score | reference score | koeval CPU s | reference CPU s | ratio | koeval peak RSS | reference peak RSS |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for entry in "${runs[@]}"; do
  IFS='|' read -r name args ref_cpu ref_rss ref_score <<<"$entry"
  ref=$data/ref.txt hyp=$data/hyp.txt
  case $name in TER*) ref=$tmp/ref10k hyp=$tmp/hyp10k ;; esac
  best="" rss="" score=""
  # shellcheck disable=SC2086
  /usr/bin/time -f '%M' -o "$tmp/rss" "$koeval" score -r "$ref" -i "$hyp" $args -w 6 --format json > "$tmp/out"
  rss=$(cat "$tmp/rss")
  for _ in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    cpu=$(cpu_seconds "$tmp/out" "$koeval" score -r "$ref" -i "$hyp" $args -w 6 --format json)
    if [ -z "$best" ] || [ "$(echo "$cpu < $best" | bc -l)" = 1 ]; then best=$cpu; fi
  done
  score=$(sed -n 's/.*"corpus": \[\n*//;s/.*{"name":"[^"]*","score":\([-0-9.e]*\).*/\1/p' "$tmp/out" | head -n 1)
  [ -n "$score" ] || score=$(grep -o '"score":[-0-9.e]*' "$tmp/out" | tail -n 1 | cut -d: -f2)
  ratio=$(echo "scale=0; $ref_cpu / $best" | bc -l)
  printf '| %s | %.6f | %s | %.3f | %s | %s× | %.1f MiB | %s MiB |\n' "$name" "$score" "$ref_score" \
    "$best" "$ref_cpu" "$ratio" "$(echo "$rss / 1024" | bc -l)" "$ref_rss"
done
