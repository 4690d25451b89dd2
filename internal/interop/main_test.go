package interop

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine/netpoll" // the second engine backend (EVHTTPD_ENGINE=netpoll)
)

// TestMain fails the run if a test left goroutines behind: every server is
// stopped and every client connection closed by the end of its test. gnet's
// worker pool (ants) keeps its own workers and purger alive by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		goleak.IgnoreAnyFunction(netpoll.PollerFunction), // process-wide, started once
	)
}
