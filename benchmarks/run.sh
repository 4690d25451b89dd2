#!/usr/bin/env bash
# The side-by-side benchmark suite (issues 4 and 6): installs wrk and
# benchstat when missing, then runs cmd/suite, which builds the peers and
# the WebSocket load client, pins every server to core 0 and the load to
# core 1, interleaves the servers, writes results/suite.json and the
# microbenchmark files, and generates RESULTS.md and charts/*.svg.
#
#   QUICK=1 ./run.sh     under 5 min: 1 repetition, 64 connections only for
#                        HTTP, 3 microbenchmark rounds; exits 1 and prints
#                        every target evhttpd misses
#   ./run.sh             full: 3 repetitions, 16/64/256 connections,
#                        10 microbenchmark rounds; under 30 min
#   ./run.sh -report     regenerate RESULTS.md and charts from the JSON
#   ./run.sh -cpuprofile also write CPU profiles of the evhttpd servers
#                        to results/prof/
#
# Every process the suite starts is killed when it exits or is interrupted
# (cmd/suite tracks its servers; wrk and wsload are its children).
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "run.sh: installing ${need_apt[*]}" >&2
  apt-get install -y "${need_apt[@]}" >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y "${need_apt[@]}" >/dev/null; }
fi
gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
if ! command -v benchstat >/dev/null 2>&1 && [ ! -x "$gobin/benchstat" ]; then
  echo "run.sh: installing benchstat" >&2
  go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da ||
    go install golang.org/x/perf/cmd/benchstat@latest
fi

args=("$@")
[ "${QUICK:-0}" = 1 ] && args=(-quick "${args[@]}")
exec go run ./cmd/suite "${args[@]}"
