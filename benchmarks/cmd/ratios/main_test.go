package main

import (
	"strings"
	"testing"
)

const benchOut = `goos: linux
BenchmarkParseRequest/Hdr219/evhttpd-2   	 1000	  100.0 ns/op	 2190.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseRequest/Hdr219/evhttpd-2   	 1000	  300.0 ns/op	 730.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseRequest/Hdr219/evhttpd-2   	 1000	  120.0 ns/op	 1825.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseRequest/Hdr219/fasthttp-2  	 1000	  360.0 ns/op	 608.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseRequest/Hdr219/nethttp     	 1000	  600.0 ns/op	 365.00 MB/s	 1528 B/op	 18 allocs/op
BenchmarkParseByteAtATime/Hdr219-2       	 1000	  480.0 ns/op	 456.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseCallFloor/Hdr219-2         	 1000	  240.0 ns/op	 912.00 MB/s	 0 B/op	 0 allocs/op
BenchmarkParseWorstCase/Fields/1k-2      	 1000	  9000 ns/op	 140.00 MB/s	 7.00 ns/B	 0 B/op	 0 allocs/op
PASS
`

func TestParseBench(t *testing.T) {
	s, err := parseBench(strings.NewReader(benchOut))
	if err != nil {
		t.Fatalf("parseBench = %v; want nil", err)
	}
	for _, c := range []struct {
		name, unit string
		want       float64
	}{
		{"BenchmarkParseRequest/Hdr219/evhttpd", "ns/op", 120},
		{"BenchmarkParseRequest/Hdr219/fasthttp", "ns/op", 360},
		{"BenchmarkParseRequest/Hdr219/nethttp", "allocs/op", 18},
		{"BenchmarkParseWorstCase/Fields/1k", "ns/B", 7},
	} {
		t.Run(c.name+"/"+c.unit, func(t *testing.T) {
			if got, ok := s.median(c.name, c.unit); !ok || got != c.want {
				t.Errorf("median(%q, %q) = %v, %v; want %v", c.name, c.unit, got, ok, c.want)
			}
		})
	}
}

func TestMedianEven(t *testing.T) {
	s := samples{}
	for _, v := range []float64{4, 1, 3, 2} {
		s.add("x", "req/s", v)
	}
	if got, _ := s.median("x", "req/s"); got != 2.5 {
		t.Errorf("median(4 1 3 2) = %v; want 2.5", got)
	}
	if _, ok := s.median("y", "req/s"); ok {
		t.Errorf("median(missing) reported a value")
	}
}

func TestReportParse(t *testing.T) {
	s, err := parseBench(strings.NewReader(benchOut))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := reportParse(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// 360/120 = 3.00 vs fasthttp (met), 600/120 = 5.00 vs net/http (missed),
	// byte at a time 480/120 = 4.00 whole parses (missed).
	for _, want := range []string{"3.00x", "5.00x", "4.00x", "2.00x", "Hdr219 vs fasthttp: 3.00x (want >= 2.3x) met", "MISSED Hdr219: 5.00x faster than nethttp", "MISSED Hdr219: byte at a time costs 4.00"} {
		if !strings.Contains(out, want) {
			t.Errorf("reportParse output lacks %q:\n%s", want, out)
		}
	}
}

func TestParseHTTP(t *testing.T) {
	in := "# comment\nplain evhttpd 1 300\nplain evhttpd 2 100\nplain evhttpd 3 200\nplain fasthttp 1 100\npipe16 evhttpd 1 50\n"
	s, err := parseHTTP(strings.NewReader(in))
	if err != nil {
		t.Fatalf("parseHTTP = %v; want nil", err)
	}
	var b strings.Builder
	if err := reportHTTP(&b, s); err != nil {
		t.Fatal(err)
	}
	if want := "evhttpd/fasthttp = 2.00"; !strings.Contains(b.String(), want) {
		t.Errorf("reportHTTP output lacks %q:\n%s", want, b.String())
	}
	for _, bad := range []string{"plain evhttpd 1\n", "plain evhttpd 1 fast\n", ""} {
		if _, err := parseHTTP(strings.NewReader(bad)); err == nil {
			t.Errorf("parseHTTP(%q) = nil; want an error", bad)
		}
	}
}
