#!/usr/bin/env bash
# Plaintext server comparison: evhttpd, the gnet-raw ceiling, fasthttp and
# net/http (cmd/peers), each on one core with one event loop / GOMAXPROCS=1,
# driven by wrk on the other core. For every repetition and scenario the
# servers run one after the other (A B C D A B C D ...), each freshly started
# on its own port, only on 127.0.0.1. Writes the samples to
# results/http.raw and the medians and ratios (cmd/ratios) to
# results/http.txt.
#
#   ./http.sh                 5 s runs, 3 repetitions
#   QUICK=1 ./http.sh         2 s runs, 1 repetition
#   SERVERS="evhttpd fasthttp" ./http.sh
#
# The evhttpd server needs the root package to compile; when it does not,
# the peers are built without it (-tags noevhttpd) and the script says so.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${QUICK:-0}" = 1 ]; then
  DURATION=${DURATION:-2s}; REPS=${REPS:-1}
else
  DURATION=${DURATION:-5s}; REPS=${REPS:-3}
fi
SERVERS=${SERVERS:-"evhttpd gnet-raw fasthttp nethttp"}
CONNS=${CONNS:-64}
DEPTH=${DEPTH:-16}
PORT=${PORT:-18080} # first port; every run takes the next one
mkdir -p results

if ! command -v wrk >/dev/null 2>&1; then
  echo "http.sh: installing wrk" >&2
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

notes=()
if ! go build -o "$work/peers" ./cmd/peers 2>"$work/build.err"; then
  echo "http.sh: peers do not build with evhttpd; building without it:" >&2
  cat "$work/build.err" >&2
  go build -tags noevhttpd -o "$work/peers" ./cmd/peers
  SERVERS=$(echo "$SERVERS" | tr ' ' '\n' | grep -vx evhttpd | tr '\n' ' ')
  notes+=("evhttpd skipped: the root package did not compile")
fi

srvpin=() clipin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  srvpin=(taskset -c 0)
  clipin=(taskset -c 1)
else
  notes+=("not pinned: taskset missing or fewer than 2 CPUs")
fi

load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
raw=results/http.raw
{
  echo "# $(date -u +%FT%TZ) $(go version | cut -d' ' -f3) $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "# wrk -t1 -c$CONNS -d$DURATION; pipe$DEPTH sends $DEPTH requests per write; $REPS repetitions"
  echo "# scenario server repetition requests/s"
} >"$raw"

port=$PORT
for rep in $(seq 1 "$REPS"); do
  for scenario in plain "pipe$DEPTH"; do
    for s in $SERVERS; do
      port=$((port + 1))
      addr=127.0.0.1:$port
      GOMAXPROCS=1 "${srvpin[@]}" "$work/peers" -server "$s" -addr "$addr" -loops 1 -procs 1 \
        >"$work/$s.log" 2>&1 &
      pid=$!
      pids+=("$pid")
      for _ in $(seq 1 100); do
        grep -q '^ready' "$work/$s.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if ! grep -q '^ready' "$work/$s.log"; then
        echo "http.sh: $s did not start:" >&2
        cat "$work/$s.log" >&2
        exit 1
      fi
      script=()
      [ "$scenario" = plain ] || script=(-s pipeline.lua -- "$DEPTH")
      "${clipin[@]}" wrk -t1 -c"$CONNS" -d"$DURATION" "http://$addr/plaintext" "${script[@]}" >"$work/wrk.out"
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
      errs=$(grep -E 'Socket errors|Non-2xx' "$work/wrk.out" | tr -s ' ' | paste -sd';' - || true)
      [ -z "$errs" ] || notes+=("$scenario $s rep $rep: $errs")
      echo "$scenario $s $rep ${rps:-0}" | tee -a "$raw"
      kill "$pid"
      wait "$pid" || notes+=("$s exited with status $? on stop")
    done
  done
done

{
  head -2 "$raw"
  echo "# server: 1 core (taskset -c 0), GOMAXPROCS=1, 1 event loop; wrk on core 1"
  echo "# load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  echo
  go run ./cmd/ratios -mode http "$raw"
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    printf 'note: %s\n' "${notes[@]}"
  fi
} >results/http.txt
echo
cat results/http.txt
