//go:build !race

package benchmarks

import (
	"testing"

	evhttp "github.com/evhttpd/httpd/codec/http"
)

// TestParseAlloc holds the evhttpd side of the comparison to the 0 allocs/op
// the benchmarks report: whole, byte at a time, and the worst cases.
func TestParseAlloc(t *testing.T) {
	e := newEvParser(evhttp.Limits{})
	for _, in := range parseInputs {
		b := []byte(in.req)
		t.Run(in.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() {
				if _, err := e.parse(b); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Parse(%q) allocates %v times; want 0", in.req, n)
			}
			if n := testing.AllocsPerRun(20, func() {
				if _, err := e.parseByteAtATime(b); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("byte at a time Parse(%q) allocates %v times; want 0", in.req, n)
			}
		})
	}
	w := newEvParser(worstLimits)
	fields := manyFields(10000)
	if n := testing.AllocsPerRun(20, func() {
		w.p.Reset()
		if _, err := w.p.ParseHead(fields); err != evhttp.ErrTooManyHeaders {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Parse(10000 tiny fields) allocates %v times; want 0", n)
	}
	long := longLine(4 << 10)
	if n := testing.AllocsPerRun(5, func() {
		if _, err := w.parseByteAtATime(long); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("byte at a time Parse(4 KiB field) allocates %v times; want 0", n)
	}
}
