package gnet

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/evhttpd/httpd/engine"
)

// pauser pauses reading on open and counts the bytes it is given.
type pauser struct {
	wakeCounter
	paused atomic.Bool // PauseRead(true) succeeded
	got    atomic.Int64
	conn   atomic.Pointer[engine.Conn]
}

func (h *pauser) OnOpen(c engine.Conn) {
	h.paused.Store(c.PauseRead(true))
	h.conn.Store(&c)
}

func (h *pauser) OnTraffic(c engine.Conn) {
	n := len(c.Peek())
	h.got.Add(int64(n))
	c.Discard(n)
}

// TestPauseRead: gnet's poller is found (a gnet release that moves the
// fields it is read from fails here) and a paused connection's bytes stay
// in the kernel until reading resumes.
func TestPauseRead(t *testing.T) {
	h := &pauser{wakeCounter: *newWakeCounter(1)}
	e := start(t, engine.Config{Loops: 1}, h)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "open", func() bool { return h.conn.Load() != nil })
	if !h.paused.Load() {
		t.Fatal("PauseRead(true) = false: gnet's poller descriptor was not found")
	}
	if _, err := c.Write([]byte("held back")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := h.got.Load(); n != 0 {
		t.Fatalf("%d bytes delivered while paused", n)
	}
	resumed := make(chan bool, 1)
	// Resume on the loop, as the driver does.
	(*e.loops.Load())[0].gel.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error { resumed <- (*h.conn.Load()).PauseRead(false); return nil }))
	if !<-resumed {
		t.Fatal("PauseRead(false) = false")
	}
	waitFor(t, "bytes after resuming", func() bool { return h.got.Load() == int64(len("held back")) })
}
