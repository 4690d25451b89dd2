package httpd

// This file holds the server-wide memory budget (Config.MaxBufferedBytes):
// what each session holds is counted after every callback, and when the
// total passes the budget the loops reset their heaviest sessions.

import (
	"math/bits"
	"slices"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// heldBytes is what the session holds now: input received and not yet
// consumed (raw and decrypted), replies queued for the socket, a chunked
// body being gathered and a WebSocket message being reassembled.
func (c *Session) heldBytes() int64 {
	// The engine's buffers grow by doubling: count the power of two that
	// holds the bytes, which is closer to the memory they take.
	in := c.ec.InboundBuffered()
	n := ceilPow2(in) + ceilPow2(c.ec.OutboundBuffered())
	if x := c.reqState; x != nil {
		n += len(x.plain) + len(x.body) + x.handed
		if c.st == stBody && x.need > in {
			if _, ok := c.ec.(engine.InputSizer); ok {
				// Told the body's size, the engine grows its buffer
				// towards it in larger steps: up to 4x what it holds.
				n += max(0, min(x.need, 4*in)-ceilPow2(in))
			}
		}
	}
	if w := c.ws; w != nil && w.in != nil {
		n += w.in.Buffered()
	}
	return int64(n)
}

// ceilPow2 returns the smallest power of two at least n (0 for 0).
func ceilPow2(n int) int {
	if n <= 0 {
		return 0
	}
	return 1 << bits.Len(uint(n-1))
}

// account brings the session's share of the budget up to date (at the end
// of each callback, see schedule) and starts a purge when the server is
// over budget. The count lives in the request state, which a session that
// holds anything keeps (reqState.idle).
func (c *Session) account() {
	cur := c.heldBytes()
	var prev int64
	if c.reqState != nil {
		prev = c.reqState.held
	}
	if cur == prev {
		return
	}
	c.rq().held = cur
	c.lp.held += cur - prev
	total := c.lp.srv.held.Add(cur - prev)
	if cur > prev && c.lp.srv.overBudget(total) {
		c.lp.shed()
	}
}

// unaccount drops a closing session's share.
func (c *Session) unaccount() {
	x := c.reqState
	if x == nil {
		return
	}
	if x.held != 0 {
		c.lp.held -= x.held
		c.lp.srv.held.Add(-x.held)
		x.held = 0
	}
	if x.shedHeld != 0 {
		c.lp.resetting -= x.shedHeld
		x.shedHeld = 0
	}
}

// overBudget reports whether total is past Config.MaxBufferedBytes.
func (s *Server) overBudget(total int64) bool {
	b := s.cfg.MaxBufferedBytes
	return b > 0 && total > b
}

// shed resets the heaviest sessions of this loop while the server is over
// its budget and this loop holds more than its share (the budget split
// evenly over the loops; when the server is over budget at least one loop
// is over its share, and each loop acts on its own sessions only, so no
// lock is needed). It stops when the loop is back under 7/8 of its share,
// so that a server at the edge does not reset one session per callback.
func (lp *loop) shed() {
	s := lp.srv
	share := s.cfg.MaxBufferedBytes / int64(len(s.loops))
	// Sessions reset by an earlier shed still count until their close
	// runs (after the current callback); what they hold is already on its
	// way out, so it is not shed twice.
	if lp.held-lp.resetting <= share {
		return
	}
	type heavy struct {
		c    *Session
		held int64
	}
	var list []heavy
	s.slab.Range(func(id SessionID, c *Session) bool {
		if c.lp == lp && !c.closing && c.reqState != nil && c.reqState.held > 0 {
			list = append(list, heavy{c, c.reqState.held})
		}
		return true
	})
	slices.SortFunc(list, func(a, b heavy) int {
		switch {
		case a.held > b.held:
			return -1
		case a.held < b.held:
			return 1
		}
		return 0
	})
	left := lp.held - lp.resetting
	target := share / 8 * 7
	for _, h := range list {
		if left <= target {
			break
		}
		s.budgetResets.Add(1)
		s.log.Debug("httpd: over MaxBufferedBytes; resetting the session holding the most",
			"session", h.c.id, "held", h.held)
		h.c.reset()
		h.c.reqState.shedHeld = h.held
		lp.resetting += h.held
		left -= h.held
	}
	if lp.now-lp.shedWarned >= int64(time.Second) {
		lp.shedWarned = lp.now
		s.log.Warn("httpd: buffered bytes over MaxBufferedBytes; resetting the sessions holding the most",
			"server", s.held.Load(), "budget", s.cfg.MaxBufferedBytes, "resets", s.budgetResets.Load())
	}
}
