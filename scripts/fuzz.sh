#!/usr/bin/env bash
# Fuzzes every parser that reads what a backend or an operator hands over: a million
# property-test cases each (tests/fuzz_parsers.rs), no panic allowed. Not run in CI nor by
# scripts/test.sh: it takes a while.
#
# Built with the `fuzz` profile (Cargo.toml): optimised like release, with overflow checks
# and debug assertions on, into target/fuzz. Parsers run one after another; for each the
# script prints the cases run and the seconds taken. A failure prints proptest's minimal
# failing input: make it a test in tests/parser_regressions.rs, then fix the parser.
#
# usage: scripts/fuzz.sh [CASES [PARSER...]]
#        CASES   per parser (or OPSDECK_FUZZ_CASES); default 1000000
#        PARSER  redis_info prometheus_exposition prometheus_api_json kube_objects config
#                warmup_lines (default: all)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

cases=${1:-${OPSDECK_FUZZ_CASES:-1000000}}
shift || true
all=(redis_info prometheus_exposition prometheus_api_json kube_objects config warmup_lines)
parsers=("$@")
((${#parsers[@]})) || parsers=("${all[@]}")
[[ $cases =~ ^[0-9]+$ ]] || {
    echo "error: CASES must be a number, got '$cases'" >&2
    exit 2
}
for p in "${parsers[@]}"; do
    [[ " ${all[*]} " == *" $p "* ]] || {
        echo "error: unknown parser '$p'; one of: ${all[*]}" >&2
        exit 2
    }
done

echo "building tests/fuzz_parsers.rs with --profile fuzz ..." >&2
exe=$(cargo test --profile fuzz --test fuzz_parsers --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") \
            and m["target"]["name"] == "fuzz_parsers":
        print(m["executable"])
')
[[ -x $exe ]] || {
    echo "error: the fuzz build failed; see: cargo test --profile fuzz --test fuzz_parsers --no-run" >&2
    exit 1
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
printf '%-24s %10s %10s %12s  %s\n' parser cases seconds cases/s result
for p in "${parsers[@]}"; do
    start=$(date +%s.%N)
    rc=0
    OPSDECK_FUZZ_CASES=$cases RUST_BACKTRACE=0 \
        "$exe" --exact "fuzz_$p" --test-threads 1 >"$logs/$p" 2>&1 || rc=$?
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v n="$cases" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    result=ok
    if ((rc != 0)); then
        result="PANIC (exit $rc)"
        failed+=("$p")
    elif ! grep -q '^test result: ok. 1 passed' "$logs/$p"; then
        result="NOT RUN"
        failed+=("$p")
    fi
    printf '%-24s %10s %10s %12s  %s\n' "$p" "$cases" "$secs" "$rate" "$result"
    if [[ $result != ok ]]; then
        grep -E 'panicked at|minimal failing input' -A 3 "$logs/$p" | head -40 >&2 || tail -40 "$logs/$p" >&2
    fi
done

if ((${#failed[@]})); then
    echo "failed: ${failed[*]}" >&2
    exit 1
fi
