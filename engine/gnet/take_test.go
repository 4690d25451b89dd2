package gnet

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"

	"github.com/evhttpd/httpd/engine"
)

// taker waits until want bytes are buffered, takes the first take of them
// (engine.Taker) and checks what Take returned and what Peek still holds.
type taker struct {
	wakeCounter
	want, take int
	msg        []byte
	callbacks  atomic.Int32
	done       atomic.Pointer[string] // "" when all was right, else what was wrong
}

func (h *taker) OnTraffic(c engine.Conn) {
	h.callbacks.Add(1)
	if c.InboundBuffered() < h.want || h.done.Load() != nil {
		return // left buffered: the adapter keeps it for the next callback
	}
	buf, off := c.(engine.Taker).Take(h.take)
	res := ""
	switch {
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
	}{
		{"kept across callbacks", 300 << 10, 200 << 10, 6},
		{"all of it", 100 << 10, 100 << 10, 4},
		{"in one read", 1000, 600, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg := make([]byte, tt.size)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			h := &taker{wakeCounter: *newWakeCounter(1), want: tt.size, take: tt.take, msg: msg}
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
