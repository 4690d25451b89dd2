package httpd

// This file holds a session's pacing: writing its output, backpressure
// when the client reads slowly (stall and unstall), and its deadlines (one
// engine timer pointed at the nearest of them).

import (
	"time"
)

// flush writes the loop's output buffer to this session's connection and
// enforces the outbound cap.
func (c *Session) flush() {
	lp := c.lp
	if x := c.reqState; lp.pending > 0 && x != nil && len(x.pend) > 0 {
		// Replies held back (holdOut) go first, in one write with what
		// follows them.
		out := append(x.pend, lp.out...)
		lp.out = lp.out[:0]
		x.pend = out[:0]
		lp.pending--
		c.writeOut(out)
		return
	}
	if len(lp.out) == 0 {
		return
	}
	out := lp.out
	if cap(lp.out) > outKeep {
		lp.out = make([]byte, 0, outKeep)
	} else {
		lp.out = lp.out[:0]
	}
	c.writeOut(out)
}

// holdOut keeps the reply bytes in the loop's buffer back instead of
// writing them, when the loop drains what workers handed back while a
// pipelined Blocking request waits (loop.rounds): the replies of a
// pipelined batch then leave in one write, as a loop handler's do, instead
// of one write (a system call and a loopback segment) each. The held bytes
// are written with the session's next output (flush), or when the rounds
// end (loop.releaseHeld): a reply waits at most for the other workers of
// the callback's rounds. Bounded by holdMax; never on a transport (its
// output is written by pump) or a session closing or lingering.
func (c *Session) holdOut() {
	lp := c.lp
	x := c.reqState
	if x == nil || c.closing || c.st == stLinger || c.transport() != nil || len(x.pend)+len(lp.out) > holdMax {
		c.flush()
		return
	}
	if len(lp.out) == 0 {
		return
	}
	if len(x.pend) == 0 {
		lp.heldOut = append(lp.heldOut, c)
		lp.pending++
	}
	x.pend = append(x.pend, lp.out...)
	lp.out = lp.out[:0]
	lp.holds++
}

// holdMax bounds the reply bytes a session holds back (holdOut).
const holdMax = 64 << 10

// writeAfterOut writes what the loop's buffer holds, then p from the
// caller's slice (a large body write: no copy into the buffer).
func (c *Session) writeAfterOut(p []byte) {
	c.flush()
	c.writeOut(p)
}

// writeOut writes b to the connection (through its transport) and
// enforces the outbound cap; b may be reused once it returns.
func (c *Session) writeOut(b []byte) {
	lp := c.lp
	if !c.closing || c.st == stLinger {
		if tr := c.transport(); tr == nil {
			_ = c.ec.Write(b)
		} else if w, err := tr.Send(lp.wire[:0], b); err != nil {
			c.lp.srv.log.Debug("httpd: transport send failed", "session", c.id, "err", err)
			c.abort()
		} else {
			_ = c.ec.Write(w)
			lp.wire = w[:0]
		}
	}
	ob := c.ec.OutboundBuffered()
	if ob > 0 && (c.reqState == nil || c.reqState.sendDL == 0) {
		x := c.rq()
		x.sendDL = lp.now + int64(c.lp.srv.cfg.SendWaitTimeout)
		x.sendMark = ob
	}
	if ob > c.lp.srv.cfg.MaxOutbound && !c.stalled {
		// Backpressure: no new request or message is taken until the
		// client has read half of it; no progress at all for
		// SendWaitTimeout closes the session. The socket is not read
		// meanwhile (where the engine can pause it), so TCP flow control
		// stops a client that keeps sending.
		c.stalled = true
		c.ec.PauseRead(true)
		c.rq().pollDL = lp.now + int64(c.lp.srv.cfg.TimerResolution)
	}
}

// unstall reports whether the session may take more input: its queued
// output fell below half of MaxOutbound. While it may not, input it keeps
// receiving is bounded by inboundCap.
func (c *Session) unstall() bool {
	return !c.stalled || c.unstallNow()
}

func (c *Session) unstallNow() bool {
	if c.ec.OutboundBuffered() <= c.lp.srv.cfg.MaxOutbound/2 {
		c.stalled = false
		if x := c.reqState; x == nil || !x.inPaused { // else paceBlockingInput resumes it
			c.ec.PauseRead(false)
		}
		return true
	}
	if c.inBuffered() > c.inboundCap() {
		c.lp.srv.log.Debug("httpd: client does not read its replies; closing", "session", c.id,
			"queued", c.ec.OutboundBuffered(), "pending input", c.inBuffered())
		c.abort()
	}
	return false
}

// inboundCap bounds the input a stalled session may accumulate: the engine
// keeps reading the socket (gnet has no way to pause it), so a client that
// neither reads its replies nor stops sending is closed once this much
// waits. It does not grow with the body or message limits: a WebSocket
// client sending large messages it never reads the echoes of would
// otherwise hold a message's worth of input, in a buffer that doubles.
func (c *Session) inboundCap() int {
	cfg := &c.lp.srv.cfg
	return cfg.MaxOutbound + cfg.MaxRequestLine + cfg.MaxHeaderBytes
}

// schedule points the connection's one engine timer at the nearest deadline.
func (c *Session) schedule() {
	if c.closing {
		return
	}
	c.account()
	c.putRQ()
	next := c.idleDL
	if x := c.reqState; x != nil {
		for _, d := range [...]int64{x.headDL, x.recvDL, x.bodyDL, x.sendDL, x.lingerDL, x.pollDL} {
			if d != 0 && (next == 0 || d < next) {
				next = d
			}
		}
	}
	if next == 0 {
		if c.timerAt != 0 {
			c.timerAt = 0
			c.ec.SetTimer(0)
		}
		return
	}
	if c.timerAt != 0 && c.timerAt <= next {
		// The armed timer fires first; onTimer then finds nothing due and
		// re-arms for the later deadline. Deadlines mostly move later (the
		// idle deadline on every request), so this saves a timer update and
		// a clock read per request.
		return
	}
	c.timerAt = next
	d := time.Duration(next - c.lp.now)
	if d <= 0 {
		d = 1
	}
	c.ec.SetTimer(d)
}

func (c *Session) onTimer() {
	now := c.lp.now
	expired := func(d int64) bool { return d != 0 && now >= d }
	if x := c.reqState; x != nil {
		switch {
		case expired(x.lingerDL):
			c.abort()
			return
		case expired(x.sendDL):
			ob := c.ec.OutboundBuffered()
			switch {
			case ob == 0:
				x.sendDL = 0
			case ob < x.sendMark: // progress
				x.sendMark = ob
				x.sendDL = now + int64(c.lp.srv.cfg.SendWaitTimeout)
			default:
				// Reset, not close: the kernel would otherwise keep the
				// unsent bytes for a peer that does not read.
				c.lp.srv.log.Debug("httpd: send timeout", "session", c.id, "queued", ob)
				c.reset()
				return
			}
		}
		if expired(x.pollDL) {
			x.pollDL = 0
			if x.breq != nil {
				c.pollBlocking()
			}
			if c.stalled {
				if c.unstall() {
					c.process()
				} else if !c.closing {
					c.rq().pollDL = now + int64(c.lp.srv.cfg.TimerResolution)
				}
			}
		}
		// process may have ended the request and c.reqState with it.
		if x = c.reqState; x != nil && x.breq != nil && expired(x.bodyDL) {
			if c.inBuffered() > 0 {
				// Body bytes wait for the handler to read them: the
				// handler, not the client, is slow.
				x.bodyDL = now + int64(c.lp.srv.cfg.RecvWaitTimeout)
			} else {
				// The client's body is too slow: the handler's Recv
				// fails with ErrRecvTimeout (the reply is 408 if nothing
				// was sent) and the session closes once it returns.
				x.bodyDL = 0
				x.breq.bp.fail(ErrRecvTimeout)
				c.lp.srv.log.Debug("httpd: request body too slow", "session", c.id, "received", x.bodyRecv)
			}
		}
		if x = c.reqState; x != nil && (expired(x.headDL) || expired(x.recvDL) || expired(x.bodyDL)) {
			x.headDL, x.recvDL, x.bodyDL = 0, 0, 0
			if c.st == stHead && x.p == nil {
				return
			}
			c.replyError(408, "", nil, true)
			return
		}
	}
	if expired(c.idleDL) {
		c.idleDL = 0
		c.abort()
	}
}
