#!/usr/bin/env bash
# The soak of issue 10: builds cmd/soak and runs it. It starts an evhttpd
# server in its own process (the demo routes on a plain and a TLS server,
# pinned to core 0 with GOMAXPROCS=1 when taskset and two CPUs exist),
# keeps good clients on it (keep-alive, pipelined, uploads, WebSocket echo
# with deflate and async sends, HTTPS) and runs one attack family at a time
# beside them (slowloris, slow bodies, never-reading HTTP and WebSocket
# clients, churn with resets, session floods, bad frames, deflate bombs,
# control-socket junk, stalled TLS handshakes), then all at once. It samples
# the server's RSS, heap, goroutines and descriptors and checks the
# invariants listed in cmd/soak/main.go.
#
#   ./soak.sh -quick        under 3 minutes
#   ./soak.sh               full run, at least 10 minutes
#   ./soak.sh -only flood,bombs   some scenarios only (none, all, or a family)
#   ./soak.sh -p99 50ms     another bound on the good clients' p99
#
# Writes results/soak.md and charts/soak.svg. Exits 1 when an invariant
# breaks (each one is printed), 2 when the soak itself could not run.
set -euo pipefail
cd "$(dirname "$0")"
bin=$(mktemp -d)/soak
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/soak
# With taskset and two CPUs or more, the server gets core 0 to itself
# (GOMAXPROCS=1) and the clients and attackers the other cores.
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  taskset -c "1-$(($(nproc) - 1))" "$bin" -server-cpu 0 "$@"
else
  "$bin" "$@"
fi
