// Command suite runs the side-by-side benchmarks of issue 4 and issue 6 and
// writes the report. run.sh calls it after installing wrk and benchstat.
//
//	go run ./cmd/suite -quick     # < 5 min; exits 1 when evhttpd misses a target
//	go run ./cmd/suite            # full run, < 30 min
//	go run ./cmd/suite -report    # regenerate RESULTS.md and charts from results/suite.json
//
// It builds cmd/peers and cmd/wsload, then for every repetition and point
// starts each server afresh on core 0 (taskset -c 0, GOMAXPROCS=1, one
// event loop or poller) and drives it from core 1, the servers of a point
// one after the other (A B C ... A B C ...):
//
//   - HTTP plaintext with wrk --latency, without and with pipelining (16
//     requests per write, pipeline.lua), at 16/64/256 connections
//     (quick: 64 only): requests/s, p50/p99 latency, and the server's CPU
//     µs per request from /proc/PID/stat utime+stime;
//   - WebSocket echo with cmd/wsload at 1 000 connections for 64 B and
//     1 KiB messages, and 1 KiB with permessage-deflate;
//   - idle memory: server RSS per upgraded connection at 1 000 and 10 000
//     connections (cmd/wsload -idle);
//   - microbenchmarks: the parser comparison (BenchmarkParse*), masking and
//     frame headers against gobwas/ws (BenchmarkWS*) and codec/ws's Mask,
//     ParseHeader and Deflate, in interleaved rounds (-count 10; quick: 3),
//     summarised by benchstat.
//
// Raw samples go to results/suite.json, microbenchmark output to
// results/*.txt; RESULTS.md and charts/*.svg are generated from them.
// Quick mode uses 1 repetition of 2 s per point; full mode 3 of 5 s.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// plan is what one run measures.
type plan struct {
	quick       bool
	reps        int
	httpDur     time.Duration
	wsDur       time.Duration
	httpConns   []int
	depth       int
	wsConns     int
	wsSizes     []int
	wsDepths    []int // messages in flight per connection (cmd/wsload -depth)
	deflateSize int
	idleConns   []int
	microCount  int
	microTime   string
	httpServers []string
	wsServers   []string
	only        map[string]bool
	profile     bool
}

var (
	defaultHTTP = []string{"evhttpd", "evhttpd-netpoll", "gnet-raw", "fasthttp", "nethttp", "hertz", "nbio"}
	defaultWS   = []string{"ws-evhttpd", "ws-evhttpd-netpoll", "ws-gws", "ws-gorilla", "ws-coder", "ws-gobwas", "ws-nbio"}
)

func main() {
	quick := flag.Bool("quick", os.Getenv("QUICK") == "1", "quick mode (also QUICK=1): fewer points, 1 repetition, exits 1 on a missed target")
	reportOnly := flag.Bool("report", false, "only regenerate RESULTS.md and charts from results/suite.json")
	guard := flag.Bool("guard", false, "exit 1 on a missed target in full mode too (always on in quick mode)")
	reps := flag.Int("reps", 0, "repetitions per point (default 3; quick 1)")
	only := flag.String("only", "http,ws,idle,micro", "comma-separated parts to run")
	httpServers := flag.String("http", strings.Join(defaultHTTP, ","), "HTTP servers")
	wsServers := flag.String("ws", strings.Join(defaultWS, ","), "WebSocket servers")
	profile := flag.Bool("cpuprofile", false, "write a CPU profile of every evhttpd server run to results/prof/")
	merge := flag.Bool("merge", false, "keep the samples of results/suite.json whose kind (http, ws, idle) this run does not measure")
	flag.Parse()

	dir, err := moduleDir()
	if err != nil {
		fatal(err)
	}
	if *reportOnly {
		res, err := readResults(filepath.Join(dir, "results", "suite.json"))
		if err != nil {
			fatal(err)
		}
		os.Exit(finish(dir, res, *guard))
	}

	p := plan{
		quick: *quick, reps: 3, httpDur: 5 * time.Second, wsDur: 5 * time.Second,
		httpConns: []int{16, 64, 256}, depth: 16, wsConns: 1000, wsSizes: []int{64, 1024}, wsDepths: []int{1, 4},
		deflateSize: 1024, idleConns: []int{1000, 10000}, microCount: 10, microTime: "200ms",
		httpServers: split(*httpServers), wsServers: split(*wsServers), only: map[string]bool{},
		profile: *profile,
	}
	if p.quick {
		p.reps, p.httpDur, p.wsDur = 1, 2*time.Second, 2*time.Second
		p.httpConns = []int{64}
		p.wsDepths = []int{1}
		p.microCount, p.microTime = 3, "50ms"
	}
	if *reps > 0 {
		p.reps = *reps
	}
	for _, s := range split(*only) {
		p.only[s] = true
	}
	r, err := newRunner(dir, p)
	if err != nil {
		fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		r.killAll()
		os.Exit(130)
	}()
	res, err := r.run()
	r.killAll()
	r.cleanup()
	if err != nil {
		fatal(err)
	}
	if *merge {
		old, err := readResults(filepath.Join(dir, "results", "suite.json"))
		if err != nil {
			fatal(err)
		}
		res.merge(old, p.only)
	}
	if err := res.write(filepath.Join(dir, "results", "suite.json")); err != nil {
		fatal(err)
	}
	os.Exit(finish(dir, res, *guard || p.quick))
}

// finish writes the report and prints the targets; it returns the exit
// status: 1 when guard is set and a target was missed.
func finish(dir string, res *Results, guard bool) int {
	checks, err := report(dir, res)
	if err != nil {
		fatal(err)
	}
	missed := 0
	for _, c := range checks {
		if c.Met {
			continue
		}
		missed++
		what := c.What
		if what == "" {
			what = c.Detail
		} else if c.Detail != "" {
			what += " (" + c.Detail + ")"
		} else {
			what += fmt.Sprintf(" = %.2f", c.Got)
			if c.Paired > 0 {
				what += fmt.Sprintf(" (per repetition %.2f, %.2f-%.2f)", c.Paired, c.PairedMin, c.PairedMax)
			}
		}
		if c.Want == "" {
			fmt.Printf("MISSED issue %s: %s\n", c.Issue, what)
			continue
		}
		fmt.Printf("MISSED issue %s: %s; want %s\n", c.Issue, what, c.Want)
	}
	fmt.Printf("suite: %d of %d targets met; report in %s\n", len(checks)-missed, len(checks), filepath.Join(dir, "RESULTS.md"))
	if guard && missed > 0 {
		return 1
	}
	return 0
}

// moduleDir finds the benchmarks module: the directory holding go.mod with
// cmd/peers, from the working directory upwards.
func moduleDir() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "cmd", "peers", "main.go")); err == nil {
			return d, nil
		}
		if _, err := os.Stat(filepath.Join(d, "benchmarks", "cmd", "peers", "main.go")); err == nil {
			return filepath.Join(d, "benchmarks"), nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("suite: run from the benchmarks module (no cmd/peers found)")
		}
		d = up
	}
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "suite:", err)
	os.Exit(2)
}
