package httpd

// This file holds the engine adapter: the callbacks the engine calls on a
// loop (open, traffic, close, timer, wake, tick), which hand each event to
// the session it belongs to, and the 503 answer to a connection refused at
// open.

import (
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/engine"
)

// driver adapts the server to engine.Handler without exporting the
// callbacks on Server.
type driver struct{ s *Server }

// rejected marks a connection refused at open (503): it holds no session.
type rejected struct{ lingered int }

func (d driver) OnOpen(ec engine.Conn) {
	s := d.s
	lp := s.loops[ec.Loop()]
	now := lp.clock()
	if s.stopping() {
		ec.Close()
		return
	}
	if s.slab.Len() >= s.cfg.MaxOpenSockets && !s.purgeFor(lp) {
		s.reject(ec, lp)
		return
	}
	c := &Session{lp: lp, ec: ec}
	// Until the first request completes, lru holds the open time (negative:
	// see Session.lru) for the LRU grace.
	c.lru.Store(-(now + 1))
	id, ok := s.slab.Alloc(c)
	if !ok {
		s.reject(ec, lp)
		return
	}
	c.id = id
	ec.SetContext(c)
	c.idleDL = now + int64(s.cfg.IdleTimeout)
	c.schedule()
	c.emit(EventOnConnected, 0)
	if f := s.cfg.NewTransport; f != nil {
		var tr Transport
		err := s.callHook(c, func() (err error) { tr, err = f(c); return err })
		if err != nil || tr == nil {
			s.log.Debug("httpd: transport refused the session", "session", id, "err", err)
			c.abort()
			return
		}
		c.ext().tr = tr
		if h, ok := tr.(Handshaker); ok {
			s.handshakers.Store(c, h) // LRU purge asks it from other loops
		}
		c.writeTransport()
	}
	if f := s.cfg.OnOpen; f != nil {
		if err := s.callHook(c, func() error { return f(c) }); err != nil {
			s.log.Debug("httpd: open hook refused the session", "session", id, "err", err)
			c.abort()
		}
	}
	c.flush()
}

// reject answers 503 and closes a connection that has no session.
func (s *Server) reject(ec engine.Conn, lp *loop) {
	s.rejects.Add(1)
	ec.SetContext(&rejected{})
	b := hc.AppendErrorResponse(lp.out[:0], 503, true, false)
	_ = ec.Write(b)
	lp.out = b[:0]
	_ = ec.CloseWrite()
	ec.SetTimer(s.cfg.LingerTimeout)
}

func (d driver) OnTraffic(ec engine.Conn) {
	switch c := ec.Context().(type) {
	case *Session:
		// No clock read here: lp.now is at most one tick old (see OnTick).
		if c.transport() != nil && !c.pump() {
			return
		}
		c.process()
		c.flush()
		c.schedule()
		c.lp.yieldToWorkers()
	case *rejected:
		n := len(ec.Peek())
		ec.Discard(n)
		c.lingered += n
		if int64(c.lingered) > d.s.cfg.MaxDrain {
			ec.Close()
		}
	default:
		ec.Discard(len(ec.Peek()))
	}
}

func (d driver) OnClose(ec engine.Conn, err error) {
	c, ok := ec.Context().(*Session)
	if !ok {
		return
	}
	c.closing = true
	d.s.closeSession(c, err)
}

func (d driver) OnTimer(ec engine.Conn) {
	switch c := ec.Context().(type) {
	case *Session:
		c.lp.clock()
		c.timerAt = 0
		c.onTimer()
		c.flush()
		c.schedule()
		c.lp.yieldToWorkers()
	case *rejected:
		ec.Close()
	}
}

func (d driver) OnWake(i int) {
	lp := d.s.loops[i]
	for {
		_, more := lp.q.Drain(256, lp.runItem)
		if !more {
			break
		}
	}
	lp.yieldToWorkers()
}

// OnTick refreshes the loop's clock. The engine ticks every
// TimerResolution, so the time the hot paths read (lp.now for deadlines,
// lp.wall for the Date header) is never older than one tick: a clock read
// costs more than a whole request's routing on some machines.
func (d driver) OnTick(i int, now time.Time) {
	lp := d.s.loops[i]
	lp.wall = now
	lp.now = int64(now.Sub(monoBase))
}
