//go:build !race

package enginetest

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

func init() { allocTests = append(allocTests, namedTest{"EchoRoundTrip", testEchoRoundTripAlloc}) }

// testEchoRoundTripAlloc: a steady-state echo round trip (the poller's read,
// OnTraffic, Peek, Write, Discard) allocates nothing beyond what the poller
// library allocates per readable event by design (Suite.PollerAllocs). The
// client reuses its buffers; ticks are slowed so the few allocations of
// gnet's per-datagram handling stay out of the count.
func testEchoRoundTripAlloc(t *testing.T) {
	e := startEngine(t, engine.Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, plainEcho{})
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	buf := make([]byte, len(msg))
	roundTrip := func() {
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
	}
	for range 1000 { // warm up: pools, buffers, goroutine stacks
		roundTrip()
	}
	const n = 10000
	var before, after runtime.MemStats
	runtime.GC()
	// The collection emptied the sync.Pools a poller library may keep
	// (netpoll's task and worker objects): refill them before counting.
	for range 100 {
		roundTrip()
	}
	runtime.ReadMemStats(&before)
	for range n {
		roundTrip()
	}
	runtime.ReadMemStats(&after)
	// A tiny fixed allowance covers the tick doorbells that may land in
	// the window (gnet allocates a conn and an address per datagram).
	got := after.Mallocs - before.Mallocs
	allowed := 50 + uint64(suite.PollerAllocs*n)
	t.Logf("%d round trips: %d allocations in the whole process (%.3f per trip; the poller's own: %d per trip)", n, got, float64(got)/n, suite.PollerAllocs)
	if got > allowed {
		t.Errorf("%d round trips: %d allocations (%.3f per trip); want <= %d in all", n, got, float64(got)/n, allowed)
	}
}
