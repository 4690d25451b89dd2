package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Bell bits: why a loop was rung. A loop's bell word is non-zero exactly
// while a delivery (a doorbell datagram or a queued task) is on its way that
// will swap it back to zero; so only the ringer that turns it non-zero sends.
const (
	bitWork uint32 = 1 << iota
	bitTick
)

// loop is the engine's state for one gnet event loop. Fields under "loop
// only" are touched only on that loop's goroutine.
type loop struct {
	e   *Engine
	idx int
	gel gnet.EventLoop

	// Doorbells (any goroutine).
	sender atomic.Int64 // connected UDP socket whose datagrams land on this loop; -1: none (forwarded)
	bell   atomic.Uint32
	swaps  atomic.Uint64 // times the loop swapped its bell to zero
	task   gnet.Runnable // serves the bell; queued by Execute on fallbacks and rescues

	// Ticker goroutine only: lost-doorbell detection.
	lastSwaps uint64
	stuck     int

	// Loop only.
	depth    int     // nesting of Handler callbacks now running
	flushing bool    // flush is running
	pending  []*conn // Close requested outside the conn's own OnOpen/OnTraffic
	deferred []*conn // gnet closed them inside a callback: OnClose still owed
	shut     []*conn // CloseWrite waiting for the outbound queue to drain
	wheel    wheel
	lastTick time.Time

	// Counters (read by Stats).
	received, forwarded, wakes, ticks, timersFired atomic.Uint64
	_                                              [64]byte // keep the next loop's hot words off this cache line
}

func newLoop(e *Engine, idx int, gel gnet.EventLoop) *loop {
	ls := &loop{e: e, idx: idx, gel: gel, lastTick: time.Now()}
	ls.sender.Store(-1)
	ls.wheel.init(e.cfg.TimerResolution, e.cfg.TimerSlots, ls.lastTick)
	ls.task = gnet.RunnableFunc(func(context.Context) error {
		ls.serveBell(0)
		return nil
	})
	return ls
}

// serveBell runs on the loop when a doorbell (or a task standing in for one)
// arrived: it takes every reason rung so far, plus extra (the kind named by
// the datagram), and acts on them.
func (ls *loop) serveBell(extra uint32) {
	bits := ls.bell.Swap(0) | extra
	ls.swaps.Add(1)
	if bits&bitTick != 0 {
		ls.tick(time.Now())
	}
	if bits&bitWork != 0 {
		ls.wakes.Add(1)
		ls.depth++
		ls.e.h.OnWake(ls.idx)
		ls.depth--
	}
	ls.flush()
}

// tick advances the timer wheel, finishes drained CloseWrites and runs OnTick
// when TickInterval has passed.
func (ls *loop) tick(now time.Time) {
	ls.wheel.advance(now, ls.fire)
	if len(ls.shut) > 0 {
		keep := ls.shut[:0]
		for _, w := range ls.shut {
			if !w.is(cClosed) && w.is(cShutPending) && !w.tryShut() {
				keep = append(keep, w)
			}
		}
		clear(ls.shut[len(keep):])
		ls.shut = keep
	}
	iv := ls.e.cfg.TickInterval
	if now.Sub(ls.lastTick) >= iv-ls.e.cfg.TimerResolution/2 {
		ls.lastTick = now
		ls.ticks.Add(1)
		ls.depth++
		ls.e.h.OnTick(ls.idx, now)
		ls.depth--
	}
	ls.flush()
}

// fire runs one expired timer.
func (ls *loop) fire(w *conn) {
	if w.is(cClosed) {
		return
	}
	ls.timersFired.Add(1)
	ls.depth++
	ls.e.h.OnTimer(w)
	ls.depth--
	if !w.is(cClosed) && w.is(cShutPending) {
		w.tryShut()
	}
}

// flush runs, once no callback is on the stack, the closes requested during
// callbacks and the OnClose calls gnet's closes owed while a callback ran.
// Closes requested by those OnClose calls are served in the same pass.
func (ls *loop) flush() {
	if ls.depth > 0 || ls.flushing {
		return
	}
	ls.flushing = true
	for len(ls.deferred) > 0 || len(ls.pending) > 0 {
		for i := 0; i < len(ls.deferred); i++ {
			w := ls.deferred[i]
			ls.deferred[i] = nil
			ls.callOnClose(w)
		}
		ls.deferred = ls.deferred[:0]
		for i := 0; i < len(ls.pending); i++ {
			w := ls.pending[i]
			ls.pending[i] = nil
			if !w.is(cClosed) {
				// gnet calls OnClose synchronously; depth is 0 and
				// flushing is set, so it runs at once and anything it
				// closes lands in pending and is served by this loop.
				_ = ls.gel.Close(w.gc)
			}
		}
		ls.pending = ls.pending[:0]
	}
	ls.flushing = false
}

func (ls *loop) callOnClose(w *conn) {
	ls.depth++
	ls.e.h.OnClose(w, w.gone.Load().err)
	ls.depth--
}
