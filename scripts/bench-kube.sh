#!/usr/bin/env bash
# The Kubernetes source at 10k pods / 500 deployments: the source's RSS and the Scaling
# view's frame time (targets: RSS <= 120 MB, frame p99 <= 1 ms).
#   scripts/bench-kube.sh [PODS] [DEPLOYMENTS]      PROFILE=dev for a debug build
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
DEPLOYMENTS=${2:-500}
PROFILE=${PROFILE:-release}
cargo build --quiet --profile "$PROFILE" --example bench_kube
dir=${CARGO_TARGET_DIR:-target}/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/examples
bin="$dir/bench_kube"

# The server holds its stdin open; closing it (exec 3>&-) stops the server.
coproc SERVER { "$bin" serve "$PODS" "$DEPLOYMENTS"; }
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
read -r kubeconfig <&"${SERVER[0]}"
echo "profile $PROFILE, $PODS pods in $DEPLOYMENTS deployments"
"$bin" source "$kubeconfig" "$DEPLOYMENTS"
