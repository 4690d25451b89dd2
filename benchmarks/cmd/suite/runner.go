package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/evhttpd/httpd/benchmarks/internal/proc"
)

// runner holds the built binaries and the server processes it started.
type runner struct {
	dir       string // benchmarks module
	tmp       string
	plan      plan
	peers     string // binary
	wsloadBin string
	pinned    bool
	port      int
	notes     []string
	mu        sync.Mutex
	running   map[*exec.Cmd]struct{}
}

func newRunner(dir string, p plan) (*runner, error) {
	tmp, err := os.MkdirTemp("", "evhttpd-suite-")
	if err != nil {
		return nil, err
	}
	r := &runner{dir: dir, tmp: tmp, plan: p, port: 21000, running: map[*exec.Cmd]struct{}{}}
	_, errT := exec.LookPath("taskset")
	r.pinned = errT == nil && runtime.NumCPU() >= 2
	if !r.pinned {
		r.note("not pinned: taskset missing or fewer than 2 CPUs")
	}
	return r, nil
}

func (r *runner) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	fmt.Fprintln(os.Stderr, "suite: note:", s)
	r.notes = append(r.notes, s)
}

func (r *runner) cleanup() { os.RemoveAll(r.tmp) }

// build compiles cmd/peers (without hertz when hertz does not compile) and
// cmd/wsload.
func (r *runner) build() error {
	r.peers = filepath.Join(r.tmp, "peers")
	r.wsloadBin = filepath.Join(r.tmp, "wsload")
	if out, err := r.goCmd("build", "-o", r.peers, "./cmd/peers"); err != nil {
		out2, err2 := r.goCmd("build", "-tags", "nohertz", "-o", r.peers, "./cmd/peers")
		if err2 != nil {
			return fmt.Errorf("building cmd/peers: %v\n%s%s", err, out, out2)
		}
		r.note("hertz skipped: cmd/peers did not build with it: %s", firstLine(out))
		r.plan.httpServers = without(r.plan.httpServers, "hertz")
	}
	if out, err := r.goCmd("build", "-o", r.wsloadBin, "./cmd/wsload"); err != nil {
		return fmt.Errorf("building cmd/wsload: %v\n%s", err, out)
	}
	return nil
}

func (r *runner) goCmd(args ...string) ([]byte, error) {
	c := exec.Command("go", args...)
	c.Dir = r.dir
	return c.CombinedOutput()
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func without(list []string, name string) []string {
	var out []string
	for _, s := range list {
		if s != name {
			out = append(out, s)
		}
	}
	return out
}

// pin prefixes argv with taskset for core (when pinning is available).
func (r *runner) pin(core string, argv ...string) []string {
	if !r.pinned {
		return argv
	}
	return append([]string{"taskset", "-c", core}, argv...)
}

// server is one running peer.
type server struct {
	cmd    *exec.Cmd
	addr   string
	pid    int
	stderr *bytes.Buffer
}

// start runs a fresh peer on its own port and waits for its "ready" line.
func (r *runner) start(name string, deflate bool) (*server, error) {
	r.port++
	addr := "127.0.0.1:" + strconv.Itoa(r.port)
	args := []string{r.peers, "-server", name, "-addr", addr, "-loops", "1", "-procs", "1"}
	if deflate {
		args = append(args, "-deflate")
	}
	if r.plan.profile && strings.HasSuffix(name, "evhttpd") {
		pd := filepath.Join(r.dir, "results", "prof")
		os.MkdirAll(pd, 0o755)
		args = append(args, "-cpuprofile", filepath.Join(pd, fmt.Sprintf("%s-%d.pprof", name, r.port)))
	}
	argv := r.pin("0", args...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), "GOMAXPROCS=1")
	s := &server{cmd: c, addr: addr, stderr: &bytes.Buffer{}}
	c.Stderr = s.stderr
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.running[c] = struct{}{}
	r.mu.Unlock()
	s.pid = c.Process.Pid // taskset execs the server in place: same pid
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready ") && !ok {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if ok {
			return s, nil
		}
	case <-time.After(15 * time.Second):
	}
	r.stop(s)
	return nil, fmt.Errorf("%s did not start: %s", name, s.stderr.String())
}

// stop sends SIGTERM, waits up to 10 s, then kills.
func (r *runner) stop(s *server) error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		err = <-done
		if err == nil {
			err = errors.New("killed after 10 s")
		}
	}
	r.mu.Lock()
	delete(r.running, s.cmd)
	r.mu.Unlock()
	return err
}

// killAll kills every server still running (on exit or a signal).
func (r *runner) killAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.running {
		c.Process.Kill()
	}
}

func (r *runner) run() (*Results, error) {
	if err := r.build(); err != nil {
		return nil, err
	}
	res := &Results{Meta: machine()}
	res.Meta.Mode = "full"
	if r.plan.quick {
		res.Meta.Mode = "quick"
	}
	res.Meta.Reps = r.plan.reps
	res.Meta.Duration = r.plan.httpDur.String()
	res.Meta.Pinned = r.pinned
	if r.plan.only["http"] {
		if err := r.runHTTP(res); err != nil {
			return nil, err
		}
	}
	if r.plan.only["ws"] {
		if err := r.runWS(res); err != nil {
			return nil, err
		}
	}
	if r.plan.only["idle"] {
		if err := r.runIdle(res); err != nil {
			return nil, err
		}
	}
	if r.plan.only["micro"] {
		if err := r.runMicro(); err != nil {
			return nil, err
		}
	}
	res.Meta.LoadEnd = loadavg()
	res.Meta.Notes = r.notes
	return res, nil
}

func (r *runner) runHTTP(res *Results) error {
	for rep := 1; rep <= r.plan.reps; rep++ {
		for _, scenario := range []string{"plain", "pipe" + strconv.Itoa(r.plan.depth)} {
			for _, conns := range r.plan.httpConns {
				for _, name := range r.plan.httpServers {
					s, err := r.start(name, false)
					if err != nil {
						return err
					}
					sm, werr := r.wrk(s, scenario != "plain", conns)
					if serr := r.stop(s); serr != nil && werr == nil {
						r.note("%s exited with %v on stop", name, serr)
					}
					if werr != nil {
						return fmt.Errorf("wrk against %s: %w", name, werr)
					}
					sm.Kind, sm.Scenario, sm.Server, sm.Rep, sm.Conns = "http", scenario, name, rep, conns
					res.Samples = append(res.Samples, sm)
					fmt.Fprintf(os.Stderr, "suite: http %s c=%d %-9s rep %d: %.0f req/s, %.2f CPU us/req, p50 %.0f us, p99 %.0f us %s\n",
						scenario, conns, name, rep, sm.RPS, sm.CPUus, sm.P50us, sm.P99us, sm.Errors)
				}
			}
		}
	}
	return nil
}

// wrk runs wrk against s and reads the server's CPU time around it.
func (r *runner) wrk(s *server, pipelined bool, conns int) (Sample, error) {
	args := []string{"wrk", "-t1", "-c" + strconv.Itoa(conns), "-d" + secs(r.plan.httpDur), "--latency",
		"http://" + s.addr + "/plaintext"}
	if pipelined {
		args = append(args, "-s", filepath.Join(r.dir, "pipeline.lua"), "--", strconv.Itoa(r.plan.depth))
	}
	argv := r.pin("1", args...)
	cpu0, err := proc.CPU(s.pid)
	if err != nil {
		return Sample{}, err
	}
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return Sample{}, fmt.Errorf("%v: %s", err, out)
	}
	cpu1, err := proc.CPU(s.pid)
	if err != nil {
		return Sample{}, err
	}
	sm, err := parseWrk(out)
	if err != nil {
		return sm, err
	}
	if sm.Requests > 0 {
		sm.CPUus = float64((cpu1 - cpu0).Microseconds()) / float64(sm.Requests)
	}
	return sm, nil
}

func secs(d time.Duration) string { return strconv.Itoa(int(d.Seconds())) + "s" }

var errWrkOutput = errors.New("suite: unexpected wrk output")

// parseWrk reads requests, requests/s, the 50% and 99% latency and any
// error lines from wrk --latency output.
func parseWrk(out []byte) (Sample, error) {
	var s Sample
	var errs []string
	haveRPS := false
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return s, errWrkOutput
			}
			s.RPS, haveRPS = v, true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return s, errWrkOutput
			}
			s.Requests = n
		case len(f) == 2 && f[0] == "50%":
			s.P50us = wrkDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			s.P99us = wrkDuration(f[1])
		case len(f) > 0 && (f[0] == "Socket" || f[0] == "Non-2xx"):
			errs = append(errs, strings.Join(f, " "))
		}
	}
	if !haveRPS {
		return s, errWrkOutput
	}
	s.Errors = strings.Join(errs, "; ")
	return s, nil
}

// wrkDuration converts wrk's "123.45us", "1.20ms", "2.00s", "1.5m" to µs.
func wrkDuration(v string) float64 {
	for _, u := range []struct {
		suffix string
		us     float64
	}{{"us", 1}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			x, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0
			}
			return x * u.us
		}
	}
	return 0
}

// wsResult is the part of wsload's JSON line the suite records.
type wsResult struct {
	MsgPerSec      float64 `json:"msg_per_s"`
	Messages       int64   `json:"messages"`
	P50us          float64 `json:"p50_us"`
	P99us          float64 `json:"p99_us"`
	CPUusPerMsg    float64 `json:"server_cpu_us_per_msg"`
	ClientCPUus    float64 `json:"client_cpu_us_per_msg"`
	RSSBefore      int64   `json:"rss_before"`
	RSSAfter       int64   `json:"rss_after"`
	BytesPerConn   float64 `json:"bytes_per_conn"`
	BytesPerConnGC float64 `json:"bytes_per_conn_gc"`
	Negotiated     bool    `json:"deflate_negotiated"`
	Errors         int64   `json:"errors"`
	FirstError     string  `json:"first_error"`
}

func (r *runner) wsload(s *server, args ...string) (wsResult, error) {
	all := append([]string{r.wsloadBin, "-addr", s.addr, "-pid", strconv.Itoa(s.pid)}, args...)
	argv := r.pin("1", all...)
	var stderr bytes.Buffer
	c := exec.Command(argv[0], argv[1:]...)
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		return wsResult{}, fmt.Errorf("wsload: %v: %s", err, stderr.String())
	}
	var w wsResult
	if err := json.Unmarshal(out, &w); err != nil {
		return w, fmt.Errorf("wsload output %q: %w", out, err)
	}
	return w, nil
}

func (r *runner) runWS(res *Results) error {
	type pt struct {
		size    int
		deflate bool
		depth   int
	}
	var pts []pt
	for _, depth := range r.plan.wsDepths {
		for _, size := range r.plan.wsSizes {
			pts = append(pts, pt{size, false, depth})
		}
	}
	pts = append(pts, pt{r.plan.deflateSize, true, 1})
	for rep := 1; rep <= r.plan.reps; rep++ {
		for _, p := range pts {
			for _, name := range r.plan.wsServers {
				if p.deflate && name == "ws-gobwas" {
					if rep == 1 {
						r.note("ws-gobwas has no permessage-deflate echo (gobwas/ws's low-level API leaves extensions to the caller): not in the deflate point")
					}
					continue
				}
				s, err := r.start(name, p.deflate)
				if err != nil {
					return err
				}
				args := []string{"-conns", strconv.Itoa(r.plan.wsConns), "-size", strconv.Itoa(p.size), "-depth", strconv.Itoa(p.depth), "-duration", r.plan.wsDur.String()}
				if p.deflate {
					args = append(args, "-deflate")
				}
				w, werr := r.wsload(s, args...)
				if serr := r.stop(s); serr != nil && werr == nil {
					r.note("%s exited with %v on stop", name, serr)
				}
				if werr != nil {
					return fmt.Errorf("%s: %w", name, werr)
				}
				sm := Sample{Kind: "ws", Server: name, Rep: rep, Conns: r.plan.wsConns, Size: p.size, Deflate: p.deflate, Depth: p.depth,
					RPS: w.MsgPerSec, Requests: w.Messages, CPUus: w.CPUusPerMsg, ClientCPUus: w.ClientCPUus, P50us: w.P50us, P99us: w.P99us}
				if w.Errors > 0 {
					sm.Errors = fmt.Sprintf("%d connections failed: %s", w.Errors, w.FirstError)
				}
				if p.deflate && !w.Negotiated {
					sm.Errors += " permessage-deflate not negotiated"
				}
				res.Samples = append(res.Samples, sm)
				fmt.Fprintf(os.Stderr, "suite: ws %s deflate=%v depth %d %-10s rep %d: %.0f msg/s, %.2f CPU us/msg (client %.2f), p50 %.0f us, p99 %.0f us %s\n",
					sizeName(p.size), p.deflate, p.depth, name, rep, sm.RPS, sm.CPUus, sm.ClientCPUus, sm.P50us, sm.P99us, sm.Errors)
			}
		}
	}
	return nil
}

func (r *runner) runIdle(res *Results) error {
	for rep := 1; rep <= r.plan.reps; rep++ {
		for _, n := range r.plan.idleConns {
			for _, name := range r.plan.wsServers {
				s, err := r.start(name, false)
				if err != nil {
					return err
				}
				w, werr := r.wsload(s, "-idle", "-gc", "-conns", strconv.Itoa(n), "-settle", "1s")
				if serr := r.stop(s); serr != nil && werr == nil {
					r.note("%s exited with %v on stop", name, serr)
				}
				if werr != nil {
					return fmt.Errorf("%s: %w", name, werr)
				}
				sm := Sample{Kind: "idle", Server: name, Rep: rep, Conns: n, BytesPerConn: w.BytesPerConn,
					RSSBefore: w.RSSBefore, RSSAfter: w.RSSAfter, BytesPerConnGC: w.BytesPerConnGC}
				res.Samples = append(res.Samples, sm)
				fmt.Fprintf(os.Stderr, "suite: idle c=%d %-10s rep %d: %.0f bytes/conn (RSS %d -> %d), %.0f after GC\n",
					n, name, rep, sm.BytesPerConn, sm.RSSBefore, sm.RSSAfter, sm.BytesPerConnGC)
			}
		}
	}
	return nil
}

// runMicro runs the microbenchmarks in interleaved rounds (every benchmark
// once per round, so load drift hits all of them alike), pinned to core 0,
// and summarises them with benchstat and cmd/ratios.
func (r *runner) runMicro() error {
	resDir := filepath.Join(r.dir, "results")
	benchTest := filepath.Join(r.tmp, "benchmarks.test")
	codecTest := filepath.Join(r.tmp, "codecws.test")
	if out, err := r.goCmd("test", "-c", "-o", benchTest, "."); err != nil {
		return fmt.Errorf("building benchmarks tests: %v\n%s", err, out)
	}
	c := exec.Command("go", "test", "-c", "-o", codecTest, "./codec/ws")
	c.Dir = filepath.Dir(r.dir)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("building codec/ws tests: %v\n%s", err, out)
	}
	load0 := loadavg()
	var parse, micro bytes.Buffer
	for round := 1; round <= r.plan.microCount; round++ {
		fmt.Fprintf(os.Stderr, "suite: microbenchmarks round %d of %d\n", round, r.plan.microCount)
		for _, b := range []struct {
			bin, pattern string
			out          *bytes.Buffer
		}{
			{benchTest, "^BenchmarkParse", &parse},
			{benchTest, "^BenchmarkWS", &micro},
			{codecTest, "^Benchmark(Mask|ParseHeader|Deflate)$", &micro},
		} {
			argv := r.pin("0", b.bin, "-test.run", "^$", "-test.bench", b.pattern, "-test.benchmem",
				"-test.benchtime", r.plan.microTime, "-test.count", "1")
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = filepath.Dir(b.bin)
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s: %v\n%s", filepath.Base(b.bin), err, out)
			}
			for line := range strings.Lines(string(out)) {
				if strings.HasPrefix(line, "PASS") || strings.HasPrefix(line, "ok ") {
					continue
				}
				b.out.WriteString(line)
			}
		}
	}
	files := map[string]*bytes.Buffer{"parse.txt": &parse, "micro.txt": &micro}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(resDir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	bs, err := benchstatPath()
	if err != nil {
		r.note("benchstat not found (run.sh installs it): no benchstat tables")
	} else {
		for _, f := range []string{"parse", "micro"} {
			// Relative names: benchstat prints the file name as the column
			// header.
			bc := exec.Command(bs, f+".txt")
			bc.Dir = resDir
			out, err := bc.Output()
			if err != nil {
				return fmt.Errorf("benchstat %s.txt: %v", f, err)
			}
			if err := os.WriteFile(filepath.Join(resDir, f+".benchstat.txt"), out, 0o644); err != nil {
				return err
			}
		}
	}
	out, err := r.goCmd("run", "./cmd/ratios", "-mode", "parse", filepath.Join(resDir, "parse.txt"))
	if err != nil {
		return fmt.Errorf("cmd/ratios: %v\n%s", err, out)
	}
	out = append(out, fmt.Sprintf("\n%d interleaved rounds, -benchtime %s; load average (1/5/15 min) at start: %s; at end: %s\n",
		r.plan.microCount, r.plan.microTime, load0, loadavg())...)
	return os.WriteFile(filepath.Join(resDir, "parse.ratios.txt"), out, 0o644)
}

func benchstatPath() (string, error) {
	if p, err := exec.LookPath("benchstat"); err == nil {
		return p, nil
	}
	gp, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", err
	}
	p := filepath.Join(strings.TrimSpace(string(gp)), "bin", "benchstat")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// machine describes the host for the report.
func machine() Meta {
	m := Meta{Date: time.Now().UTC().Format(time.RFC3339), NProc: runtime.NumCPU(), LoadStart: loadavg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("wrk", "-v").CombinedOutput(); err == nil || len(out) > 0 {
		m.Wrk = firstLine(out)
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
