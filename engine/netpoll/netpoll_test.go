//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine/enginetest"
)

// leakIgnore names netpoll's process-wide goroutines: its pollers, started
// on first use, live as long as the process.
var leakIgnore = []goleak.Option{
	goleak.IgnoreAnyFunction(PollerFunction),
}

// netpoll allocates twice per readable event: the task closure its
// OnRequest dispatch builds (connection.onProcess) and the goroutine closure
// of the pooled worker that runs it (gopool).
var suite = enginetest.Suite{Backend: Name, LeakIgnore: leakIgnore, PollerAllocs: 2}

// TestConformance runs the engine conformance suite on netpoll. netpoll's
// pollers (an epoll or kqueue descriptor and a wake-up descriptor each) are
// started first: they live as long as the process, not an engine, so the
// suite's leak checks must not count them.
func TestConformance(t *testing.T) {
	StartPollers()
	enginetest.Run(t, suite)
}

// TestConformanceAlloc runs the suite's allocation gates (not under -race).
func TestConformanceAlloc(t *testing.T) { enginetest.RunAlloc(t, suite) }

func BenchmarkConformance(b *testing.B) { enginetest.Bench(b, suite) }
