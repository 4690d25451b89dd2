//go:build !race

package gnet

import (
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// TestWakeAlloc: Wake allocates nothing, whether it sends a datagram or
// finds one already on its way. AllocsPerRun counts the whole process, and
// the loop allocates for each datagram it receives (gnet's per-datagram conn),
// so the loop is held inside a task while Wake is measured; the datagrams
// wait in the socket and are served once it is let go.
func TestWakeAlloc(t *testing.T) {
	h := newWakeCounter(1)
	e := start(t, engine.Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Hour}, h)
	ls := e.loopList()[0]
	release := holdLoop(t, e)
	wakesBefore := h.total()
	sentBefore := e.st.sent.Load()
	// Every call finds the bell silent and sends a datagram. 100 datagrams
	// fit in the loop's receive buffer.
	const sends = 100
	sending := testing.AllocsPerRun(sends, func() {
		ls.Bell.Take()
		_ = e.Wake(0)
	})
	// The bell is now set: every call finds a delivery on its way.
	coalesced := testing.AllocsPerRun(1000, func() { _ = e.Wake(0) })
	sent := e.st.sent.Load() - sentBefore
	close(release)
	if sending != 0 {
		t.Errorf("Wake sending a doorbell: %v allocs/op; want 0", sending)
	}
	if coalesced != 0 {
		t.Errorf("Wake with a doorbell on its way: %v allocs/op; want 0", coalesced)
	}
	// AllocsPerRun makes one extra warm-up call per measurement.
	if sent != sends+1 {
		t.Errorf("datagrams sent = %d; want %d (one per silent-bell Wake, none when coalesced)", sent, sends+1)
	}
	waitFor(t, "the loop to serve the doorbells once let go", func() bool { return h.total() != wakesBefore })
}
