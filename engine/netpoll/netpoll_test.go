//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine/enginetest"
)

// leakIgnore names netpoll's process-wide goroutines: its pollers, started
// on first use, live as long as the process.
var leakIgnore = []goleak.Option{
	goleak.IgnoreAnyFunction(PollerFunction),
}

// netpoll allocates once per readable event: the task closure its
// OnRequest dispatch builds (connection.onProcess); with Options.Pooled,
// once more for the goroutine closure of the pooled worker that runs it
// (gopool).
var suite = enginetest.Suite{Backend: Name, LeakIgnore: leakIgnore, PollerAllocs: 1}

// pooledEnv makes this test process run the suite with Options.Pooled
// (TestConformancePooled): netpoll's runner is process-wide, so each mode
// needs a process of its own.
const pooledEnv = "EVHTTPD_NETPOLL_POOLED"

func init() {
	if os.Getenv(pooledEnv) == "1" {
		suite.Options = &Options{Pooled: true}
		suite.PollerAllocs = 2
	}
}

// TestConformance runs the engine conformance suite on netpoll. netpoll's
// pollers (an epoll or kqueue descriptor and a wake-up descriptor each) are
// started first: they live as long as the process, not an engine, so the
// suite's leak checks must not count them.
func TestConformance(t *testing.T) {
	StartPollers()
	enginetest.Run(t, suite)
}

// TestConformancePooled runs the suite and its allocation gates once more
// in a child process with Options.Pooled (netpoll's goroutine pool).
func TestConformancePooled(t *testing.T) {
	if os.Getenv(pooledEnv) == "1" {
		t.Skip("this process runs the pooled suite itself")
	}
	// -test.timeout as go test passes it: its timer starts the Go
	// runtime's poller before the suite counts its descriptors.
	cmd := exec.Command(os.Args[0], "-test.run", "^TestConformance(Alloc)?$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), pooledEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("conformance with Options.Pooled: %v\n%s", err, out)
	}
}

// TestConformanceAlloc runs the suite's allocation gates (not under -race).
func TestConformanceAlloc(t *testing.T) { enginetest.RunAlloc(t, suite) }

func BenchmarkConformance(b *testing.B) { enginetest.Bench(b, suite) }
