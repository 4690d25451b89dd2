package gnet

import (
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/engine/enginetest"
)

// leakIgnore names gnet's process-wide goroutines: its worker pool (ants)
// keeps idle workers for up to 10s after Enroll used them, and its purge
// goroutines live as long as the process.
var leakIgnore = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
	goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
	goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
}

var suite = enginetest.Suite{Backend: Name, LeakIgnore: leakIgnore}

// TestConformance runs the engine conformance suite on gnet.
func TestConformance(t *testing.T) { enginetest.Run(t, suite) }

// TestConformanceAlloc runs the suite's allocation gates (not under -race).
func TestConformanceAlloc(t *testing.T) { enginetest.RunAlloc(t, suite) }

func BenchmarkConformance(b *testing.B) { enginetest.Bench(b, suite) }

// BenchmarkConnect varies EnrollQueue: a small bound costs no connection
// rate (each enrolment is a short hand-off to the loop) and keeps gnet's
// worker pool, one goroutine per enrolment in flight, small after a burst.
func BenchmarkConnect(b *testing.B) {
	for _, q := range []int{8, 64, 1024} {
		b.Run("EnrollQueue="+strconv.Itoa(q), func(b *testing.B) {
			enginetest.BenchConnect(b, suite, engine.Config{Loops: 1, Options: &Options{EnrollQueue: q}})
		})
	}
}
