#!/usr/bin/env bash
# What an idle console costs: CPU, bytes written to the terminal, memory.
#
# Runs the release build of `opsdeck --demo` in an 80x24 tmux pane, sends no keys, and
# measures over a window that starts after startup has settled:
#   CPU    utime+stime from /proc/PID/stat, as % of one core
#   bytes  what the pane received from the program (tmux pipe-pane), per second
#   RSS    VmRSS / VmHWM at the end
#
# usage: scripts/idle-cost.sh [SECONDS]     (or IDLE_SECONDS; default 60)
#        IDLE_WARMUP=3 seconds skipped at startup
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

duration=${1:-${IDLE_SECONDS:-60}}
warmup=${IDLE_WARMUP:-3}
cpu_target=0.3    # % of one core
bytes_target=1000 # bytes per second

for cmd in tmux awk getconf; do
    command -v "$cmd" >/dev/null 2>&1 || {
        echo "error: $cmd is needed (scripts/test.sh installs tmux)" >&2
        exit 1
    }
done

cargo build --release --quiet
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
bin=$target_dir/release/opsdeck
[[ -x $bin ]] || {
    echo "error: no binary at $bin" >&2
    exit 1
}

work=$(mktemp -d)
sock=$work/tmux.sock
tmux_() { tmux -S "$sock" -f /dev/null "$@"; }
cleanup() {
    tmux_ kill-server 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/home"
# Its own home, so the demo neither finds a config nor writes an audit log outside $work.
tmux_ new-session -d -s idle -x 80 -y 24 -c "$work" -- \
    env HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
    XDG_STATE_HOME="$work/home/.local/state" "$bin" --demo
tmux_ set-option -g window-size manual
tmux_ pipe-pane -t idle -o "cat >> '$work/out'"
pid=$(tmux_ display-message -p -t idle '#{pane_pid}')
comm=$(cat "/proc/$pid/comm")
[[ $comm == opsdeck ]] || {
    echo "error: the pane runs '$comm', not opsdeck" >&2
    exit 1
}

cpu_ticks() {
    # Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    local rest
    rest=$(sed 's/^.*) //' "/proc/$pid/stat")
    awk '{ print $12 + $13 }' <<<"$rest"
}
# One line per thread: tid, CPU ticks, context switches (wake-ups), name.
thread_table() {
    local task name rest ticks switches
    for task in /proc/"$pid"/task/*; do
        name=$(cat "$task/comm" 2>/dev/null) || continue
        rest=$(sed 's/^.*) //' "$task/stat" 2>/dev/null) || continue
        ticks=$(awk '{ print $12 + $13 }' <<<"$rest")
        switches=$(awk '/ctxt_switches/ { n += $2 } END { print n }' "$task/status")
        echo "${task##*/} $ticks $switches $name"
    done
}
out_bytes() { stat -c %s "$work/out" 2>/dev/null || echo 0; }
now() { date +%s.%N; }

sleep "$warmup"
ticks0=$(cpu_ticks)
threads0=$(thread_table)
bytes0=$(out_bytes)
t0=$(now)
sleep "$duration"
ticks1=$(cpu_ticks)
threads1=$(thread_table)
bytes1=$(out_bytes)
t1=$(now)
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
hz=$(getconf CLK_TCK)

tmux_ send-keys -t idle q

awk -v t0="$t0" -v t1="$t1" -v k0="$ticks0" -v k1="$ticks1" -v hz="$hz" \
    -v b0="$bytes0" -v b1="$bytes1" -v rss="$rss_kb" -v hwm="$hwm_kb" -v thr="$threads" \
    -v ct="$cpu_target" -v bt="$bytes_target" -v warm="$warmup" '
function verdict(v, t) { return v <= t ? "ok" : "MISSED" }
BEGIN {
    secs = t1 - t0
    cpu = (k1 - k0) / hz / secs * 100
    bps = (b1 - b0) / secs
    printf "opsdeck --demo, idle at 80x24, no keys: %.1f s measured after %s s of startup\n", secs, warm
    printf "  CPU       %8.3f %% of one core   target <= %s %%      %s  (%d ticks at %d Hz)\n", cpu, ct, verdict(cpu, ct), k1 - k0, hz
    printf "  terminal  %8.1f B/s             target <= %d B/s   %s  (%d bytes)\n", bps, bt, verdict(bps, bt), b1 - b0
    printf "  RSS       %8.1f MiB             peak %.1f MiB, %d threads\n", rss / 1024, hwm / 1024, thr
}'

# Where the time goes: per thread, CPU and wake-ups per second over the window.
echo "  per thread (CPU % of one core, wake-ups/s):"
awk -v hz="$hz" -v secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '
NR == FNR { t[$1] = $2; s[$1] = $3; next }
($1 in t) {
    name = $4; for (i = 5; i <= NF; i++) name = name " " $i
    printf "    %-28s %7.3f %%  %7.1f/s\n", name, ($2 - t[$1]) / hz / secs * 100, ($3 - s[$1]) / secs
}' <(echo "$threads0") <(echo "$threads1")
