//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/engine/enginetest"
)

// The conformance suite (enginetest) covers the contract; these tests look
// at what only this backend has: its Options, the process-wide buffer
// size, and the write poller's registrations across descriptor reuse.

func start(t testing.TB, cfg engine.Config, h engine.Handler) *npEngine {
	t.Helper()
	return enginetest.Started(t, Start, cfg, h).(*npEngine)
}

// nopHandler does nothing but what its hooks say.
type nopHandler struct {
	open    func(engine.Conn)
	traffic func(engine.Conn)
	wake    func(int)
}

func (h *nopHandler) OnOpen(c engine.Conn) {
	if h.open != nil {
		h.open(c)
	}
}
func (h *nopHandler) OnTraffic(c engine.Conn) {
	if h.traffic != nil {
		h.traffic(c)
		return
	}
	c.Discard(c.InboundBuffered())
}
func (h *nopHandler) OnClose(engine.Conn, error) {}
func (h *nopHandler) OnTimer(engine.Conn)        {}
func (h *nopHandler) OnWake(l int) {
	if h.wake != nil {
		h.wake(l)
	}
}
func (h *nopHandler) OnTick(int, time.Time) {}

// TestOptionsInvalid: the backend's own limits are ErrConfig; so is a
// second buffer size in a process that applied one already.
func TestOptionsInvalid(t *testing.T) {
	start(t, engine.Config{Loops: 1}, &nopHandler{}) // applies the default size
	for name, cfg := range map[string]engine.Config{
		"too many loops":       {Loops: MaxLoops + 1},
		"buffer size -2":       {Options: &Options{BufferSize: -2}},
		"buffer size 2 MiB":    {Options: &Options{BufferSize: 2 << 20}},
		"options by value":     {Options: Options{}},
		"another buffer size":  {Options: &Options{BufferSize: 2 * DefaultBufferSize}},
		"another runner":       {Options: &Options{Pooled: true}},
		"gnet-looking options": {Options: &struct{ EnrollQueue int }{8}},
	} {
		cfg.Addr = "127.0.0.1:0"
		if e, err := Start(cfg, &nopHandler{}); !errors.Is(err, engine.ErrConfig) {
			if e != nil {
				e.Stop(context.Background())
			}
			t.Errorf("%s: Start = %v; want ErrConfig", name, err)
		}
	}
	// The size already applied is accepted again.
	start(t, engine.Config{Loops: 1, Options: &Options{BufferSize: DefaultBufferSize}}, &nopHandler{})
}

// TestWritePollerReuse: a connection that queued output and closed leaves
// nothing in the write poller, so the next connection on the same
// descriptor number can queue output too (epoll keys its registrations by
// descriptor).
func TestWritePollerReuse(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 64<<10)
	var (
		mu     sync.Mutex
		queued = map[engine.Conn]bool{}
		fds    []int
	)
	h := &nopHandler{open: func(c engine.Conn) {
		for c.OutboundBuffered() < 1<<20 {
			if err := c.Write(payload); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
		}
		mu.Lock()
		queued[c] = true
		fds = append(fds, c.Fd())
		mu.Unlock()
	}}
	e := start(t, engine.Config{Loops: 1}, h)
	for round := range 3 {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(fds)
			mu.Unlock()
			if n == round+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no output queued", round)
			}
			time.Sleep(2 * time.Millisecond)
		}
		// Read some, so the write poller reports and the loop re-arms,
		// then leave with output still queued.
		if _, err := io.ReadFull(c, make([]byte, 256<<10)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
		waitClosed(t, e)
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("descriptors used: %v", fds)
	if len(queued) != 3 {
		t.Errorf("%d connections queued output; want 3", len(queued))
	}
	e.wp.mu.Lock()
	defer e.wp.mu.Unlock()
	if n := len(e.wp.conns); n != 0 {
		t.Errorf("write poller still holds %d connections", n)
	}
}

// waitClosed waits until the engine's loops hold no connection.
func waitClosed(t *testing.T, e *npEngine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		open := 0
		for _, ls := range e.loops {
			ls.mu.Lock()
			if ls.head != nil {
				open++
			}
			ls.mu.Unlock()
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections still open")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestInlineCloses: with tasks run on netpoll's pollers (the default), a
// connection is never closed under a task running on a poller, which
// would hang that poller (see runInline). Connections closed by the loop
// in the middle of their input, by the peer with input pending, and by
// the peer between requests, all at once on two loops: every one ends,
// every close is settled (closesPending back to 0), and traffic on the
// connections that stay keeps flowing on the pollers.
func TestInlineCloses(t *testing.T) {
	h := &nopHandler{traffic: func(c engine.Conn) {
		b := c.Peek()
		if i := bytes.IndexByte(b, 'x'); i >= 0 {
			c.Discard(len(b))
			c.Close() // with more input behind it
			return
		}
		_ = c.Write(b)
		c.Discard(len(b))
	}}
	e := start(t, engine.Config{Loops: 2}, h)
	if !e.inline {
		t.Fatal("the default runner is not inline")
	}
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", e.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 64)
			for range 20 { // echoes on the poller
				if _, err := c.Write([]byte("ping")); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, buf[:4]); err != nil {
					errs <- err
					return
				}
			}
			switch i % 3 {
			case 0: // the loop closes it, input still arriving
				c.Write(bytes.Repeat([]byte("x"), 4096))
				if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, io.EOF) && !isReset(err) {
					errs <- err
				}
			case 1: // the peer leaves with input pending
				c.Write([]byte("unanswered"))
			case 2: // the peer leaves between requests
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitClosed(t, e)
	deadline := time.Now().Add(10 * time.Second)
	for closesPending.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("closesPending = %d; want 0", closesPending.Load())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// isReset reports a connection reset: a close with unread input sends RST.
func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && strings.Contains(ne.Err.Error(), "reset")
}

// TestReadAhead: netpoll reads one buffer node (BufferSize, 512 bytes) per
// event; with tasks inline on the poller the backend reads the rest of
// what the socket holds itself, so 6 KiB written at once reach OnTraffic
// in one or two calls, not one per node.
func TestReadAhead(t *testing.T) {
	const size = 6 << 10
	var mu sync.Mutex
	calls := 0
	got := make(chan int, 1)
	h := &nopHandler{traffic: func(c engine.Conn) {
		mu.Lock()
		calls++
		mu.Unlock()
		if b := c.Peek(); len(b) >= size {
			c.Discard(len(b))
			got <- len(b)
		}
	}}
	e := start(t, engine.Config{Loops: 1}, h)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(bytes.Repeat([]byte("r"), size)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != size {
			t.Fatalf("OnTraffic saw %d bytes; want %d", n, size)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the 6 KiB never arrived whole")
	}
	mu.Lock()
	defer mu.Unlock()
	if calls > 2 {
		t.Errorf("OnTraffic ran %d times for one 6 KiB write; want at most 2 (the rest read ahead)", calls)
	}
}
