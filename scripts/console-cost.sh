#!/usr/bin/env bash
# What idle consoles cost the backends, as during a busy incident: N consoles (default 50)
# of the shipped release binary, each in its own tmux pane, against one redis-server holding
# K keys (default 400000: answer:, knowledge:, user: and others) and one prometheus
# (scrape_interval 15s). After a warm-up, over S seconds (default 60), it prints:
#   - Redis main-thread time from `INFO commandstats` (usec summed over every command), as a
#     share of S, in total and per console, and the calls per second of each command;
#   - Prometheus API requests per second, from its own `prometheus_http_requests_total`.
# The reference in the same run: the same window with no console (what the script's own
# INFO calls and Prometheus' self-scrape cost).
#
#   scripts/console-cost.sh [N] [K] [S]      (WARMUP=10 s before the window; OPSDECK=path)
set -euo pipefail
N=${1:-50}
K=${2:-400000}
S=${3:-60}
WARMUP=${WARMUP:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
PPORT=$(free_port)
CLI=(redis-cli -h 127.0.0.1 -p "$RPORT")
TMUX_SOCK="$WORK/tmux.sock"
PROM_PID=

cleanup() {
    tmux -S "$TMUX_SOCK" kill-server >/dev/null 2>&1 || true
    [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
    "${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for tool in redis-server redis-cli prometheus tmux; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed: run scripts/test.sh, which installs it" >&2; exit 2; }
done

# OPSDECK=path measures another build; by default the release binary is built and measured.
if [ -z "${OPSDECK:-}" ]; then
    (cd "$ROOT" && cargo build -q --release --bin opsdeck)
    OPSDECK="${CARGO_TARGET_DIR:-$ROOT/target}/release/opsdeck"
fi

redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" --daemonize yes >/dev/null
until "${CLI[@]}" ping >/dev/null 2>&1; do sleep 0.05; done
echo "loading $K keys..."
python3 - "$K" <<'EOF' | "${CLI[@]}" --pipe >/dev/null
import sys
k = int(sys.argv[1])
out = sys.stdout
shares = [("answer:", 0.55), ("knowledge:", 0.1), ("user:", 0.1), ("session:", 0.25)]
i = 0
for prefix, share in shares:
    for j in range(int(k * share)):
        key = f"{prefix}{j}"
        out.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n$1\r\nv\r\n")
EOF
echo "redis: $("${CLI[@]}" dbsize) keys"

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["127.0.0.1:$PPORT"]
EOF
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$PPORT" --log.level=error >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
until curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null; do sleep 0.1; done

cat >"$WORK/config.toml" <<EOF
[ui]
refresh_ms = 1000
[redis]
url = "redis://127.0.0.1:$RPORT/0"
prefixes = ["answer:", "knowledge:", "user:"]
[prometheus]
url = "http://127.0.0.1:$PPORT"
[actions]
audit_log = "$WORK/audit.jsonl"
EOF

# usec and calls summed over every command, and calls per command, from INFO commandstats.
redis_stats() {
    "${CLI[@]}" info commandstats | tr -d '\r' | python3 -c '
import sys, json
out = {}
for line in sys.stdin:
    if not line.startswith("cmdstat_"):
        continue
    name, rest = line[len("cmdstat_"):].strip().split(":", 1)
    f = dict(kv.split("=") for kv in rest.split(","))
    out[name] = [int(f["calls"]), int(f["usec"])]
print(json.dumps(out))'
}
# Requests to Prometheus' HTTP API (not its /metrics), from its own counter.
prom_requests() {
    curl -sf "http://127.0.0.1:$PPORT/metrics" | python3 -c '
import sys
n = 0.0
for line in sys.stdin:
    if line.startswith("prometheus_http_requests_total{") and "handler=\"/api/" in line:
        n += float(line.rsplit(" ", 1)[1])
print(n)'
}

# One window of S seconds: prints "label calls/s usec share% prom/s per-command".
measure() {
    local label=$1 consoles=$2 r0 r1 p0 p1 t0 t1
    t0=$(date +%s.%N)
    r0=$(redis_stats)
    p0=$(prom_requests)
    sleep "$S"
    r1=$(redis_stats)
    p1=$(prom_requests)
    t1=$(date +%s.%N)
    # Rates over the window as it was (a loaded machine stretches it), not over S.
    python3 - "$label" "$consoles" "$(python3 -c "print($t1 - $t0)")" "$r0" "$r1" "$p0" "$p1" <<'EOF'
import sys, json
label, n, s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
r0, r1 = json.loads(sys.argv[4]), json.loads(sys.argv[5])
p0, p1 = float(sys.argv[6]), float(sys.argv[7])
per = {}
for name, (calls, usec) in r1.items():
    c0, u0 = r0.get(name, [0, 0])
    if calls - c0:
        per[name] = (calls - c0, usec - u0)
calls = sum(c for c, _ in per.values())
usec = sum(u for _, u in per.values())
share = usec / (s * 1e6) * 100
prom = (p1 - p0) / s
print(f"{label:<12} {n:>8} {calls / s:>10.1f} {share:>11.4f}% {prom:>10.2f}   ({s:.1f} s window)")
if n:
    print(f"{'  per console':<12} {'':>8} {calls / s / n:>10.2f} {share / n:>11.4f}% {prom / n:>10.3f}")
print("    " + "  ".join(f"{k} {c / s:.2f}/s {u / 1000:.1f}ms" for k, (c, u) in sorted(per.items())))
EOF
}

printf '%-12s %8s %10s %12s %10s\n' window consoles "redis cmd/s" "redis thread" "prom req/s"
measure "no console" 0

tmux -S "$TMUX_SOCK" new-session -d -s cost -x 160 -y 48 "sleep 100000"
for i in $(seq 1 "$N"); do
    tmux -S "$TMUX_SOCK" new-window -t cost -d \
        "env -i PATH=/usr/bin:/bin TERM=xterm-256color LANG=C.UTF-8 HOME=$WORK $OPSDECK --config $WORK/config.toml 2>>$WORK/console-$i.err"
done
sleep "$WARMUP"
alive=$(pgrep -fc "^$OPSDECK --config $WORK/config.toml" || true)
[ "$alive" = "$N" ] || { echo "error: $alive of $N consoles running; see $WORK/console-*.err" >&2; cat "$WORK"/console-*.err >&2; exit 1; }
measure "$N consoles" "$N"
