package httpd

// This file holds the ways a session ends: closing after a reply (write
// side shut, input drained for LingerTimeout), an immediate close, and a
// reset (TCP RST); closeSession in server.go runs when the engine reports
// the close.

// closeAfterReply shuts the write side once the reply has left and drains
// input for a while so the client reads the reply rather than a reset.
func (c *Session) closeAfterReply() {
	if c.st == stLinger || c.closing {
		return
	}
	c.flush()
	c.st = stLinger
	c.releaseRequest()
	// The transport's last message (a TLS close_notify) must leave
	// before the write side is shut.
	c.closeTransport()
	_ = c.ec.CloseWrite()
	x := c.rq()
	x.headDL, x.recvDL, x.bodyDL, c.idleDL = 0, 0, 0, 0
	x.lingerDL = c.lp.now + int64(c.lp.srv.cfg.LingerTimeout)
	c.linger()
}

func (c *Session) releaseRequest() {
	if c.x == nil {
		return
	}
	if c.x.breq != nil {
		// The worker keeps the parser; its later items are dropped.
		c.x.breq.bp.abandon()
		c.x.breq = nil
	}
	if c.x.p != nil {
		c.lp.putParser(c.x.p)
		c.x.p = nil
	}
	c.x.headCopy = nil
	if c.x.body != nil {
		c.lp.putBuf(c.x.body)
		c.x.body = nil
	}
	c.releaseChunked()
}

func (c *Session) linger() {
	x := c.rq()
	x.tin = x.tin[:0]
	b := c.ec.Peek()
	c.ec.Discard(len(b))
	x.lingered += int64(len(b))
	if x.lingered > c.lp.srv.cfg.MaxDrain {
		c.abort()
	}
}

// closeTransport ends the session's Transport once, writing its last
// message (a TLS close_notify).
func (c *Session) closeTransport() {
	tr := c.transport()
	if tr == nil || c.trClosed {
		return
	}
	c.trClosed = true
	if w := tr.Close(c.lp.wire[:0]); len(w) > 0 {
		_ = c.ec.Write(w)
		c.lp.wire = w[:0]
	}
}

// abort closes the session after the current callback.
func (c *Session) abort() {
	if c.closing {
		return
	}
	c.closing = true
	c.ec.Close()
}

// reset closes the session abortively (TCP RST): what it queued is
// dropped by the kernel at once instead of waiting for a peer that does
// not read.
func (c *Session) reset() {
	if c.closing {
		return
	}
	c.closing = true
	c.ec.Reset()
}
