#!/usr/bin/env bash
# Chaos under a running console: Redis and Prometheus killed (SIGKILL) and restarted a
# dozen times each within two minutes, then checks and figures:
#   panic     none in the console's pane or stderr, and the process still alive
#   fresh     seconds from the last restart until the status bar shows "● prometheus Ns"
#             and "● redis Ns" with N <= 2 again, and until `opsdeck snapshot --json` on the
#             same config says ok for both (limit: 30 s)
#   RSS       VmRSS of the console sampled every 5 s: first, max, last
#
# Everything runs on free loopback ports in a temporary directory: redis-server (no
# persistence), prometheus (its TSDB kept across restarts, scraping every second), and a
# static exporter (python3 -m http.server serving tests/fixtures/prometheus/exporter.txt).
# The console is the release build in a 120x40 tmux pane. Not run in CI.
#
# usage: scripts/chaos.sh
#        CHAOS_ROUNDS=12     kills per server
#        CHAOS_WINDOW_S=120  all kills and restarts happen within this many seconds
#        CHAOS_SETTLE_S=30   RSS keeps being sampled this long after recovery
#        CHAOS_SEED=N        the schedule's random seed (printed; reuse it to replay)
#        OPSDECK_BIN=PATH    a binary to use instead of building --release
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds=${CHAOS_ROUNDS:-12}
window_s=${CHAOS_WINDOW_S:-120}
settle_s=${CHAOS_SETTLE_S:-30}
seed=${CHAOS_SEED:-$RANDOM}
fresh_limit_s=30
fresh_age_s=2

for cmd in redis-server redis-cli prometheus tmux python3 awk; do
    command -v "$cmd" >/dev/null 2>&1 || {
        echo "error: $cmd is needed (scripts/test.sh installs it)" >&2
        exit 1
    }
done

if [[ -n ${OPSDECK_BIN:-} ]]; then
    bin=$OPSDECK_BIN
else
    cargo build --release --quiet
    bin=${CARGO_TARGET_DIR:-$PWD/target}/release/opsdeck
fi
[[ -x $bin ]] || {
    echo "error: no binary at $bin" >&2
    exit 1
}
bin=$(realpath "$bin")

work=$(mktemp -d)
sock=$work/tmux.sock
tmux_() { tmux -u -S "$sock" -f /dev/null "$@"; }
redis_pid='' prom_pid='' exporter_pid='' sampler_pid=''
stop_pid() {
    [[ -n $1 ]] || return 0
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    tmux_ kill-server 2>/dev/null || true
    stop_pid "$sampler_pid"
    stop_pid "$redis_pid"
    stop_pid "$prom_pid"
    stop_pid "$exporter_pid"
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
redis_port=$(free_port)
prom_port=$(free_port)
exporter_port=$(free_port)
mkdir -p "$work/redis" "$work/prom" "$work/exporter" "$work/home"
cp tests/fixtures/prometheus/exporter.txt "$work/exporter/metrics.txt"

start_redis() {
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$work/redis" >>"$work/redis.log" 2>&1 &
    redis_pid=$!
}
start_prometheus() {
    prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom/data" \
        --web.listen-address="127.0.0.1:$prom_port" >>"$work/prom.log" 2>&1 &
    prom_pid=$!
}
wait_until() { # SECONDS COMMAND...: true once COMMAND succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}
redis_up() { redis-cli -p "$redis_port" ping | grep -q PONG; }
prom_scraped() {
    python3 - "$prom_port" <<'EOF'
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query=up"
r = json.load(urllib.request.urlopen(url, timeout=1))["data"]["result"]
sys.exit(0 if r and all(s["value"][1] == "1" for s in r) else 1)
EOF
}

cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: platform
    metrics_path: /metrics.txt
    static_configs:
      - targets: ['127.0.0.1:$exporter_port']
EOF
cat >"$work/config.toml" <<EOF
[ui]
refresh_ms = 1000

[prometheus]
url = "http://127.0.0.1:$prom_port"
timeout_ms = 2000

[redis]
url = "redis://127.0.0.1:$redis_port/0"

[actions]
audit_log = "$work/audit.jsonl"
EOF

python3 -m http.server "$exporter_port" --bind 127.0.0.1 --directory "$work/exporter" \
    >"$work/exporter.log" 2>&1 &
exporter_pid=$!
start_redis
start_prometheus
wait_until 15 redis_up || {
    echo "error: redis-server did not start: $(tail -5 "$work/redis.log")" >&2
    exit 1
}
for i in $(seq 1 200); do
    printf 'SET answer:%032x "{\\"text\\": \\"a%s\\"}" EX 3600\n' "$i" "$i"
done | redis-cli -p "$redis_port" >/dev/null
wait_until 30 prom_scraped || {
    echo "error: prometheus did not scrape the exporter: $(tail -5 "$work/prom.log")" >&2
    exit 1
}

# The console, its stderr kept apart so a panic report is found even when the pane is redrawn.
tmux_ new-session -d -s chaos -x 120 -y 40 -c "$work" -- sh -c \
    'exec env HOME="$1/home" XDG_CONFIG_HOME="$1/home/.config" XDG_STATE_HOME="$1/home/.local/state" \
        "$2" --config "$1/config.toml" 2>>"$1/console.stderr"' sh "$work" "$bin"
tmux_ set-option -g window-size manual
pid=$(tmux_ display-message -p -t chaos '#{pane_pid}')
sleep 0.5
[[ $(cat "/proc/$pid/comm" 2>/dev/null) == opsdeck ]] || {
    echo "error: the pane does not run opsdeck: $(cat "$work/console.stderr")" >&2
    exit 1
}
status_line() { tmux_ capture-pane -p -t chaos | tail -1; }
# Every second the status bar (to show the console saw each outage), every 5 s the RSS.
(
    tick=0
    while [[ -r /proc/$pid/status ]]; do
        if ((tick % 5 == 0)); then
            awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" >>"$work/rss" 2>/dev/null || true
        fi
        echo "$(date +%s) $(status_line)" >>"$work/status"
        tick=$((tick + 1))
        sleep 1
    done
) &
sampler_pid=$!

# "● prometheus 1s ● redis 0s": both ok and at most $fresh_age_s old.
console_fresh() {
    local line
    line=$(status_line)
    for s in prometheus redis; do
        [[ $line =~ ●\ $s\ ([0-9]+)s ]] || return 1
        ((BASH_REMATCH[1] <= fresh_age_s)) || return 1
    done
}
snapshot_fresh() {
    "$bin" --config "$work/config.toml" snapshot --json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["sources"]
sys.exit(0 if s["prometheus"]["status"] == "ok" and s["redis"]["status"] == "ok" else 1)'
}
wait_until 30 console_fresh || {
    echo "error: the console never showed both sources fresh: $(status_line)" >&2
    exit 1
}
echo "console up (pid $pid) on redis :$redis_port, prometheus :$prom_port; seed $seed" >&2

# The schedule: per server, a kill after 2-8 s up and a restart after 1-3 s down, rounds
# times; squeezed into the window when it would run over.
python3 - "$seed" "$rounds" "$window_s" >"$work/schedule" <<'EOF'
import random, sys
seed, rounds, window = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = random.Random(seed)
events = []
for server in ("redis", "prometheus"):
    t = 0.0
    for _ in range(rounds):
        t += rng.uniform(2, 8)
        events.append((t, "kill", server))
        t += rng.uniform(1, 3)
        events.append((t, "start", server))
end = max(t for t, _, _ in events)
scale = min(1.0, window / end)
for t, what, server in sorted(events):
    print(f"{t * scale:.2f} {what} {server}")
EOF

chaos_start=$(date +%s.%N)
kills=0
exec 3<"$work/schedule"
while read -r -u 3 at what server; do
    now=$(date +%s.%N)
    delay=$(awk -v a="$at" -v s="$chaos_start" -v n="$now" 'BEGIN { d = s + a - n; print (d > 0 ? d : 0) }')
    sleep "$delay"
    case $what-$server in
    kill-redis) stop_pid "$redis_pid" && redis_pid='' ;;
    kill-prometheus) stop_pid "$prom_pid" && prom_pid='' ;;
    start-redis) start_redis ;;
    start-prometheus) start_prometheus ;;
    esac
    [[ $what == kill ]] && kills=$((kills + 1))
done
exec 3<&-
last_restart=$(date +%s.%N)
chaos_s=$(awk -v a="$chaos_start" -v b="$last_restart" 'BEGIN { printf "%.0f", b - a }')

since_restart() { awk -v a="$last_restart" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
console_s=timeout snapshot_s=timeout
if wait_until "$fresh_limit_s" console_fresh; then console_s=$(since_restart); fi
if wait_until "$fresh_limit_s" snapshot_fresh; then snapshot_s=$(since_restart); fi
final_status=$(status_line)

sleep "$settle_s"
alive=no
[[ $(cat "/proc/$pid/comm" 2>/dev/null) == opsdeck ]] && alive=yes
pane=$(tmux_ capture-pane -p -t chaos -S -2000)
panics=$( (grep -c panicked <<<"$pane" || true; grep -c panicked "$work/console.stderr" || true) |
    awk '{ n += $1 } END { print n }')
stop_pid "$sampler_pid"
sampler_pid=''
read -r rss_n rss_first rss_max rss_last < <(awk '
    NR == 1 { first = $1 } { if ($1 > max) max = $1; last = $1 }
    END { printf "%d %.1f %.1f %.1f\n", NR, first / 1024, max / 1024, last / 1024 }' "$work/rss")

echo
echo "chaos: $kills kills ($rounds each of redis and prometheus) in ${chaos_s}s, seed $seed"
echo "console alive:          $alive"
echo "panics (pane + stderr): $panics"
echo "status bar, sampled every second: redis down (✖) in" \
    "$(grep -c '✖ redis' "$work/status" || true), prometheus down in" \
    "$(grep -c '✖ prometheus' "$work/status" || true) of $(wc -l <"$work/status") samples"
echo "fresh again after the last restart (limit ${fresh_limit_s}s, age <= ${fresh_age_s}s):"
echo "  console status bar:   ${console_s}s   [$(sed 's/  */ /g' <<<"$final_status")]"
echo "  snapshot --json:      ${snapshot_s}s"
echo "RSS over $rss_n samples (5 s apart): first ${rss_first} MiB, max ${rss_max} MiB, last ${rss_last} MiB"
if [[ -s $work/console.stderr ]]; then
    echo "console stderr:"
    head -20 "$work/console.stderr"
fi

ok=1
[[ $alive == yes && $panics == 0 && $console_s != timeout && $snapshot_s != timeout ]] || ok=0
if ((ok)); then
    echo "chaos: PASS"
else
    echo "chaos: FAIL" >&2
    exit 1
fi
