package gnet

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// taker waits until want bytes are buffered, takes the first take of them
// (engine.Taker) and checks what Take returned and what Peek still holds.
type taker struct {
	wakeCounter
	want, take int
	expect     bool // hint the size (engine.InputSizer) at the first callback
	msg        []byte
	callbacks  atomic.Int32
	done       atomic.Pointer[string] // "" when all was right, else what was wrong
}

func (h *taker) OnTraffic(c engine.Conn) {
	if h.callbacks.Add(1) == 1 && h.expect {
		c.(engine.InputSizer).ExpectInput(h.want)
	}
	if c.InboundBuffered() < h.want || h.done.Load() != nil {
		return // left buffered: the adapter keeps it for the next callback
	}
	w := c.(*conn)
	grewPast := h.expect && cap(w.held) > (h.want+expectUnit-1)/expectUnit*expectUnit
	buf, off := c.(engine.Taker).Take(h.take)
	res := ""
	switch {
	case grewPast:
		res = "the held buffer grew past the expected size"
	case w.expect != 0:
		res = "Take left the size hint in place"
	case !bytes.Equal(buf[off:], h.msg[:h.take]):
		res = "Take returned other bytes"
	case !bytes.Equal(c.Peek(), h.msg[h.take:]):
		res = "Peek after Take is not the rest of the input"
	case c.InboundBuffered() != h.want-h.take:
		res = "InboundBuffered after Take is wrong"
	}
	c.(engine.Taker).Recycle(buf)
	c.Discard(c.InboundBuffered())
	h.done.Store(&res)
}

// TestTake: input kept across callbacks is handed over by Take in the
// adapter's own buffer, the bytes after it stay readable; input taken in
// the callback that read it (gnet's shared read buffer) is copied.
func TestTake(t *testing.T) {
	for _, tt := range []struct {
		name       string
		size, take int
		pieces     int
		expect     bool
	}{
		{"kept across callbacks", 300 << 10, 200 << 10, 6, false},
		{"kept, size expected", 300 << 10, 200 << 10, 6, true},
		{"all of it", 100 << 10, 100 << 10, 4, false},
		{"in one read", 1000, 600, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := make([]byte, tt.size)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			h := &taker{wakeCounter: *newWakeCounter(1), want: tt.size, take: tt.take, msg: msg, expect: tt.expect}
			e := start(t, engine.Config{Loops: 1}, h)
			c, err := net.Dial("tcp", e.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			step := (tt.size + tt.pieces - 1) / tt.pieces
			for i := 0; i < tt.size; i += step {
				n := h.callbacks.Load()
				if _, err := c.Write(msg[i:min(i+step, tt.size)]); err != nil {
					t.Fatal(err)
				}
				if tt.pieces > 1 {
					waitFor(t, "the piece's callback", func() bool { return h.callbacks.Load() > n || h.done.Load() != nil })
				}
			}
			waitFor(t, "the take", func() bool { return h.done.Load() != nil })
			if res := *h.done.Load(); res != "" {
				t.Fatal(res)
			}
		})
	}
}

// TestExpectInputGrowth: with ExpectInput's hint the held buffer grows
// towards what the handler waits for in steps of at most four times what
// is held, and never past it; without one (or once bytes were consumed)
// it doubles.
func TestExpectInputGrowth(t *testing.T) {
	w := newConn()
	const body = 1<<20 + 100 // a 1 MiB body and its head
	if got := w.growTo(64 << 10); got != 128<<10 {
		t.Errorf("no hint: growTo(64 KiB) = %d; want 128 KiB", got)
	}
	w.ExpectInput(body)
	want := (body + expectUnit - 1) / expectUnit * expectUnit
	for _, tc := range []struct{ need, want int }{
		{64 << 10, 256 << 10}, // four times what is held
		{320 << 10, want},     // what is expected, not twice it
		{body, want},
		{2 << 20, 4 << 20}, // more than expected: doubling again
		{100, heldMin},
	} {
		if got := w.growTo(tc.need); got != tc.want {
			t.Errorf("expecting %d: growTo(%d) = %d; want %d", body, tc.need, got, tc.want)
		}
	}
	w.ExpectInput(1 << 40) // beyond what the hint holds: capped, never wraps
	if got := w.growTo(64 << 10); got != 256<<10 {
		t.Errorf("a huge hint: growTo(64 KiB) = %d; want 256 KiB", got)
	}
}

// aheader expects a body of len(msg) bytes from its first callback, which
// holds the loop until the client has written the whole body (so the socket
// holds far more than gnet's small read buffer), and checks what arrives.
type aheader struct {
	wakeCounter
	msg       []byte
	written   chan struct{}
	callbacks atomic.Int32
	ahead     uint64                 // the loop's read-ahead count when the body was whole
	done      atomic.Pointer[string] // "" when all was right, else what was wrong
}

func (h *aheader) OnTraffic(c engine.Conn) {
	if h.callbacks.Add(1) == 1 {
		c.(engine.InputSizer).ExpectInput(len(h.msg))
		select {
		case <-h.written:
		case <-time.After(5 * time.Second):
		}
	}
	if c.InboundBuffered() < len(h.msg) || h.done.Load() != nil {
		return
	}
	res := ""
	if !bytes.Equal(c.Peek()[:len(h.msg)], h.msg) {
		res = "the body arrived changed"
	}
	h.ahead = c.(*conn).ls.readAhead
	c.Discard(c.InboundBuffered())
	h.done.Store(&res)
}

// TestReadAhead: while a handler waits for an expected body, what the
// socket holds beyond gnet's read buffer is read straight into the held
// buffer, every byte in order, in a few callbacks rather than one per
// read buffer; a client that sends less than expected and closes is
// closed as usual.
func TestReadAhead(t *testing.T) {
	const size = 400 << 10
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + i>>9)
	}
	h := &aheader{wakeCounter: *newWakeCounter(1), msg: msg, written: make(chan struct{})}
	e := start(t, engine.Config{Loops: 1, Options: &Options{ReadBufferCap: 4 << 10}}, h)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		defer close(h.written)
		_, _ = c.Write(msg)
	}()
	waitFor(t, "the whole body", func() bool { return h.done.Load() != nil })
	if res := *h.done.Load(); res != "" {
		t.Fatal(res)
	}
	n := h.callbacks.Load()
	t.Logf("%d bytes in %d callbacks, %d of them read ahead", size, n, h.ahead)
	if h.ahead == 0 {
		t.Error("nothing was read ahead")
	}
	if n > size/(4<<10)/4 {
		t.Errorf("%d callbacks for %d bytes through a 4 KiB read buffer: read-ahead did not take most of them", n, size)
	}

	// Short of what was expected, then EOF: the connection closes.
	h2 := &aheader{wakeCounter: *newWakeCounter(1), msg: msg, written: make(chan struct{})}
	e2 := start(t, engine.Config{Loops: 1, Options: &Options{ReadBufferCap: 4 << 10}}, h2)
	c2, err := net.Dial("tcp", e2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c2.Write(msg[:size/2])
	close(h2.written)
	c2.(*net.TCPConn).CloseWrite()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Error("the server sent bytes; want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("the connection stayed open after the client's EOF")
	}
	c2.Close()
	if h2.done.Load() != nil {
		t.Error("a body short of what was expected was reported whole")
	}
}
