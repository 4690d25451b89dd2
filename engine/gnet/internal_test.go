package gnet

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/engine/enginetest"
)

// The conformance suite (enginetest) covers the contract; these tests look
// at what only the gnet backend has: enrolment bound, doorbell forwarding
// and rescue, and its Options.

// wakeCounter echoes and counts OnWake per loop.
type wakeCounter struct {
	mu     sync.Mutex
	opened int
	wakes  []atomic.Int64
}

func newWakeCounter(loops int) *wakeCounter { return &wakeCounter{wakes: make([]atomic.Int64, loops)} }

func (h *wakeCounter) OnOpen(engine.Conn) {
	h.mu.Lock()
	h.opened++
	h.mu.Unlock()
}
func (h *wakeCounter) OnTraffic(c engine.Conn) {
	b := c.Peek()
	if c.Write(b) == nil {
		c.Discard(len(b))
	}
}
func (h *wakeCounter) OnClose(engine.Conn, error) {}
func (h *wakeCounter) OnTimer(engine.Conn)        {}
func (h *wakeCounter) OnWake(loop int)            { h.wakes[loop].Add(1) }
func (h *wakeCounter) OnTick(int, time.Time)      {}
func (h *wakeCounter) total() (n int64) {
	for i := range h.wakes {
		n += h.wakes[i].Load()
	}
	return n
}

func start(t testing.TB, cfg engine.Config, h engine.Handler) *gnetEngine {
	t.Helper()
	return enginetest.Started(t, Start, cfg, h).(*gnetEngine)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestEnrollQueueBound: EnrollQueue defaults to 8 per loop and an explicit
// value is kept.
func TestEnrollQueueBound(t *testing.T) {
	for _, tc := range []struct{ loops, set, want int }{{1, 0, 8}, {3, 0, 24}, {2, 5, 5}} {
		e := start(t, engine.Config{Loops: tc.loops, Options: &Options{EnrollQueue: tc.set}}, newWakeCounter(tc.loops))
		if got := e.acc.Queue; got != tc.want {
			t.Errorf("Loops %d, EnrollQueue %d: queue of %d; want %d", tc.loops, tc.set, got, tc.want)
		}
	}
}

// TestOptionsInvalid: the gnet backend's own limits are ErrConfig too.
func TestOptionsInvalid(t *testing.T) {
	for name, cfg := range map[string]engine.Config{
		"too many loops":        {Loops: MaxLoops + 1},
		"negative buffer":       {Options: &Options{ReadBufferCap: -1}},
		"negative enroll queue": {Options: &Options{EnrollQueue: -1}},
		"negative probes":       {Options: &Options{CalibrationProbes: -1}},
		"options by value":      {Options: Options{}},
	} {
		cfg.Addr = "127.0.0.1:0"
		if e, err := Start(cfg, newWakeCounter(1)); !errors.Is(err, engine.ErrConfig) {
			if e != nil {
				e.Stop(context.Background())
			}
			t.Errorf("%s: Start = %v; want ErrConfig", name, err)
		}
	}
}

// pinLoops opens a connection per loop and waits until they are open.
func pinLoops(t *testing.T, e *gnetEngine, h *wakeCounter) {
	t.Helper()
	for range e.Loops() {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	waitFor(t, "conns open", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.opened == e.Loops()
	})
}

// TestWakeForwarded makes every loop but 0 lose its calibrated sender, as on
// the BSDs: their doorbells land on loop 0 and must be forwarded.
func TestWakeForwarded(t *testing.T) {
	h := newWakeCounter(3)
	e := start(t, engine.Config{Loops: 3}, h)
	pinLoops(t, e, h)
	loops := e.loopList()
	// Only loop 0's own sender is kept; it becomes everybody's. Its
	// datagrams always land on loop 0 (a connected socket keeps its hash).
	fd0 := loops[0].sender.Load()
	if fd0 < 0 {
		t.Skip("loop 0 has no direct sender on this kernel")
	}
	for _, ls := range loops[1:] {
		ls.sender.Store(-1)
	}
	e.fallbackFd.Store(fd0)
	for l := 1; l <= 2; l++ {
		for i := 0; i < 100; i++ {
			before := h.wakes[l].Load()
			if err := e.Wake(l); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "forwarded wake", func() bool { return h.wakes[l].Load() > before })
		}
	}
	if h.wakes[0].Load() != 0 {
		t.Errorf("loop 0 ran %d OnWake; want 0 (it only forwards)", h.wakes[0].Load())
	}
	if st := e.Stats(); st.DoorbellsForwarded == 0 {
		t.Errorf("Stats.DoorbellsForwarded = 0; want > 0")
	}
}

// TestLostDoorbellRescued drops a doorbell on purpose (the bell is rung
// without any datagram): the ticker must notice and deliver it.
func TestLostDoorbellRescued(t *testing.T) {
	h := newWakeCounter(1)
	e := start(t, engine.Config{Loops: 1}, h)
	// The bell must be silent first: a silent bell means no delivery is on
	// its way.
	for !e.loopList()[0].Bell.SilentToRung(engine.BellWork) {
	}
	waitFor(t, "rescued wake", func() bool { return h.total() == 1 })
	if e.Stats().BellRescues == 0 {
		t.Errorf("Stats.BellRescues = 0; want > 0")
	}
}

// TestDoorbellsCounted: wakes from many goroutines send datagrams, and every
// loop that could be reached directly has a sender.
func TestDoorbellsCounted(t *testing.T) {
	h := newWakeCounter(2)
	e := start(t, engine.Config{Loops: 2}, h)
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				_ = e.Wake((p + i) % 2)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "wakes", func() bool { return h.total() > 0 })
	st := e.Stats()
	if st.DoorbellsSent == 0 {
		t.Errorf("Stats.DoorbellsSent = 0; want > 0")
	}
	if st.DirectLoops < 1 || st.DirectLoops > 2 {
		t.Errorf("Stats.DirectLoops = %d; want 1..2", st.DirectLoops)
	}
}

// holdLoop runs a task on loop 0 that blocks until release is closed.
func holdLoop(t *testing.T, e *gnetEngine) (release chan struct{}) {
	held, release := make(chan struct{}), make(chan struct{})
	if err := e.loopList()[0].gel.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		close(held)
		<-release
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	<-held
	return release
}

// TestWakeLocal: WakeLocal runs OnWake on the named loop without a
// datagram; WakeLocal and Wake ring the same bell, so while one delivery
// is on its way any number of either add nothing to it (one OnWake); a bad
// loop is ErrLoop and a stopped engine ErrStopped.
func TestWakeLocal(t *testing.T) {
	h := newWakeCounter(2)
	e := start(t, engine.Config{Loops: 2, TimerResolution: time.Second, TickInterval: time.Hour}, h)
	sent := e.st.sent.Load()
	if err := e.WakeLocal(1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "OnWake on loop 1", func() bool { return h.wakes[1].Load() == 1 })
	if h.wakes[0].Load() != 0 {
		t.Errorf("loop 0 ran %d OnWake; want 0", h.wakes[0].Load())
	}
	if got := e.st.sent.Load() - sent; got != 0 {
		t.Errorf("WakeLocal sent %d datagrams; want 0", got)
	}

	// Coalescing across both kinds, the loop held so nothing is served.
	release := holdLoop(t, e)
	before, local, sent := h.wakes[0].Load(), e.st.local.Load(), e.st.sent.Load()
	for i := 0; i < 50; i++ {
		_ = e.WakeLocal(0)
		_ = e.Wake(0)
	}
	if got := e.st.local.Load() - local; got != 1 {
		t.Errorf("%d deliveries queued for 50 WakeLocal on a silent then rung bell; want 1", got)
	}
	if got := e.st.sent.Load() - sent; got != 0 {
		t.Errorf("Wake sent %d datagrams while a local delivery was on its way; want 0", got)
	}
	close(release)
	waitFor(t, "OnWake on loop 0", func() bool { return h.wakes[0].Load() > before })
	time.Sleep(20 * time.Millisecond)
	if got := h.wakes[0].Load() - before; got != 1 {
		t.Errorf("%d OnWake for 100 coalesced wakes; want 1", got)
	}

	if err := e.WakeLocal(2); !errors.Is(err, engine.ErrLoop) {
		t.Errorf("WakeLocal(2) on 2 loops = %v; want ErrLoop", err)
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.WakeLocal(0); !errors.Is(err, engine.ErrStopped) {
		t.Errorf("WakeLocal after Stop = %v; want ErrStopped", err)
	}
}
