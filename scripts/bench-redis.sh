#!/usr/bin/env bash
# The shipped release binary, end to end, against redis-cli on a throwaway redis-server:
#
#   invalidation  `opsdeck invalidate --group bench --yes` (patterns answer:* and knowledge:*,
#                 [actions.invalidate] max_keys_per_sec = 0: no ceiling) on T target keys
#                 among T other keys, beside `redis-cli --scan --pattern P | xargs -n 1000
#                 redis-cli unlink` run for each pattern; the same data reloaded before each
#                 run; SLOWLOG entries >= 10 ms during opsdeck's run.
#   warmup        `opsdeck warmup --file F` (every other line with an object context) beside
#                 `redis-cli --pipe` of the same SETs, which of the two goes first alternating
#                 from run to run.
#
# Each timing covers the whole process: start, config, connect, work, audit, exit.
#
#   scripts/bench-redis.sh [T] [W]      T target keys (default 200000), W warmup entries
#                                       (default 200000); RUNS=3 runs of each (a shared
#                                       machine's noise wants more: RUNS=9)
set -euo pipefail
T=${1:-200000}
W=${2:-200000}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CLI=(redis-cli -h 127.0.0.1 -p "$PORT")

cleanup() { "${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && cargo build -q --release --bin opsdeck)
OPSDECK="${CARGO_TARGET_DIR:-$ROOT/target}/release/opsdeck"

redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize yes >/dev/null
until "${CLI[@]}" ping >/dev/null 2>&1; do sleep 0.05; done

echo "generating $T targets among $T other keys, and $W warmup entries..."
python3 "$ROOT/scripts/bench-gen.py" "$WORK" "$W" "$T"
CONFIG="$WORK/config.toml"
cat >"$CONFIG" <<EOF
[redis]
url = "redis://127.0.0.1:$PORT/0"
[actions]
audit_log = "$WORK/audit.jsonl"
[actions.invalidate]
max_keys_per_sec = 0
[[actions.invalidate.groups]]
name = "bench"
patterns = ["answer:*", "knowledge:*"]
EOF

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
dbsize() { "${CLI[@]}" dbsize; }
expect_size() { [ "$(dbsize)" = "$1" ] || { echo "$2: $(dbsize) keys, expected $1" >&2; exit 1; }; }
# The bench server is private to this script; emptying it between runs is fine here.
load() { "${CLI[@]}" flushall >/dev/null; "${CLI[@]}" --pipe <"$1" >/dev/null; }

echo
echo "invalidation: $T of $((2 * T)) keys, group of 2 patterns, no ceiling"
printf '%-5s %14s %12s %8s   %s\n' run "redis-cli (s)" "opsdeck (s)" ratio "slowlog >= 10 ms"
inv_ratios=()
for run in $(seq "$RUNS"); do
    load "$WORK/keyspace.resp"
    expect_size $((2 * T)) "keyspace"
    t0=$(now)
    for p in 'answer:*' 'knowledge:*'; do
        "${CLI[@]}" --scan --pattern "$p" | xargs -r -n 1000 "${CLI[@]}" unlink >/dev/null
    done
    t1=$(now)
    ref=$(secs "$t0" "$t1")
    expect_size "$T" "redis-cli --scan | xargs unlink"

    load "$WORK/keyspace.resp"
    "${CLI[@]}" config set slowlog-log-slower-than 10000 >/dev/null
    "${CLI[@]}" slowlog reset >/dev/null
    t0=$(now)
    "$OPSDECK" --config "$CONFIG" invalidate --group bench --yes >"$WORK/inv.out" 2>&1 ||
        { cat "$WORK/inv.out" >&2; exit 1; }
    t1=$(now)
    ours=$(secs "$t0" "$t1")
    slow=$("${CLI[@]}" slowlog len)
    expect_size "$T" "opsdeck invalidate"
    r=$(ratio "$ref" "$ours")
    inv_ratios+=("$r")
    printf '%-5s %14s %12s %7sx   %s\n' "$run" "$ref" "$ours" "$r" "$slow"
    if [ "$slow" != 0 ]; then
        "${CLI[@]}" --json slowlog get 128 | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    args = e[3]
    first = args[1] if len(args) > 1 else ""
    print(f"      {e[2]} us: {args[0]} {first} ({len(args)} args)")
' || true
    fi
done
echo "opsdeck said: $(tail -n 1 "$WORK/inv.out")"

echo
echo "warmup: $W entries"
printf '%-5s %14s %12s %8s\n' run "--pipe (s)" "opsdeck (s)" ratio
warm_ratios=()
warm_pipe() {
    "${CLI[@]}" flushall >/dev/null
    local t0 t1
    t0=$(now)
    "${CLI[@]}" --pipe <"$WORK/warmup.resp" >/dev/null
    t1=$(now)
    ref=$(secs "$t0" "$t1")
    expect_size "$W" "redis-cli --pipe"
}
warm_ours() {
    "${CLI[@]}" flushall >/dev/null
    local t0 t1
    t0=$(now)
    "$OPSDECK" --config "$CONFIG" warmup --file "$WORK/warmup.jsonl" >"$WORK/warm.out" 2>&1 ||
        { cat "$WORK/warm.out" >&2; exit 1; }
    t1=$(now)
    ours=$(secs "$t0" "$t1")
    expect_size "$W" "opsdeck warmup"
}
for run in $(seq "$RUNS"); do
    # Every other run opsdeck goes first, so neither side always meets the server fresh.
    if ((run % 2)); then warm_pipe; warm_ours; else warm_ours; warm_pipe; fi
    r=$(ratio "$ref" "$ours")
    warm_ratios+=("$r")
    printf '%-5s %14s %12s %7sx\n' "$run" "$ref" "$ours" "$r"
done
echo "opsdeck said: $(tail -n 1 "$WORK/warm.out")"

echo
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "invalidation ratios (redis-cli s / opsdeck s, goal >= 2.5): ${inv_ratios[*]} (median $(median "${inv_ratios[@]}"))"
echo "warmup ratios (--pipe s / opsdeck s, goal >= 0.9): ${warm_ratios[*]} (median $(median "${warm_ratios[@]}"))"
echo "redis-server $(redis-server --version | grep -o 'v=[^ ]*'), $(nproc) cores"
