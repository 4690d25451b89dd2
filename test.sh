#!/usr/bin/env bash
# Runs every check of every Go module in this repository: vet, the tests under
# the race detector, a second pass without it for what -race skips (the
# allocation gates, and the WebSocket case table's heavy cases: 16 MiB
# messages and inflate bombs, seconds of CPU each when instrumented), and
# each fuzz target for a fixed number of executions.
#
#   ./test.sh                 everything
#   FUZZTIME=0 ./test.sh      skip the fuzz step
#   FUZZTIME=30s ./test.sh    fuzz each target for a time instead
#   ENGINES=gnet ./test.sh    skip the second pass over the netpoll engine
#
# Every engine backend runs the engine conformance suite in its own package
# tests (engine/gnet, engine/netpoll). The root package's suite runs once
# more on netpoll (EVHTTPD_ENGINE=netpoll, under the race detector: that
# backend's loops are shared by goroutines), and so do the interop clients
# against the demo; its allocation gates are not
# repeated there, since netpoll itself allocates twice per readable event.
#
# The budget is a count, not a duration: Go 1.26's fuzz coordinator can report
# "context deadline exceeded" as a failure when a -fuzztime duration expires
# while a worker is mid-call (go.dev/issue/75804, fixed in Go 1.27). A count
# has no deadline to race, and does the same work on a slow machine. So
# does the minimisation of each new input: 1000 executions, where the
# default (60 s each) once held the run for a minute on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")"
FUZZTIME=${FUZZTIME:-100000x}
ENGINES=${ENGINES:-gnet netpoll}

mods=$(find . -name go.mod -not -path '*/node_modules/*' -not -path './.git/*' -exec dirname {} \; | sort)
for m in $mods; do
  echo "== module $m: vet"
  (cd "$m" && go vet ./...)
  echo "== module $m: test -race"
  (cd "$m" && go test -race -count=1 -timeout 15m ./...)
  echo "== module $m: test without -race (allocation gates, heavy cases)"
  (cd "$m" && go test -count=1 -timeout 15m -run 'Alloc|WSCases' ./...)
done

for e in $ENGINES; do
  [ "$e" = gnet ] && continue # the default: the passes above
  echo "== module .: test -race on the $e engine"
  EVHTTPD_ENGINE=$e go test -race -count=1 -timeout 15m .
  echo "== module ./internal/interop: test on the $e engine"
  (cd internal/interop && EVHTTPD_ENGINE=$e go test -count=1 -timeout 15m ./...)
done

if [ "$FUZZTIME" != "0" ]; then
  for m in $mods; do
    for pkg in $(cd "$m" && go list ./...); do
      dir=$(cd "$m" && go list -f '{{.Dir}}' "$pkg")
      grep -l '^func Fuzz' "$dir"/*_test.go >/dev/null 2>&1 || continue
      for f in $(cd "$m" && go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
        echo "== fuzz $pkg $f for $FUZZTIME"
        (cd "$m" && go test -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 1000x "$pkg")
      done
    done
  done
fi
echo "test.sh: all checks passed"
