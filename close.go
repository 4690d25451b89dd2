package httpd

// This file holds the ways a session ends: closing after a reply (write
// side shut, input drained for LingerTimeout), an immediate close, a reset
// (TCP RST), and closeSession, which runs once when the engine reports the
// close (hooks, free callbacks, what the session borrowed, its slot).

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
	if c.reqState == nil {
		return
	}
	if c.reqState.breq != nil {
		// The worker keeps the parser; its later items are dropped.
		c.reqState.breq.bp.abandon()
		c.reqState.breq = nil
	}
	if c.reqState.p != nil {
		c.lp.putParser(c.reqState.p)
		c.reqState.p = nil
	}
	c.reqState.headCopy = nil
	if c.reqState.body != nil {
		c.lp.putBuf(c.reqState.body)
		c.reqState.body = nil
	}
	c.releaseChunked()
}

func (c *Session) linger() {
	x := c.rq()
	x.plain = x.plain[:0]
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

// closeSession runs once per session on its loop when its connection
// closed: close hook, free callbacks, slot release.
func (s *Server) closeSession(c *Session, err error) {
	if c.freed {
		return
	}
	c.freed = true
	c.cancelContext()
	if c.reqState != nil && c.reqState.breq != nil {
		c.reqState.breq.bp.abandon()
		c.reqState.breq = nil
	}
	if c.reqState != nil && c.reqState.async != nil {
		c.reqState.async.closed()
		c.reqState.async = nil
	}
	if w := c.ws; w != nil && w.h.WSOnClose != nil && c.shared.Load()&flagUpgraded != 0 {
		// The handler's own close hook, while the contexts are still set.
		f := w.h.WSOnClose
		_ = s.callHook(c, func() error { f(c); return nil })
	}
	if f := s.cfg.OnClose; f != nil {
		_ = s.callHook(c, func() error { f(c); return nil })
	}
	if x := c.extra; x != nil {
		x.ctx.release(c)
		x.tctx.release(c)
	}
	c.wsRelease()
	if c.ws != nil && c.ws.in != nil {
		c.lp.putWSIn(c.ws.in, c.ws)
		c.ws.in = nil
	}
	if tr := c.transport(); tr != nil {
		if _, ok := tr.(Handshaker); ok {
			s.handshakers.Delete(c)
		}
		c.closeTransport()
		c.extra.tr = nil
	}
	c.unaccount()
	c.releaseRequest()
	if x := c.reqState; x != nil { // releaseRequest returned what it held
		c.reqState = nil
		c.lp.putReqState(x)
	}
	c.emit(EventDisconnected, 0)
	s.slab.Free(c.id)
}
