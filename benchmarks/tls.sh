#!/usr/bin/env bash
# HTTPS comparison for issue 5: evhttpd (Config.TLS) against net/http with
# crypto/tls, each pinned to core 0 (GOMAXPROCS=1, one loop), wrk -t1 -c64
# over HTTPS on core 1, servers interleaved, REPS repetitions (default 3).
# keep-alive: requests per second on established sessions; handshake:
# "Connection: close" so every request is a new TLS handshake. Also server
# CPU microseconds per request from /proc. Writes results/tls.txt.
set -euo pipefail
cd "$(dirname "$0")"
REPS=${REPS:-3}
DURATION=${DURATION:-5s}
command -v wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
bin=$(mktemp -d)/peers
pids=()
trap 'for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done' EXIT
go build -o "$bin" ./cmd/peers
tck=$(getconf CLK_TCK)
raw=$(mktemp)
measure() { # server port mode
  local port=$2 hdr=()
  [ "$3" = handshake ] && hdr=(-H "Connection: close")
  GOMAXPROCS=1 taskset -c 0 "$bin" -server "$1" -addr 127.0.0.1:$port >/dev/null 2>&1 &
  local pid=$!; pids+=("$pid")
  sleep 0.8
  taskset -c 1 wrk -t1 -c64 -d1s "${hdr[@]}" "https://127.0.0.1:$port/plaintext" >/dev/null 2>&1 || true
  local t0; t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"$DURATION" "${hdr[@]}" "https://127.0.0.1:$port/plaintext" 2>&1)
  local t1; t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local reqs rps
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  echo "$3 $1 $rps $(awk -v a="$t0" -v b="$t1" -v t="$tck" -v n="$reqs" 'BEGIN{printf "%.2f", (b-a)*1e6/t/n}')" >>"$raw"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for mode in keepalive handshake; do
  for rep in $(seq "$REPS"); do
    measure evhttpd-tls 18191 $mode
    measure nethttp-tls 18192 $mode
  done
done
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
col() { awk -v m="$1" -v s="$2" -v f="$3" '$1==m && $2==s {print $f}' "$raw"; }
mkdir -p results
{
  echo "# $(date -u +%FT%TZ) $(go version | cut -d' ' -f3); wrk -t1 -c64 -d$DURATION over HTTPS; $REPS repetitions, interleaved"
  echo "# server: 1 core (taskset -c 0), GOMAXPROCS=1, 1 event loop; wrk on core 1; load average at start $load0, at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  printf "%-10s %-12s %14s %18s  %s\n" mode server "median req/s" "median CPU us/req" "runs (req/s)"
  for mode in keepalive handshake; do
    for s in evhttpd-tls nethttp-tls; do
      printf "%-10s %-12s %14s %18s  %s\n" $mode $s "$(col $mode $s 3 | median)" "$(col $mode $s 4 | median)" "$(col $mode $s 3 | tr '\n' ' ')"
    done
  done
  echo
  for mode in keepalive handshake; do
    e=$(col $mode evhttpd-tls 3 | median); n=$(col $mode nethttp-tls 3 | median)
    echo "$mode: evhttpd / net/http = $(awk -v e="$e" -v n="$n" 'BEGIN{printf "%.2f", e/n}')x (medians)"
  done
  echo "target (issue 5): keep-alive >= 1.5x"
} > results/tls.txt
cat results/tls.txt
