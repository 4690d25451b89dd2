// Command ratios turns the raw results of parse.sh and http.sh into medians
// and the ratios of evhttpd against its peers, so no ratio in a report is
// computed by hand.
//
//	ratios -mode parse results/parse.txt
//	ratios -mode http results/http.raw
//
// In parse mode the input is `go test -bench` output repeated with -count;
// the medians are those benchstat shows in its table (benchstat reports the
// median as its centre). In http mode every line is
// `<scenario> <server> <repetition> <requests/s>`.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	mode := flag.String("mode", "parse", "input format: parse (go test -bench output) or http (http.sh samples)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ratios [-mode parse|http] FILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	defer f.Close()
	switch *mode {
	case "parse":
		var s samples
		if s, err = parseBench(f); err == nil {
			err = reportParse(os.Stdout, s)
		}
	case "http":
		var s samples
		if s, err = parseHTTP(f); err == nil {
			err = reportHTTP(os.Stdout, s)
		}
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

// samples maps a benchmark (without its -GOMAXPROCS suffix) to the values
// of each unit, one per run.
type samples map[string]map[string][]float64

func (s samples) add(name, unit string, v float64) {
	m := s[name]
	if m == nil {
		m = map[string][]float64{}
		s[name] = m
	}
	m[unit] = append(m[unit], v)
}

// median returns the median of name's values in unit and whether any exist.
func (s samples) median(name, unit string) (float64, bool) {
	v := slices.Clone(s[name][unit])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

var errNoSamples = errors.New("no benchmark results in input")

// parseBench reads the Go benchmark format: lines
// `BenchmarkName-P  iterations  value unit  value unit ...`.
func parseBench(r io.Reader) (samples, error) {
	s := samples{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad value %q", f[0], f[i])
			}
			s.add(name, f[i+1], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, errNoSamples
	}
	return s, nil
}

// The inputs and parsers of parse_test.go, in report order.
var (
	parseInputs  = []string{"Wrk49", "Hdr219", "Browser700", "ChunkedPost"}
	parsePeers   = []string{"fasthttp", "nethttp"}
	worstCases   = []string{"Fields/1k", "Fields/10k", "LongLine/4KiB", "LongLine/16KiB", "LongLine/32KiB"}
	parseTargets = []struct {
		input, peer string
		min         float64 // evhttpd must be at least this many times faster
	}{{"Hdr219", "fasthttp", 2.3}, {"Hdr219", "nethttp", 7}}
	maxByteAtATime = 3.0 // byte-at-a-time may cost at most this many whole parses
)

func reportParse(w io.Writer, s samples) error {
	ns := func(name string) (float64, bool) { return s.median(name, "ns/op") }
	runs := len(s["BenchmarkParseRequest/Hdr219/evhttpd"]["ns/op"])
	fmt.Fprintf(w, "Medians of %d runs. \"vs X\" is X's ns/op over evhttpd's: above 1 means evhttpd is faster.\n\n", runs)
	fmt.Fprintf(w, "%-12s %12s %12s %12s %12s %12s %10s\n", "input", "evhttpd ns", "fasthttp ns", "nethttp ns", "vs fasthttp", "vs nethttp", "ev allocs")
	var missed []string
	for _, in := range parseInputs {
		ev, ok := ns("BenchmarkParseRequest/" + in + "/evhttpd")
		if !ok {
			continue
		}
		allocs, _ := s.median("BenchmarkParseRequest/"+in+"/evhttpd", "allocs/op")
		if allocs != 0 {
			missed = append(missed, fmt.Sprintf("%s: evhttpd %.0f allocs/op; want 0", in, allocs))
		}
		row := fmt.Sprintf("%-12s %12.1f", in, ev)
		var ratios string
		for _, p := range parsePeers {
			v, ok := ns("BenchmarkParseRequest/" + in + "/" + p)
			if !ok {
				row += fmt.Sprintf(" %12s", "-")
				ratios += fmt.Sprintf(" %12s", "-")
				continue
			}
			row += fmt.Sprintf(" %12.1f", v)
			ratios += fmt.Sprintf(" %11.2fx", v/ev)
		}
		fmt.Fprintf(w, "%s%s %10.0f\n", row, ratios, allocs)
	}

	fmt.Fprintf(w, "\n%-14s %10s %12s %12s %12s %10s\n", "byte at a time", "ns/op", "x whole", "floor ns/op", "x floor", "allocs")
	for _, in := range parseInputs {
		one, ok1 := ns("BenchmarkParseByteAtATime/" + in)
		whole, ok2 := ns("BenchmarkParseRequest/" + in + "/evhttpd")
		if !ok1 || !ok2 {
			continue
		}
		allocs, _ := s.median("BenchmarkParseByteAtATime/"+in, "allocs/op")
		floor, ok := ns("BenchmarkParseCallFloor/" + in)
		floorCols := fmt.Sprintf(" %12s %12s", "-", "-")
		if ok {
			floorCols = fmt.Sprintf(" %12.1f %11.2fx", floor, one/floor)
		}
		fmt.Fprintf(w, "%-14s %10.1f %11.2fx%s %10.0f\n", in, one, one/whole, floorCols, allocs)
		if one/whole > maxByteAtATime {
			missed = append(missed, fmt.Sprintf("%s: byte at a time costs %.2f whole parses; want <= %.1f", in, one/whole, maxByteAtATime))
		}
	}

	fmt.Fprintf(w, "\n%-16s %12s %8s %10s\n", "worst case", "ns/op", "ns/B", "allocs")
	for _, c := range worstCases {
		name := "BenchmarkParseWorstCase/" + c
		v, ok := ns(name)
		if !ok {
			continue
		}
		perByte, _ := s.median(name, "ns/B")
		allocs, _ := s.median(name, "allocs/op")
		fmt.Fprintf(w, "%-16s %12.0f %8.2f %10.0f\n", c, v, perByte, allocs)
	}

	fmt.Fprintln(w, "\ntargets:")
	for _, t := range parseTargets {
		ev, ok1 := ns("BenchmarkParseRequest/" + t.input + "/evhttpd")
		peer, ok2 := ns("BenchmarkParseRequest/" + t.input + "/" + t.peer)
		if !ok1 || !ok2 {
			continue
		}
		verdict := "met"
		if peer/ev < t.min {
			verdict = "MISSED"
			missed = append(missed, fmt.Sprintf("%s: %.2fx faster than %s; want >= %.1fx", t.input, peer/ev, t.peer, t.min))
		}
		fmt.Fprintf(w, "  %s vs %s: %.2fx (want >= %.1fx) %s\n", t.input, t.peer, peer/ev, t.min, verdict)
	}
	if len(missed) == 0 {
		fmt.Fprintln(w, "  all targets met")
	}
	for _, m := range missed {
		fmt.Fprintln(w, "  MISSED", m)
	}
	return nil
}

// parseHTTP reads http.sh samples: `<scenario> <server> <rep> <req/s>`.
// The sample name is "<scenario>/<server>", the unit "req/s".
func parseHTTP(r io.Reader) (samples, error) {
	s := samples{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("line %d: want 4 fields, have %d", line, len(f))
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad req/s %q", line, f[3])
		}
		s.add(f[0]+"/"+f[1], "req/s", v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, errNoSamples
	}
	return s, nil
}

func reportHTTP(w io.Writer, s samples) error {
	var scenarios, servers []string
	for name := range s {
		sc, srv, _ := strings.Cut(name, "/")
		if !slices.Contains(scenarios, sc) {
			scenarios = append(scenarios, sc)
		}
		if !slices.Contains(servers, srv) {
			servers = append(servers, srv)
		}
	}
	slices.Sort(scenarios)
	slices.Sort(servers)
	fmt.Fprintln(w, "Median requests/s. \"evhttpd/X\" above 1 means evhttpd served more.")
	for _, sc := range scenarios {
		fmt.Fprintf(w, "\n%s\n", sc)
		ev, hasEv := s.median(sc+"/evhttpd", "req/s")
		for _, srv := range servers {
			v, ok := s.median(sc+"/"+srv, "req/s")
			if !ok {
				continue
			}
			n := len(s[sc+"/"+srv]["req/s"])
			line := fmt.Sprintf("  %-10s %12.0f req/s (%d runs)", srv, v, n)
			if hasEv && srv != "evhttpd" && v > 0 {
				line += fmt.Sprintf("   evhttpd/%s = %.2f", srv, ev/v)
			}
			fmt.Fprintln(w, line)
		}
	}
	return nil
}
