package httpd

// This file holds the Transport hooks (ESP's send/recv/pending overrides):
// the interface, and the glue that moves a session's bytes through it.

import "errors"

// Transport sits between a session's socket and its HTTP codec: ESP's
// send, recv and pending overrides (httpd_sess_set_send_override and
// friends), the hook HTTPS is built on. Config.NewTransport installs one per
// session when it opens. All methods run on the session's event loop and
// must not block; a transport with slow work (a TLS handshake) does it
// elsewhere and calls Session.Wake when it has output or input ready.
type Transport interface {
	// Recv consumes raw bytes received from the socket and appends the
	// plaintext they carry to plain. It returns how many raw bytes it used:
	// the rest stays queued and is offered again with more bytes after it.
	// raw is valid only during the call. An error closes the session.
	Recv(raw, plain []byte) (consumed int, out []byte, err error)
	// Send appends the wire form of plaintext p to wire.
	Send(wire, p []byte) ([]byte, error)
	// Pending reports plaintext the transport holds that Recv will return
	// without more raw input (ESP's pending_fn).
	Pending() int
	// Flush appends bytes the transport must write on its own (handshake
	// messages, alerts) to wire.
	Flush(wire []byte) []byte
	// Close is called once when the session closes; it may append a last
	// message (a TLS close_notify) to wire, which is written if possible.
	Close(wire []byte) []byte
}

// ErrTransport wraps transport failures reported through events.
var ErrTransport = errors.New("httpd: transport error")

// maxPlainBuffered bounds the plaintext a transport may stage ahead of the
// parser; a body waiting to be buffered whole raises it to the body's size.
const maxPlainBuffered = 256 << 10

// Wake asks the session's loop to process the session again: a transport
// that finished work elsewhere calls it so that its Flush output is written
// and its Recv is offered the queued input. Safe from any goroutine.
func (c *Session) Wake() error {
	return c.lp.srv.enqueue(c.id, kindWork, func(*Session) {})
}

// The input accessors below hide whether bytes come straight from the
// engine (zero copy) or through the session's transport.

func (c *Session) inPeek() []byte {
	if c.transport() == nil {
		return c.ec.Peek()
	}
	if c.reqState == nil {
		return nil
	}
	return c.reqState.plain
}

func (c *Session) inDiscard(n int) {
	if c.transport() == nil {
		c.ec.Discard(n)
		return
	}
	if c.reqState == nil {
		return
	}
	if n >= len(c.reqState.plain) {
		if cap(c.reqState.plain) > 64<<10 {
			c.reqState.plain = nil
		} else {
			c.reqState.plain = c.reqState.plain[:0]
		}
		return
	}
	c.reqState.plain = c.reqState.plain[:copy(c.reqState.plain, c.reqState.plain[n:])]
}

func (c *Session) inBuffered() int {
	if c.transport() == nil {
		return c.ec.InboundBuffered()
	}
	if c.reqState == nil {
		return 0
	}
	return len(c.reqState.plain)
}

// pump moves raw input through the transport into c.reqState.plain and writes what the
// transport wants written. It reports false when the session must close.
func (c *Session) pump() bool {
	x, tr := c.rq(), c.transport()
	limit := maxPlainBuffered
	if x.need > limit {
		limit = x.need
	}
	for len(x.plain) < limit || tr.Pending() > 0 {
		raw := c.ec.Peek()
		if len(raw) == 0 && tr.Pending() == 0 {
			break
		}
		before := len(x.plain)
		n, out, err := tr.Recv(raw, x.plain)
		x.plain = out
		if n > 0 {
			c.ec.Discard(n)
		}
		if err != nil {
			c.lp.srv.log.Debug("httpd: transport receive failed", "session", c.id, "err", err)
			c.emitError(0, errors.Join(ErrTransport, err))
			c.writeTransport()
			c.abort()
			return false
		}
		if n == 0 && len(out) == before {
			// No progress. Plaintext released from Pending alone is
			// progress: stopping there would strand it until more raw
			// input came.
			break
		}
	}
	c.writeTransport()
	return true
}

// writeTransport writes the transport's own output.
func (c *Session) writeTransport() {
	lp := c.lp
	w := c.transport().Flush(lp.wire[:0])
	if len(w) > 0 {
		_ = c.ec.Write(w)
	}
	lp.wire = w[:0]
}
