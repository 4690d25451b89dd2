#!/usr/bin/env bash
# The net/http bridge comparison (issue 13): one http.Handler (cmd/peers'
# stdHandler) served by evhttpd's bridge on the Blocking pool ("bridge"),
# the same registered to run on the loop ("bridge-loop"), net/http
# ("nethttp-std") and fasthttp's fasthttpadaptor ("fhadaptor"). Each server
# runs on core 0 with GOMAXPROCS=1 and one event loop, wrk on core 1; the
# servers are interleaved (A B C D A B C D ...), each freshly started on its
# own 127.0.0.1 port. Scenarios:
#
#   plain     GET /plaintext, 64 connections
#   pipe16    the same, 16 requests per write (pipeline.lua)
#   upload    POST /upload with a 1 MiB body read through r.Body, 8 connections
#   download  GET /download, 1 MiB written with one Write, 8 connections
#
# Writes the samples to results/bridge.raw and the medians, ratios, peak
# server RSS and allocations per request (TestBridgeAllocs) to
# results/bridge.txt, which RESULTS.md includes (go run ./cmd/suite -report).
#
#   ./bridge.sh              5 s runs, 3 repetitions
#   QUICK=1 ./bridge.sh      2 s runs, 1 repetition
#   ./bridge.sh -report      only rewrite results/bridge.txt from results/bridge.raw
set -euo pipefail
cd "$(dirname "$0")"

if [ "${QUICK:-0}" = 1 ]; then
  DURATION=${DURATION:-2s}; REPS=${REPS:-1}
else
  DURATION=${DURATION:-5s}; REPS=${REPS:-3}
fi
SERVERS=${SERVERS:-"bridge bridge-loop nethttp-std fhadaptor"}
PORT=${PORT:-19080}
mkdir -p results

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y "${need[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

notes=()
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
raw=results/bridge.raw
if [ "${1:-}" != -report ]; then
go build -o "$work/peers" ./cmd/peers
srvpin=() clipin=()
if [ "$(nproc)" -ge 2 ]; then
  srvpin=(taskset -c 0)
  clipin=(taskset -c 1)
else
  notes+=("not pinned: fewer than 2 CPUs")
fi

{
  echo "# $(date -u +%FT%TZ) $(go version | cut -d' ' -f3) $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "# wrk -t1 -d$DURATION; $REPS repetitions; scenario server repetition requests/s peak-RSS-KiB server-CPU-us/request wrk-core-busy"
} >"$raw"

port=$PORT
for rep in $(seq 1 "$REPS"); do
  for scenario in plain pipe16 upload download; do
    for s in $SERVERS; do
      port=$((port + 1))
      addr=127.0.0.1:$port
      GOMAXPROCS=1 "${srvpin[@]}" "$work/peers" -server "$s" -addr "$addr" -loops 1 -procs 1 >"$work/$s.log" 2>&1 &
      pid=$!
      pids+=("$pid")
      for _ in $(seq 1 300); do
        grep -q '^ready' "$work/$s.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      if ! grep -q '^ready' "$work/$s.log"; then
        # Seen on a loaded machine: the sample is skipped, not the run.
        notes+=("$scenario $s rep $rep: did not start within 30 s: $(head -c 200 "$work/$s.log")")
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        continue
      fi
      case $scenario in
        plain) args=(-c64 "http://$addr/plaintext") ;;
        pipe16) args=(-c64 "http://$addr/plaintext" -s pipeline.lua -- 16) ;;
        upload) args=(-c8 "http://$addr/upload" -s upload.lua -- 1) ;;
        download) args=(-c8 "http://$addr/download") ;;
      esac
      # CPU used during the run: the server's from /proc (clock ticks),
      # wrk's from the shell's time of the child; each against the run's
      # requests and wall time.
      cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
      t0=$(date +%s.%N)
      TIMEFORMAT='%U %S'
      if ! { time "${clipin[@]}" wrk -t1 -d"$DURATION" "${args[@]}" >"$work/wrk.out" 2>&1; } 2>"$work/wrk.time"; then
        notes+=("$scenario $s rep $rep: wrk failed: $(tail -1 "$work/wrk.out")")
      fi
      t1=$(date +%s.%N)
      cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
      rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
      nreq=$(awk '/requests in/ {print $1}' "$work/wrk.out")
      cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" -v n="${nreq:-0}" 'BEGIN { printf "%.2f", (n > 0 ? (b - a) / hz * 1e6 / n : 0) }')
      busy=$(awk -v t0="$t0" -v t1="$t1" '{ printf "%.2f", (t1 > t0 ? ($1 + $2) / (t1 - t0) : 0) }' "$work/wrk.time")
      rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      errs=$(grep -E 'Socket errors|Non-2xx' "$work/wrk.out" | tr -s ' ' | paste -sd';' - || true)
      [ -z "$errs" ] || notes+=("$scenario $s rep $rep: $errs")
      echo "$scenario $s $rep ${rps:-0} ${rss:-0} ${cpu:-0} ${busy:-0}" | tee -a "$raw"
      kill "$pid"
      wait "$pid" || notes+=("$s exited with status $? on stop")
    done
  done
done

fi

allocs=$(cd cmd/peers && go test -count=1 -run TestBridgeAllocs -v . 2>&1 | sed -n '/allocations per request/,/^---/p' | grep -E '^ +[a-z-]+ /' | sed 's/^ *//' || true)

{
  head -2 "$raw"
  echo "# server: 1 core (taskset -c 0), GOMAXPROCS=1, 1 event loop; wrk on core 1"
  echo "# load average (1/5/15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
  echo
  awk -v servers="$SERVERS" '
    # Ratios are the median of per-repetition ratios: the servers of one
    # repetition ran back to back, so a change in the load of the machine
    # between repetitions moves both sides of each ratio alike.
    !/^#/ { v[$1" "$2] = v[$1" "$2] " " $4; s[$1" "$2" "$3] = $4; r[$1" "$2] = ($5 > r[$1" "$2] ? $5 : r[$1" "$2]); if ($3 > reps) reps = $3
            if (NF >= 7) { cu[$1" "$2] = cu[$1" "$2] " " $6; bz[$1" "$2] = bz[$1" "$2] " " $7 } }
    function median(str,   a, n, i, j, t) {
      n = split(str, a, " ")
      if (n == 0) return 0
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function ratio(sc, other,   k, str) {
      str = ""
      for (k = 1; k <= reps; k++) if (s[sc " bridge " k] > 0 && s[sc " " other " " k] > 0) str = str " " s[sc " bridge " k] / s[sc " " other " " k]
      return median(str)
    }
    END {
      ns = split(servers, sv, " ")
      split("plain pipe16 upload download", sc, " ")
      split("1.5 5 1.2 1.2", target, " ")
      printf "%-9s %-12s %12s %10s %14s %14s %14s %10s\n", "scenario", "server", "req/s", "MiB/s", "bridge/this", "peak RSS MiB", "CPU us/req", "wrk busy"
      for (k = 1; k <= 4; k++) {
        for (i = 1; i <= ns; i++) {
          m = median(v[sc[k] " " sv[i]])
          mib = (sc[k] == "upload" || sc[k] == "download") ? sprintf("%.0f", m) : "-"
          rt = ratio(sc[k], sv[i])
          ratio_s = (sv[i] != "bridge" && rt > 0) ? sprintf("%.2fx", rt) : "-"
          c = median(cu[sc[k] " " sv[i]]); b = median(bz[sc[k] " " sv[i]])
          printf "%-9s %-12s %12.0f %10s %14s %14.1f %14s %10s\n", sc[k], sv[i], m, mib, ratio_s, r[sc[k] " " sv[i]] / 1024, (c > 0 ? sprintf("%.2f", c) : "-"), (b > 0 ? sprintf("%.0f%%", b * 100) : "-")
        }
      }
      print ""
      print "req/s: median of the repetitions; bridge/this: median of the per-repetition ratios."
      print "CPU us/req: the server process'"'"'s CPU time over the requests wrk completed (its one core; lower is better);"
      print "wrk busy: wrk'"'"'s CPU time over the run'"'"'s wall time, on its own core. Near 100% the client, not the"
      print "server, bounds req/s, and no server can go much past that rate: compare CPU us/req instead."
      print "Targets (bridge over the other server): plain >= 1.5x nethttp-std and >= 1.2x fhadaptor;"
      print "pipe16 >= 5x nethttp-std; upload and download >= 1.2x nethttp-std (1 MiB each, so MiB/s = req/s)."
      for (k = 1; k <= 4; k++) {
        q = ratio(sc[k], "nethttp-std")
        if (q > 0) printf "  %-9s bridge/nethttp-std %.2fx (target %sx): %s\n", sc[k], q, target[k], (q >= target[k] ? "met" : "MISSED")
      }
      q = ratio("plain", "fhadaptor")
      if (q > 0) printf "  %-9s bridge/fhadaptor   %.2fx (target 1.2x): %s\n", "plain", q, (q >= 1.2 ? "met" : "MISSED")
      for (k = 1; k <= 4; k++) {
        a = median(cu[sc[k] " bridge"]); b = median(cu[sc[k] " nethttp-std"]); w = median(bz[sc[k] " nethttp-std"])
        if (a > 0 && b > 0) printf "  %-9s server CPU per request, nethttp-std/bridge %.2fx (wrk %.0f%% busy against nethttp-std)\n", sc[k], b / a, w * 100
      }
      for (k = 1; k <= 4; k++) {
        q = loopRatio(sc[k])
        if (q > 0) printf "  %-9s bridge-loop/nethttp-std %.2fx (the same handler run on the loop, not the Blocking pool)\n", sc[k], q
      }
    }
    function loopRatio(sc,   k, str) {
      str = ""
      for (k = 1; k <= reps; k++) if (s[sc " bridge-loop " k] > 0 && s[sc " nethttp-std " k] > 0) str = str " " s[sc " bridge-loop " k] / s[sc " nethttp-std " k]
      return median(str)
    }' "$raw"
  echo
  echo "Heap allocations per request, same handler, in one process (cmd/peers TestBridgeAllocs; server, path, allocs):"
  echo "${allocs:-  (TestBridgeAllocs printed nothing)}" | sed 's/^/  /'
  if [ ${#notes[@]} -gt 0 ]; then
    echo
    printf 'note: %s\n' "${notes[@]}"
  fi
} >results/bridge.txt
echo
cat results/bridge.txt
