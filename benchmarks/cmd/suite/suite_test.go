package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const wrkOut = `Running 2s test @ http://127.0.0.1:21001/plaintext
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.43ms    2.10ms  40.02ms   92.12%
    Req/Sec    34.23k     1.20k   36.00k    70.00%
  Latency Distribution
     50%  724.00us
     75%    1.20ms
     90%    3.10ms
     99%   16.41ms
  68123 requests in 2.00s, 9.87MB read
  Socket errors: connect 0, read 0, write 0, timeout 3
Requests/sec:  34061.50
Transfer/sec:      4.93MB
`

func TestParseWrk(t *testing.T) {
	s, err := parseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatalf("parseWrk = %v", err)
	}
	want := Sample{RPS: 34061.5, Requests: 68123, P50us: 724, P99us: 16410, Errors: "Socket errors: connect 0, read 0, write 0, timeout 3"}
	if s != want {
		t.Errorf("parseWrk(...) = %+v; want %+v", s, want)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Errorf("parseWrk(no Requests/sec) = nil; want an error")
	}
}

func TestWrkDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
	}{{"724.00us", 724}, {"1.20ms", 1200}, {"2.00s", 2e6}, {"1.50m", 90e6}, {"junk", 0}} {
		if got := wrkDuration(tt.in); got != tt.want {
			t.Errorf("wrkDuration(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// samples builds an HTTP point where evhttpd has ev req/s and every peer
// 100 000, over three repetitions.
func httpSamples(ev float64) []Sample {
	var s []Sample
	for rep := 1; rep <= 3; rep++ {
		for _, srv := range []string{"evhttpd", "gnet-raw", "fasthttp", "nethttp"} {
			v := 100000.0
			if srv == "evhttpd" {
				v = ev + float64(rep) // medians must ignore the spread
			}
			for _, sc := range []string{"plain", "pipe16"} {
				s = append(s, Sample{Kind: "http", Scenario: sc, Server: srv, Rep: rep, Conns: 64, RPS: v})
			}
		}
	}
	return s
}

func TestEvaluate(t *testing.T) {
	m := medians(httpSamples(600000 - 2))
	checks := evaluate(m)
	met := map[string]bool{}
	for _, c := range checks {
		met[c.What] = c.Met
	}
	// 6x every peer: all HTTP targets met; the WebSocket ones were not
	// measured and must count as missed.
	for _, w := range []string{"plain c=64: evhttpd / gnet-raw", "pipe16 c=64: evhttpd / nethttp"} {
		if !met[w] {
			t.Errorf("evaluate: %q not met at 6x; checks %+v", w, checks)
		}
	}
	for _, c := range checks {
		if c.Issue == "4" && (c.Met || c.Detail != "not measured") {
			t.Errorf("evaluate: %+v; want an unmeasured WebSocket target missed", c)
		}
	}
	// At 1x, gnet-raw's 0.9 is met, fasthttp's 1.25 is not.
	m = medians(httpSamples(100000 - 2))
	for _, c := range evaluate(m) {
		switch c.What {
		case "plain c=64: evhttpd / gnet-raw":
			if !c.Met || c.Got != 1 {
				t.Errorf("at 1x: %+v; want met at 1.00", c)
			}
		case "plain c=64: evhttpd / fasthttp":
			if c.Met {
				t.Errorf("at 1x: %+v; want missed", c)
			}
		}
	}
}

func TestIdleTargets(t *testing.T) {
	s := []Sample{
		{Kind: "idle", Server: "ws-evhttpd", Conns: 10000, BytesPerConn: 900},
		{Kind: "idle", Server: "ws-gorilla", Conns: 10000, BytesPerConn: 20000},
		{Kind: "idle", Server: "ws-nbio", Conns: 10000, BytesPerConn: 800},
	}
	got := map[string]bool{}
	for _, c := range evaluate(medians(s)) {
		if c.Issue == "4" && strings.HasPrefix(c.What, "idle") {
			got[c.What] = c.Met
		}
	}
	want := map[string]bool{
		"idle c=10000: ws-evhttpd bytes per connection": true,
		"idle c=10000: ws-evhttpd / ws-gorilla":         true,
		"idle c=10000: ws-evhttpd / ws-nbio":            false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("idle target %q met = %v; want %v", k, got[k], v)
		}
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "results"), 0o755)
	ratios := "targets:\n  Hdr219 vs fasthttp: 4.15x (want >= 2.3x) met\n  MISSED Wrk49: byte at a time costs 4.61 whole parses; want <= 3.0\n\nload\n"
	os.WriteFile(filepath.Join(dir, "results", "parse.ratios.txt"), []byte(ratios), 0o644)
	micro := "BenchmarkWSMask/evhttpd/16-2 100 6.0 ns/op\nBenchmarkWSMask/gobwas/16-2 100 36.0 ns/op\nBenchmarkWSMask/evhttpd/16-2 100 8.0 ns/op\nBenchmarkWSMask/gobwas/16-2 100 40.0 ns/op\n"
	os.WriteFile(filepath.Join(dir, "results", "micro.txt"), []byte(micro), 0o644)
	res := &Results{Meta: Meta{Date: "2026-01-02T03:04:05Z", Mode: "quick", Reps: 3, Notes: []string{"a note"}}, Samples: append(httpSamples(200000),
		Sample{Kind: "ws", Server: "ws-evhttpd", Conns: 1000, Size: 64, RPS: 50000},
		Sample{Kind: "ws", Server: "ws-gws", Conns: 1000, Size: 64, RPS: 25000},
		Sample{Kind: "idle", Server: "ws-evhttpd", Conns: 10000, BytesPerConn: 900})}
	checks, err := report(dir, res)
	if err != nil {
		t.Fatalf("report = %v", err)
	}
	if len(checks) != len(targets)+2 {
		t.Errorf("report: %d checks; want %d (targets plus 2 parse lines)", len(checks), len(targets)+2)
	}
	md, err := os.ReadFile(filepath.Join(dir, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2026-01-02T03:04:05Z", "| evhttpd | 200002 | 0% | 1.00x |", "| ws-gws | 25000 | 0% | 2.00x |",
		"charts/http-plain.svg", "charts/ws-echo.svg", "charts/ws-idle.svg",
		"| 16 | 7.0 | 38.0 | 5.43x | 2 |", "- a note", "Wrk49: byte at a time",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"http-plain.svg", "http-pipe16.svg", "http-cpu.svg", "ws-echo.svg", "ws-idle.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, "charts", f))
		if err != nil || !strings.Contains(string(b), "<svg") {
			t.Errorf("chart %s: %v; want an SVG", f, err)
		}
	}
}

func TestMerge(t *testing.T) {
	old := &Results{Meta: Meta{Mode: "full", Date: "D", Reps: 3, Notes: []string{"n1"}}, Samples: []Sample{
		{Kind: "http", Server: "evhttpd", RPS: 1}, {Kind: "idle", Server: "ws-evhttpd", BytesPerConn: 5},
	}}
	r := &Results{Samples: []Sample{{Kind: "idle", Server: "ws-evhttpd", BytesPerConn: 7}}}
	r.merge(old, map[string]bool{"idle": true})
	want := []Sample{{Kind: "idle", Server: "ws-evhttpd", BytesPerConn: 7}, {Kind: "http", Server: "evhttpd", RPS: 1}}
	if len(r.Samples) != 2 || r.Samples[0] != want[0] || r.Samples[1] != want[1] {
		t.Errorf("merge: samples %+v; want %+v", r.Samples, want)
	}
	if len(r.Meta.Notes) != 2 || !strings.HasPrefix(r.Meta.Notes[0], "http samples from the full run of D") || r.Meta.Notes[1] != "n1" {
		t.Errorf("merge: notes %q", r.Meta.Notes)
	}
}

// TestWSDepthTargets: echo targets are checked at each depth apart, and
// samples from files written before depth existed count as depth 1.
func TestWSDepthTargets(t *testing.T) {
	var ss []Sample
	for _, depth := range []int{0, 4} { // 0: an older file
		for _, size := range []int{64, 1024} {
			for srv, rps := range map[string]float64{"ws-evhttpd": 100, "ws-gws": 90, "ws-nbio": 50, "ws-gorilla": 70} {
				if depth == 4 {
					rps *= 3
					if srv != "ws-evhttpd" {
						rps /= 2
					}
				}
				ss = append(ss, Sample{Kind: "ws", Server: srv, Rep: 1, Conns: 1000, Size: size, Depth: depth, RPS: rps})
			}
		}
	}
	got := map[string]bool{}
	for _, c := range evaluate(medians(ss)) {
		if c.Issue == "4" && strings.HasPrefix(c.What, "echo ") {
			got[c.What] = c.Met
		}
	}
	want := map[string]bool{
		"echo 64 B c=1000: ws-evhttpd / ws-gws":           false, // 1.11x
		"echo 64 B c=1000: ws-evhttpd / ws-gorilla":       true,  // 1.43x
		"echo 64 B c=1000 depth 4: ws-evhttpd / ws-gws":   true,  // 2.22x
		"echo 1 KiB c=1000 depth 4: ws-evhttpd / ws-nbio": true,
	}
	for what, met := range want {
		if m, ok := got[what]; !ok || m != met {
			t.Errorf("check %q: met=%v present=%v; want met=%v (all: %v)", what, m, ok, met, got)
		}
	}
}

// TestPairedRatio: the per-repetition ratio pairs samples of the same
// repetition, so drift that slows both servers of a repetition cancels,
// and repetitions only one server measured are left out.
func TestPairedRatio(t *testing.T) {
	var samples []Sample
	// The machine slows down rep by rep; evhttpd is always 1.5x the peer,
	// but the medians compare different reps' conditions only by chance.
	speed := []float64{1, 0.5, 0.8, 0.6, 0.9}
	for i, sp := range speed {
		rep := i + 1
		samples = append(samples,
			Sample{Kind: "ws", Server: "ws-evhttpd", Rep: rep, Conns: 1000, Size: 64, Depth: 1, RPS: 150000 * sp},
			Sample{Kind: "ws", Server: "ws-gws", Rep: rep, Conns: 1000, Size: 64, Depth: 1, RPS: 100000 * sp})
	}
	// A sixth repetition only evhttpd measured does not count.
	samples = append(samples, Sample{Kind: "ws", Server: "ws-evhttpd", Rep: 6, Conns: 1000, Size: 64, Depth: 1, RPS: 1})
	m := medians(samples)
	p := point{Kind: "ws", Conns: 1000, Size: 64, Depth: 1}
	c := target{Kind: "ws", Size: 64, Conns: 1000, Peer: "ws-gws", Ratio: 1.2, Higher: true}.at(p, m[p])
	if c.Paired != 1.5 || c.PairedMin != 1.5 || c.PairedMax != 1.5 {
		t.Errorf("paired = %v (%v-%v); want 1.5 (1.5-1.5)", c.Paired, c.PairedMin, c.PairedMax)
	}
	if med, lo, hi := pairedRatio(map[int]float64{1: 2}, map[int]float64{2: 1}); med != 0 || lo != 0 || hi != 0 {
		t.Errorf("no common repetition: %v %v %v; want zeros", med, lo, hi)
	}
}
