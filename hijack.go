package httpd

// This file holds Hijack: a Blocking handler takes its connection over from
// HTTP and gets a net.Conn whose reads and writes still go through the
// session's loop (and its Transport: TLS records are decrypted and
// encrypted there), so code written for net/http's Hijacker (gorilla's and
// coder's WebSocket servers, CONNECT proxies) runs unchanged.

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/evhttpd/httpd/ctrl"
)

// ErrHijacked is returned by Hijack when the connection was already
// hijacked, and by the Request's reply methods' effects after it: the
// connection is no longer HTTP.
var ErrHijacked = errors.New("httpd: connection hijacked")

// ErrCannotHijack is returned by Hijack outside a Blocking handler, or for
// a reply that is already complete.
var ErrCannotHijack = errors.New("httpd: only a Blocking handler can hijack its connection")

// Hijack takes the connection over from HTTP (net/http's Hijacker). Reply
// bytes written so far are sent first; after that the server writes
// nothing of its own to the connection: no reply, no "Connection: close".
// Bytes the client sent after the request's head (the rest of its body, if
// any, and whatever followed) are the first the returned conn reads.
//
// The conn is backed by the session: Read takes bytes the loop received
// (backpressure: at most 64 KiB wait in between), Write hands bytes to the
// loop and waits while the client is more than MaxOutbound/2 behind, and
// on HTTPS both go through TLS on the loop. Reads wait without limit
// unless a read deadline is set; the server's header, body and idle
// timeouts no longer apply, its send timeout (a client that does not read)
// still does. The handler may return and leave the conn to other
// goroutines; the worker slot is freed then. Close ends the session (the
// write side is shut after what was written, as for any reply), and so
// does Stop. Read returns io.EOF once the client closed and every byte it
// sent was read.
func (r *Request) Hijack() (net.Conn, error) {
	if !r.blocking || r.bp == nil || r.done && !r.headSent {
		return nil, ErrCannotHijack
	}
	if r.hij != nil {
		return nil, ErrHijacked
	}
	bp := r.bp
	if err := r.flushWorker(true); err != nil {
		return nil, err
	}
	bp.mu.Lock()
	if bp.err != nil {
		err := bp.err
		bp.mu.Unlock()
		return nil, err
	}
	// From here every input byte belongs to the stream: the body's end is
	// no longer an end.
	bp.raw, bp.eof = true, false
	bp.mu.Unlock()
	hc := &hijackConn{r: r}
	r.hij = hc
	r.done = true
	r.srv.pushWork(r.s, func(c *Session) { c.startRaw(r) })
	return hc, nil
}

// pushWork queues fn for the session's loop from a worker; like pushItem it
// never drops the item for a full queue.
func (s *Server) pushWork(c *Session, fn func(*Session)) {
	c.pending.Add(1)
	s.pushItem(c.lp, ctrl.Item{Kind: kindWork, ID: uint64(c.id), Arg: fn})
}

// startRaw switches the session to the hijacked stream (loop side): the
// request's deadlines end, and input goes to the conn as it is.
func (c *Session) startRaw(r *Request) {
	if c.reqState == nil || c.reqState.breq != r {
		return
	}
	c.reqState.hijacked = true
	c.reqState.bodyDL, c.reqState.recvDL, c.reqState.headDL = 0, 0, 0
	c.feedBlocking()
}

// feedRaw moves input to a hijacked conn's pipe (loop side), leaving it
// queued when the pipe is full.
func (c *Session) feedRaw(bp *bodyPipe) {
	src := c.inPeek()
	if len(src) == 0 {
		return
	}
	k := min(len(src), bp.space()) // a full pipe is marked starved
	if k > 0 {
		bp.push(src[:k], false, k < len(src))
		c.lp.yield = true
		c.inDiscard(k)
		c.emit(EventOnData, k)
	}
}

// hijackConn is the net.Conn Hijack returns. One goroutine may read while
// another writes, as net.Conn allows; concurrent Writes are serialised by
// nothing but the caller (as with the WebSocket libraries that use it).
type hijackConn struct {
	r      *Request
	closed atomic.Bool
}

// ErrHijackedClosed is returned by a hijacked conn's methods after Close
// (it matches net.ErrClosed).
var errHijackedClosed = net.ErrClosed

func (h *hijackConn) Read(p []byte) (int, error) {
	if h.closed.Load() {
		return 0, errHijackedClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := h.r.bp.read(p, 0, h.r)
	if err == ErrSessionClosed || err == ErrBodyInterrupted {
		if h.closed.Load() {
			return n, errHijackedClosed
		}
		err = io.EOF
	}
	return n, err
}

// hijackWriteStep is the most a Write hands to the loop at once, so that
// backpressure acts within one large Write.
const hijackWriteStep = 64 << 10

func (h *hijackConn) Write(p []byte) (int, error) {
	if h.closed.Load() {
		return 0, errHijackedClosed
	}
	r := h.r
	n := 0
	for n < len(p) {
		k := min(len(p)-n, hijackWriteStep)
		r.wbuf = append(r.wbuf[:0], p[n:n+k]...)
		if err := r.flushWorker(true); err != nil {
			r.wbuf = r.wbuf[:0]
			return n, err
		}
		n += k
	}
	return n, nil
}

// Close ends the session after what was written (its write side is shut
// and, on HTTPS, a close_notify sent). It returns net.ErrClosed when called
// again.
func (h *hijackConn) Close() error {
	if h.closed.Swap(true) {
		return errHijackedClosed
	}
	r := h.r
	r.bp.abandon()
	r.srv.pushWork(r.s, func(c *Session) {
		if c.reqState != nil && c.reqState.breq == r {
			c.closeAfterReply()
		}
	})
	return nil
}

func (h *hijackConn) LocalAddr() net.Addr  { return h.r.local }
func (h *hijackConn) RemoteAddr() net.Addr { return h.r.remote }

func (h *hijackConn) SetDeadline(t time.Time) error {
	_ = h.r.SetReadDeadline(t)
	return h.r.SetWriteDeadline(t)
}
func (h *hijackConn) SetReadDeadline(t time.Time) error  { return h.r.SetReadDeadline(t) }
func (h *hijackConn) SetWriteDeadline(t time.Time) error { return h.r.SetWriteDeadline(t) }
