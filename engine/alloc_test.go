//go:build !race

package engine

import (
	"io"
	"net"
	"runtime"
	"testing"
	"time"
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
// finds one already on its way.
func TestWakeAlloc(t *testing.T) {
	e := startEngine(t, Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, newEcho())
	defer stopEngine(t, e)
	if a := testing.AllocsPerRun(1000, func() { _ = e.Wake(0) }); a != 0 {
		t.Errorf("Wake: %v allocs/op; want 0", a)
	}
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
