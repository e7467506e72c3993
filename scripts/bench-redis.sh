#!/usr/bin/env bash
# Warmup and invalidation throughput of opsdeck against redis-cli on the same throwaway
# redis-server and the same data, with SLOWLOG (10 ms) read during opsdeck's invalidation.
#
#   scripts/bench-redis.sh [N]          N entries, default 500000
#   BENCH_PROFILE=dev scripts/...       debug build (slower; release is the default)
set -euo pipefail
N=${1:-500000}
PROFILE=${BENCH_PROFILE:-release}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CLI=(redis-cli -h 127.0.0.1 -p "$PORT")

cleanup() { "${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [ "$PROFILE" = release ]; then FLAG=--release; DIR=release; else FLAG=; DIR=debug; fi
(cd "$ROOT" && cargo build -q $FLAG --example bench_redis)
BENCH="${CARGO_TARGET_DIR:-$ROOT/target}/$DIR/examples/bench_redis"

redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize yes >/dev/null
until "${CLI[@]}" ping >/dev/null 2>&1; do sleep 0.05; done
URL="redis://127.0.0.1:$PORT/0"

echo "generating $N entries..."
python3 "$ROOT/scripts/bench-gen.py" "$N" "$WORK"
now() { date +%s.%N; }
rate() { python3 -c "import sys; n,s=float(sys.argv[1]),float(sys.argv[2]); print(f'{n:.0f} {s:.3f} {n/s:.0f}')" "$1" "$2"; }

# The bench server is private to this script; emptying it between runs is fine here.
"${CLI[@]}" flushall >/dev/null
t0=$(now); "${CLI[@]}" --pipe < "$WORK/warmup.resp" >/dev/null; t1=$(now)
read -r pipe_n pipe_s pipe_r < <(rate "$("${CLI[@]}" dbsize)" "$(echo "$t1 - $t0" | bc)")
"${CLI[@]}" flushall >/dev/null
read -r ours_n ours_s ours_r < <("$BENCH" warmup "$URL" "$WORK/warmup.jsonl")
[ "$("${CLI[@]}" dbsize)" = "$N" ] || { echo "warmup wrote $("${CLI[@]}" dbsize) keys, expected $N" >&2; exit 1; }

# Invalidation: the keys are in place from opsdeck's warmup (identical to redis-cli's).
t0=$(now)
"${CLI[@]}" --scan --pattern 'answer:*' | xargs -n 1000 "${CLI[@]}" unlink >/dev/null
t1=$(now)
read -r xargs_n xargs_s xargs_r < <(rate "$N" "$(echo "$t1 - $t0" | bc)")
[ "$("${CLI[@]}" dbsize)" = 0 ] || { echo "xargs left keys" >&2; exit 1; }
"${CLI[@]}" --pipe < "$WORK/warmup.resp" >/dev/null
"${CLI[@]}" config set slowlog-log-slower-than 10000 >/dev/null
"${CLI[@]}" slowlog reset >/dev/null
read -r inv_n inv_s inv_r < <("$BENCH" invalidate "$URL" 'answer:*' "${MAX_KEYS_PER_SEC:-0}")
slow=$("${CLI[@]}" slowlog len)
# What landed there, if anything: microseconds and the command with its first argument.
slow_entries=$("${CLI[@]}" --json slowlog get 128 | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    args = e[3]
    first = args[1] if len(args) > 1 else ""
    print(f"  {e[2]} us: {args[0]} {first} ({len(args)} args)")
' || true)
[ "$("${CLI[@]}" dbsize)" = 0 ] || { echo "opsdeck invalidate left keys" >&2; exit 1; }

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}x')" "$1" "$2"; }
printf '\n%-12s %12s %10s %12s   %12s %10s %12s   %s\n' "" "opsdeck" "s" "keys/s" "redis-cli" "s" "keys/s" "ratio"
printf '%-12s %12s %10s %12s   %12s %10s %12s   %s\n' warmup "$ours_n" "$ours_s" "$ours_r" "$pipe_n" "$pipe_s" "$pipe_r" "$(ratio "$ours_r" "$pipe_r") (target >= 0.9x, vs --pipe)"
printf '%-12s %12s %10s %12s   %12s %10s %12s   %s\n' invalidate "$inv_n" "$inv_s" "$inv_r" "$xargs_n" "$xargs_s" "$xargs_r" "$(ratio "$inv_r" "$xargs_r") (target >= 2.5x, vs --scan|xargs)"
echo "slowlog entries >= 10 ms during opsdeck invalidation: $slow"
[ -z "$slow_entries" ] || echo "$slow_entries"
echo "build profile: $PROFILE; max_keys_per_sec: ${MAX_KEYS_PER_SEC:-0} (0 = no ceiling)"
