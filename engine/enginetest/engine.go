package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evhttpd/httpd/engine"
)

// testLogger discards everything below Error and fails loudly on nothing:
// engine errors show up in the test's output.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// echo is the test Handler: it echoes inbound bytes and records every event,
// so tests can check that a loop's callbacks never overlap, that a
// connection's callbacks run on its loop, and exactly-once OnClose.
type echo struct {
	mu       sync.Mutex
	opened   map[engine.Conn]int // conn -> loop at open
	closed   map[engine.Conn]int // conn -> OnClose count
	closeErr map[engine.Conn]error
	affinity []string // violations

	onOpen    func(c engine.Conn)
	onTraffic func(c engine.Conn) bool // returns true when it handled the bytes itself
	onTimer   func(c engine.Conn)
	onWake    func(loop int)
	onTick    func(loop int, now time.Time)
	onClose   func(c engine.Conn, err error)

	busy [maxTestLoops]atomic.Int32 // per loop: callbacks running now

	inCallback atomic.Int32 // nesting check: OnClose must not run inside another callback
	nested     atomic.Int32
}

// maxTestLoops bounds the loops of any engine the suite starts.
const maxTestLoops = 16

func newEcho() *echo {
	return &echo{
		opened:   map[engine.Conn]int{},
		closed:   map[engine.Conn]int{},
		closeErr: map[engine.Conn]error{},
	}
}

// begin marks a callback of loop as running; a second one at the same time
// is a violation of the contract. end undoes it.
func (h *echo) begin(loop int, what string) {
	if loop < 0 || loop >= maxTestLoops {
		h.violation(fmt.Sprintf("%s: loop index %d", what, loop))
		return
	}
	if n := h.busy[loop].Add(1); n != 1 {
		h.violation(fmt.Sprintf("%s: loop %d runs %d callbacks at once", what, loop, n))
	}
}

func (h *echo) end(loop int) {
	if loop >= 0 && loop < maxTestLoops {
		h.busy[loop].Add(-1)
	}
}

func (h *echo) violation(msg string) {
	h.mu.Lock()
	h.affinity = append(h.affinity, msg)
	h.mu.Unlock()
}

// onItsLoop checks that c's callbacks run on the loop it opened on.
func (h *echo) onItsLoop(c engine.Conn, what string) {
	h.mu.Lock()
	l, ok := h.opened[c]
	h.mu.Unlock()
	if ok && l != c.Loop() {
		h.violation(fmt.Sprintf("%s: conn opened on loop %d reports loop %d", what, l, c.Loop()))
	}
}

func (h *echo) enter() {
	if h.inCallback.Add(1) > 1 {
		h.nested.Add(1)
	}
}
func (h *echo) leave() { h.inCallback.Add(-1) }

func (h *echo) OnOpen(c engine.Conn) {
	h.enter()
	defer h.leave()
	h.begin(c.Loop(), "OnOpen")
	defer h.end(c.Loop())
	h.mu.Lock()
	h.opened[c] = c.Loop()
	h.mu.Unlock()
	if h.onOpen != nil {
		h.onOpen(c)
	}
}

func (h *echo) OnTraffic(c engine.Conn) {
	h.enter()
	defer h.leave()
	h.begin(c.Loop(), "OnTraffic")
	defer h.end(c.Loop())
	h.onItsLoop(c, "OnTraffic")
	if h.onTraffic != nil && h.onTraffic(c) {
		return
	}
	b := c.Peek()
	if err := c.Write(b); err != nil {
		return
	}
	c.Discard(len(b))
}

func (h *echo) OnClose(c engine.Conn, err error) {
	// OnClose runs on its own, never inside another callback of the loop;
	// all loops of one test share h, so only the 1-loop tests check nesting.
	h.begin(c.Loop(), "OnClose")
	defer h.end(c.Loop())
	h.onItsLoop(c, "OnClose")
	if h.onClose != nil {
		h.onClose(c, err)
	}
	h.mu.Lock()
	h.closed[c]++
	h.closeErr[c] = err
	h.mu.Unlock()
}

func (h *echo) OnTimer(c engine.Conn) {
	h.enter()
	defer h.leave()
	h.begin(c.Loop(), "OnTimer")
	defer h.end(c.Loop())
	h.onItsLoop(c, "OnTimer")
	if h.onTimer != nil {
		h.onTimer(c)
	}
}

func (h *echo) OnWake(loop int) {
	h.enter()
	defer h.leave()
	h.begin(loop, "OnWake")
	defer h.end(loop)
	if h.onWake != nil {
		h.onWake(loop)
	}
}

func (h *echo) OnTick(loop int, now time.Time) {
	h.enter()
	defer h.leave()
	h.begin(loop, "OnTick")
	defer h.end(loop)
	if h.onTick != nil {
		h.onTick(loop, now)
	}
}

// verifyClosed checks that every opened conn got exactly one OnClose.
func (h *echo) verifyClosed(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.opened {
		if n := h.closed[c]; n != 1 {
			t.Errorf("conn %v: OnClose ran %d times; want 1", c.RemoteAddr(), n)
		}
	}
	for c := range h.closed {
		if _, ok := h.opened[c]; !ok {
			t.Errorf("conn %v: OnClose without OnOpen", c.RemoteAddr())
		}
	}
	for _, a := range h.affinity {
		t.Error(a)
	}
}

func (h *echo) numOpened() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.opened)
}

func (h *echo) numClosed() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.closed)
}

func startEngine(t testing.TB, cfg engine.Config, h engine.Handler) engine.Engine {
	t.Helper()
	cfg = config(cfg)
	if cfg.Addr == "" && cfg.Listener == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	e, err := engine.Start(cfg, h)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return e
}

func stopEngine(t testing.TB, e engine.Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// waitFor polls cond for up to 10s (generous: the machine is shared).
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

// openFDs counts this process's open descriptors.
func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

// checkLeaks waits (bounded) for the process to return to its goroutine and
// descriptor baseline. The backend's LeakIgnore names goroutines of its
// poller library that live on by design.
func checkLeaks(t *testing.T, fds int) {
	t.Helper()
	if err := goleak.Find(suite.LeakIgnore...); err != nil {
		t.Errorf("goroutine leak after Stop: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := openFDs(t)
		if n <= fds {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("fd leak after Stop: %d open; want <= %d", n, fds)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testEcho(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("loops=%d", loops), func(t *testing.T) {
			fds := openFDs(t)
			h := newEcho()
			e := startEngine(t, engine.Config{Loops: loops}, h)
			if e.Loops() != loops {
				t.Fatalf("Loops() = %d; want %d", e.Loops(), loops)
			}
			const nconns, rounds = 40, 20
			var wg sync.WaitGroup
			errs := make(chan error, nconns)
			for i := range nconns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- echoClient(e.Addr().String(), i, rounds)
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "every conn closed", func() bool { return h.numClosed() == nconns })
			// Conns still open at Stop get OnClose too.
			var held []net.Conn
			for range 10 {
				c, err := net.Dial("tcp", e.Addr().String())
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
			}
			waitFor(t, "held conns opened", func() bool { return h.numOpened() == nconns+10 })
			perLoop := map[int]int{}
			h.mu.Lock()
			for _, l := range h.opened {
				perLoop[l]++
			}
			h.mu.Unlock()
			if len(perLoop) != loops {
				t.Errorf("conns spread over %d loops; want %d", len(perLoop), loops)
			}
			stopEngine(t, e)
			if n := h.numClosed(); n != nconns+10 {
				t.Errorf("after Stop %d OnClose calls; want %d", n, nconns+10)
			}
			for _, c := range held {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Errorf("held conn still readable after Stop")
				}
				c.Close()
			}
			h.verifyClosed(t)
			if loops == 1 && h.nested.Load() != 0 {
				t.Errorf("%d callbacks ran nested inside another", h.nested.Load())
			}
			// Stop again: idempotent.
			stopEngine(t, e)
			st := e.Stats()
			if st.Accepted != nconns+10 {
				t.Errorf("Stats.Accepted = %d; want %d", st.Accepted, nconns+10)
			}
			checkLeaks(t, fds)
		})
	}
}

// echoClient dials, sends rounds pipelined messages, reads the echo and
// checks it byte for byte.
func echoClient(addr string, id, rounds int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	var want bytes.Buffer
	for r := range rounds {
		fmt.Fprintf(&want, "conn %d round %d %s\n", id, r, bytes.Repeat([]byte{'x'}, r*37))
	}
	go func() { _, _ = c.Write(want.Bytes()) }() // pipelined: all at once
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("conn %d: read echo: %v", id, err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		return fmt.Errorf("conn %d: echo differs", id)
	}
	return nil
}

func testStopConcurrent(t *testing.T) {
	h := newEcho()
	e := startEngine(t, engine.Config{Loops: 2}, h)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "open", func() bool { return h.numOpened() == 1 })
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stopEngine(t, e)
		}()
	}
	wg.Wait()
	h.verifyClosed(t)
	if err := e.Wake(0); !errors.Is(err, engine.ErrStopped) {
		t.Errorf("Wake after Stop = %v; want engine.ErrStopped", err)
	}
}

// Started starts an engine with start (a backend's own Start, for tests
// inside the backend's package) on 127.0.0.1:0 with a silent logger, and
// stops it when the test ends.
func Started(t testing.TB, start func(engine.Config, engine.Handler) (engine.Engine, error), cfg engine.Config, h engine.Handler) engine.Engine {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := start(cfg, h)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return e
}
