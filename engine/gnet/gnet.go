package gnet

import (
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/pool/byteslice"

	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

// gnetHandler adapts gnet's callbacks to Handler. gnet sees two kinds of
// connection: TCP connections enrolled by the acceptor (context *conn) and
// datagrams on the control socket (no context: gnet builds a fresh conn per
// datagram); discovery sockets carry discoveryTag.
type gnetHandler struct {
	e      *gnetEngine
	ticked bool // ticker goroutine only
}

func (g *gnetHandler) OnBoot(eng gnet.Engine) gnet.Action {
	g.e.gEng = eng
	close(g.e.booted)
	return gnet.None
}

func (g *gnetHandler) OnShutdown(gnet.Engine) {}

func (g *gnetHandler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	w, ok := c.Context().(*conn)
	if !ok {
		if _, ok := c.Context().(discoveryTag); ok {
			g.e.discover(c.EventLoop())
		}
		return nil, gnet.Close
	}
	ls := g.e.loopOf(c.EventLoop())
	if ls == nil {
		// Not possible once Start returned; close rather than serve a
		// connection whose loop has no state.
		return nil, gnet.Close
	}
	w.gc, w.ls, w.fd = c, ls, int32(c.Fd())
	ls.Enter()
	w.f |= engine.FlagInOwn
	g.e.h.OnOpen(w)
	w.f &^= engine.FlagInOwn
	ls.Leave()
	action := g.after(w)
	ls.Flush()
	return nil, action
}

// after finishes a conn's own callback: a Close requested inside becomes
// gnet's Close action, a pending CloseWrite is tried.
func (g *gnetHandler) after(w *conn) gnet.Action {
	switch {
	case w.is(engine.FlagClosed):
	case w.is(engine.FlagCloseReq):
		return gnet.Close
	case w.is(engine.FlagShutPending):
		w.tryShut()
	}
	return gnet.None
}

func (g *gnetHandler) OnTraffic(c gnet.Conn) gnet.Action {
	w, ok := c.Context().(*conn)
	if !ok {
		g.e.datagram(c)
		return gnet.None
	}
	if w.is(engine.FlagClosed) {
		return gnet.None
	}
	ls := w.ls
	ls.Enter()
	w.f |= engine.FlagInOwn
	if w.expect != 0 && w.gc.InboundBuffered() >= g.e.readCap {
		w.readAhead() // gnet's read filled its buffer: the socket may hold more
	}
	g.e.h.OnTraffic(w)
	w.keepRest()
	w.f &^= engine.FlagInOwn
	ls.Leave()
	action := g.after(w)
	ls.Flush()
	return action
}

func (g *gnetHandler) OnClose(c gnet.Conn, err error) gnet.Action {
	w, ok := c.Context().(*conn)
	if !ok || w.is(engine.FlagClosed) || w.ls == nil {
		return gnet.None
	}
	ls := w.ls
	w.f |= engine.FlagClosed
	if w.is(engine.FlagCloseReq) {
		err = nil
	}
	w.closedBy(err)
	byteslice.Put(w.held)
	w.held, w.heldOff = nil, 0
	ls.Wheel.Cancel(w)
	if ls.InCallback() {
		// A Write inside a callback failed and gnet closed the
		// connection on the spot: OnClose must not run inside that
		// callback, so it waits for Flush.
		ls.OweOnClose(w)
		return gnet.None
	}
	ls.CallOnClose(w, err)
	ls.Flush()
	return gnet.None
}

// OnTick runs on gnet's ticker goroutine, not on a loop: it only rings every
// loop's bell so that the loop itself advances its timers and runs OnTick.
//
// gnet starts the ticker after it registered and started every loop, and
// calls OnTick at once: the first call tells Start that the loops exist.
func (g *gnetHandler) OnTick() (time.Duration, gnet.Action) {
	if !g.ticked {
		g.ticked = true
		close(g.e.ticking)
	}
	g.e.ringTicks()
	return g.e.cfg.TimerResolution, gnet.None
}

// datagram handles one datagram on the control socket, on the loop that
// received it. Nothing here allocates.
func (e *gnetEngine) datagram(c gnet.Conn) {
	b, _ := c.Peek(-1)
	target, kind, seq, ok := ctrl.ParseDoorbell(b, e.token)
	ls := e.loopOf(c.EventLoop())
	if !ok || ls == nil {
		e.st.dropped.Add(1)
		return
	}
	loops := e.loopList()
	switch kind {
	case ctrl.KindProbe:
		ls.received.Add(1)
		select {
		case e.probeCh <- probeResult{seq: seq, loop: ls.Idx}:
		default:
		}
		return
	case ctrl.KindWork, ctrl.KindTick:
	default:
		// KindStop: Stop needs no datagram (gnet ends its loops through
		// their own task queues); a stop doorbell is not ours.
		e.st.dropped.Add(1)
		return
	}
	if target >= len(loops) {
		e.st.dropped.Add(1)
		return
	}
	ls.received.Add(1)
	bit := engine.BellWork
	if kind == ctrl.KindTick {
		bit = engine.BellTick
	}
	if target == ls.Idx {
		ls.ServeBell(bit)
		return
	}
	// The kernel delivered it to another loop (no calibrated sender for
	// the target, or the reuseport group changed): hand it on.
	t := loops[target]
	t.Bell.Ring(bit)
	ls.forwarded.Add(1)
	t.deliver()
}
