package enginetest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// testPeerSendsAndCloses: a peer that writes and closes at once has all its
// bytes delivered to OnTraffic before OnClose.
func testPeerSendsAndCloses(t *testing.T) {
	h := newEcho()
	var (
		mu  sync.Mutex
		got = map[engine.Conn]*bytes.Buffer{}
		bad []string
	)
	h.onTraffic = func(c engine.Conn) bool {
		mu.Lock()
		if got[c] == nil {
			got[c] = new(bytes.Buffer)
		}
		got[c].Write(c.Peek())
		mu.Unlock()
		c.Discard(c.InboundBuffered())
		return true
	}
	h.onClose = func(c engine.Conn, _ error) {
		mu.Lock()
		defer mu.Unlock()
		if b := got[c]; b == nil || b.String() != "last words" {
			bad = append(bad, fmt.Sprintf("OnClose after traffic %q; want %q first", b, "last words"))
		}
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	const n = 20
	for range n {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("last words")); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	waitFor(t, "every conn closed", func() bool { return h.numClosed() == n })
	mu.Lock()
	for _, b := range bad {
		t.Error(b)
	}
	mu.Unlock()
	h.verifyClosed(t)
}

// testBackpressureCount writes to a peer that does not read until the
// socket refuses more: Write never blocks, OutboundBuffered counts exactly
// the bytes the engine holds (the peer reads them all and no more), and it
// reaches 0 once the peer drained them.
func testBackpressureCount(t *testing.T) {
	const chunk = 64 << 10
	payload := bytes.Repeat([]byte("0123456789abcdef"), chunk/16)
	h := newEcho()
	var (
		mu      sync.Mutex
		conn    engine.Conn
		written int
		queued  []int
		blocked time.Duration
	)
	h.onOpen = func(c engine.Conn) {
		mu.Lock()
		conn = c
		mu.Unlock()
		// Keep writing until the engine holds at least 4 MiB: the
		// kernel's buffers are far smaller, so this proves queueing.
		start := time.Now()
		n, q := 0, []int(nil)
		for c.OutboundBuffered() < 4<<20 {
			if err := c.Write(payload); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
			n += len(payload)
			q = append(q, c.OutboundBuffered())
		}
		mu.Lock()
		written, queued, blocked = n, q, time.Since(start)
		mu.Unlock()
	}
	outbound := make(chan int, 1)
	h.onWake = func(int) {
		mu.Lock()
		c := conn
		mu.Unlock()
		outbound <- c.OutboundBuffered()
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the engine to queue output", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return written > 0 && len(queued) > 0 && queued[len(queued)-1] >= 4<<20
	})
	mu.Lock()
	total, q := written, queued
	mu.Unlock()
	t.Logf("wrote %d bytes in %v; engine queued %d", total, blocked, q[len(q)-1])
	for i := 1; i < len(q); i++ {
		// Nothing reads while OnOpen runs on the loop... but the kernel may
		// take a little, so the queue grows by at most one chunk a write.
		if q[i] > q[i-1]+chunk {
			t.Fatalf("OutboundBuffered grew from %d to %d on a %d-byte write", q[i-1], q[i], chunk)
		}
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, total)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %d bytes: %v", total, err)
	}
	for off := 0; off < total; off += chunk {
		if !bytes.Equal(got[off:off+chunk], payload) {
			t.Fatalf("bytes at %d differ", off)
		}
	}
	// Nothing beyond what was written.
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, _ := c.Read(make([]byte, 1)); n != 0 {
		t.Fatalf("read more than was written")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := e.Wake(0); err != nil {
			t.Fatal(err)
		}
		if n := <-outbound; n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("OutboundBuffered = %d after the peer read everything; want 0", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testLeftoverKept: a handler that consumes only whole lines leaves the rest
// buffered; the next arrival shows old and new bytes together, and while
// nothing arrives the engine does not call OnTraffic again (a poller that
// re-runs its handler while unread bytes remain would spin here).
func testLeftoverKept(t *testing.T) {
	h := newEcho()
	var calls atomic.Int64
	lines := make(chan string, 16)
	h.onTraffic = func(c engine.Conn) bool {
		calls.Add(1)
		for {
			b := c.Peek()
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return true
			}
			lines <- string(b[:i])
			c.Write(b[:i+1])
			c.Discard(i + 1)
		}
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("first\nsec"))
	if got := <-lines; got != "first" {
		t.Fatalf("line %q; want first", got)
	}
	waitFor(t, "OnTraffic", func() bool { return calls.Load() >= 1 })
	// Give a spinning engine time to show itself; a correct one makes no
	// call at all without new bytes. The bound does not depend on speed:
	// a spin makes thousands of calls, a slow machine fewer.
	time.Sleep(200 * time.Millisecond)
	if n := calls.Load(); n > 2 {
		t.Errorf("OnTraffic ran %d times for one arrival and an idle leftover; want no re-runs", n)
	}
	c.Write([]byte("ond\nthird\n"))
	for _, want := range []string{"second", "third"} {
		select {
		case got := <-lines:
			if got != want {
				t.Fatalf("line %q; want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no line %q", want)
		}
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	want := "first\nsecond\nthird\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("echo %q, %v; want %q", got, err, want)
	}
}

// testIdleNoGoroutine: an idle connection holds no goroutine, whatever the
// poller does while bytes flow. 200 connections each complete an echo and
// stay open; the process may keep a few pooled goroutines of the poller
// library, never one per connection.
func testIdleNoGoroutine(t *testing.T) {
	e := startEngine(t, engine.Config{Loops: 2}, newEcho())
	defer stopEngine(t, e)
	base := runtime.NumGoroutine()
	const n = 200
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		msg := []byte{'a' + byte(i%26)}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			t.Fatal(err)
		}
	}
	// Pooled goroutines wind down on their own (gnet's enrolment pool
	// keeps up to its bound for 10s); none may stay per connection.
	var extra int
	deadline := time.Now().Add(15 * time.Second)
	for {
		extra = runtime.NumGoroutine() - base
		if extra < n/4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d idle connections: %d goroutines above the engine's baseline", n, extra)
	if extra >= n/4 {
		t.Errorf("%d idle connections keep %d goroutines; want far fewer than one each", n, extra)
	}
}
