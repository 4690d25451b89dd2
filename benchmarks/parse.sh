#!/usr/bin/env bash
# Parser microbenchmarks: evhttpd's codec/http against fasthttp and net/http.
# Runs every BenchmarkParse* 10 times (COUNT, BENCHTIME to change) on one core when
# taskset exists, writes the raw output to results/parse.txt, the benchstat
# table to results/parse.benchstat.txt and the ratios (cmd/ratios, from the
# medians) to results/parse.ratios.txt, and prints table and ratios.
set -euo pipefail
cd "$(dirname "$0")"
COUNT=${COUNT:-10}
BENCHTIME=${BENCHTIME:-1s}
mkdir -p results

gobin=$(go env GOBIN)
[ -n "$gobin" ] || gobin=$(go env GOPATH)/bin
benchstat=$(command -v benchstat || true)
if [ -z "$benchstat" ]; then
  if [ ! -x "$gobin/benchstat" ]; then
    echo "parse.sh: installing benchstat" >&2
    go install golang.org/x/perf/cmd/benchstat@latest
  fi
  benchstat=$gobin/benchstat
fi

pin=()
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c 0)
fi

# Build the test binary first so compilation is not measured on the pinned core.
go test -c -o results/parse.test .
trap 'rm -f results/parse.test' EXIT
# Equivalent to `go test -run '^$' -bench BenchmarkParse -benchmem -count 10`,
# except that the 10 rounds each run every benchmark once instead of each
# benchmark running 10 times in a row: on a shared machine the load drifts,
# and a drift that hits one benchmark's whole block biases every ratio taken
# against it. Interleaved, every round sees the same load for all of them.
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
: >results/parse.txt
for round in $(seq 1 "$COUNT"); do
  echo "parse.sh: round $round of $COUNT" >&2
  "${pin[@]}" ./results/parse.test -test.run '^$' -test.bench 'BenchmarkParse' \
    -test.benchmem -test.benchtime "$BENCHTIME" -test.count 1 |
    if [ "$round" = 1 ]; then cat; else grep '^Benchmark'; fi >>results/parse.txt
done

"$benchstat" results/parse.txt > results/parse.benchstat.txt
{
  go run ./cmd/ratios -mode parse results/parse.txt
  echo
  echo "load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
} >results/parse.ratios.txt

echo
cat results/parse.benchstat.txt
echo
cat results/parse.ratios.txt
