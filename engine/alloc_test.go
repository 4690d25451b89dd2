//go:build !race

package engine

import (
	"context"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// TestEchoRoundTripAlloc: a steady-state echo round trip (gnet read,
// OnTraffic, Peek, Write, Discard) allocates nothing. The client reuses its
// buffers; ticks are slowed so the few allocations of gnet's per-datagram
// handling stay out of the count.
func TestEchoRoundTripAlloc(t *testing.T) {
	e := startEngine(t, Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, plainEcho{})
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
	runtime.ReadMemStats(&before)
	for range n {
		roundTrip()
	}
	runtime.ReadMemStats(&after)
	// A tiny fixed allowance covers the tick doorbells that may land in
	// the window (gnet allocates a conn and an address per datagram).
	got := after.Mallocs - before.Mallocs
	t.Logf("%d round trips: %d allocations in the whole process", n, got)
	if got > 50 {
		t.Errorf("%d round trips: %d allocations (%.3f per trip); want <= 50 in all", n, got, float64(got)/n)
	}
}

// TestWakeAlloc: Wake allocates nothing, whether it sends a datagram or
// finds one already on its way. AllocsPerRun counts the whole process, and
// the loop allocates for each datagram it receives (gnet's per-datagram conn),
// so the loop is held inside a task while Wake is measured; the datagrams
// wait in the socket and are served once it is let go.
func TestWakeAlloc(t *testing.T) {
	e := startEngine(t, Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Hour}, newEcho())
	defer stopEngine(t, e)
	ls := e.loopList()[0]
	held, release := make(chan struct{}), make(chan struct{})
	if err := ls.gel.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		close(held)
		<-release
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	<-held
	wakesBefore := ls.wakes.Load()
	sentBefore := e.st.sent.Load()
	// Every call finds the bell silent and sends a datagram. 100 datagrams
	// fit in the loop's receive buffer.
	const sends = 100
	sending := testing.AllocsPerRun(sends, func() {
		ls.bell.Store(0)
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
	waitFor(t, "the loop to serve the doorbells once let go", func() bool { return ls.wakes.Load() != wakesBefore })
}

// TestTimerAlloc: SetTimer and cancel allocate nothing.
func TestTimerAlloc(t *testing.T) {
	var wh wheel
	start := time.Now()
	wh.init(time.Millisecond, 64, start)
	w := &conn{}
	d := 10 * time.Millisecond
	if a := testing.AllocsPerRun(1000, func() {
		wh.set(w, d, start)
		d += time.Millisecond
		wh.cancel(w)
	}); a != 0 {
		t.Errorf("set+cancel: %v allocs/op; want 0", a)
	}
}
