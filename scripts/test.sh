#!/usr/bin/env bash
# Installs what the tests need when it is missing, then runs every test.
#
# The integration tests start real redis-server and prometheus processes on their own
# loopback ports and drive the real binary inside tmux, so those must be on PATH; the TLS
# tests make their throwaway CA and server certificate with the openssl command.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# command -> Debian package that provides it
declare -A PACKAGE_OF=(
    [redis-server]=redis-server
    [redis-cli]=redis-tools
    [prometheus]=prometheus
    [tmux]=tmux
    [python3]=python3
    [openssl]=openssl
)

missing_packages() {
    local cmd pkgs=()
    for cmd in "${!PACKAGE_OF[@]}"; do
        command -v "$cmd" >/dev/null 2>&1 || pkgs+=("${PACKAGE_OF[$cmd]}")
    done
    if ((${#pkgs[@]})); then
        printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' '
    fi
}

install_packages() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "error: the tests need: $*" >&2
            echo "install them as root: apt-get install -y $*" >&2
            exit 1
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: the tests need: $* (no apt-get here: install them with your package manager)" >&2
        exit 1
    fi
    # The Debian packages start redis and prometheus as services on their default ports.
    # The tests use ports of their own, so those daemons are only in the way: a
    # policy-rc.d that says "no" keeps invoke-rc.d from starting them during the install.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        added_policy=1
    fi
    local rc=0
    echo "installing: $*" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q || rc=$?
    if ((rc == 0)); then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "$@" || rc=$?
    fi
    if ((added_policy)); then
        "${sudo[@]}" rm -f "$policy"
    fi
    if ((rc != 0)); then
        echo "error: apt-get failed (status $rc) installing: $*" >&2
        exit 1
    fi
}

missing=$(missing_packages)
if [[ -n $missing ]]; then
    # shellcheck disable=SC2086 # one word per package
    install_packages $missing
    missing=$(missing_packages)
    if [[ -n $missing ]]; then
        echo "error: still missing after the install: $missing" >&2
        exit 1
    fi
fi

status=0
# Layers import only downwards (DESIGN.md); an upward import fails the run.
scripts/check-layers.sh || status=$?
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --all-targets --no-fail-fast || status=$?
else
    echo "cargo-nextest not found: running the tests with cargo test" >&2
    cargo test --workspace --all-targets --no-fail-fast || status=$?
fi
# nextest does not run doctests.
cargo test --workspace --doc --no-fail-fast || status=$?

if ((status != 0)); then
    echo "tests failed" >&2
fi
exit "$status"
