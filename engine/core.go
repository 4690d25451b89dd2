package engine

import (
	"sync/atomic"
	"time"
)

// The parts of an event loop that do not depend on the poller: the bell
// that coalesces wake-ups, the connection state bits, the close
// bookkeeping, the timer wheel and the tick clock. A backend's loop embeds
// a Core and its connection type embeds ConnFlags and a TimerLink; the
// backend supplies only what its poller does differently (LoopHooks).

// Bell bits: why a loop was rung.
const (
	BellWork uint32 = 1 << iota // Wake: OnWake is owed
	BellTick                    // a timer-resolution step: advance timers, maybe OnTick
)

// Bell coalesces the wake-ups of one loop. Its word is non-zero exactly
// while a delivery is on its way that will take it back to zero, so only
// the ringer that turns it non-zero delivers, and a burst of rings costs
// one delivery and one service. Safe from any goroutine.
type Bell struct {
	word  atomic.Uint32
	swaps atomic.Uint64 // times the loop took the bell
}

// Ring adds bits and reports whether the bell was silent: the caller must
// then deliver it (a doorbell, a task, a signal to the loop's goroutine).
func (b *Bell) Ring(bits uint32) bool { return b.word.Or(bits) == 0 }

// Take, on the loop, silences the bell and returns every bit rung so far.
func (b *Bell) Take() uint32 {
	b.swaps.Add(1)
	return b.word.Swap(0)
}

// Rung reports whether a delivery is owed.
func (b *Bell) Rung() bool { return b.word.Load() != 0 }

// SilentToRung rings bits only if the bell is silent, without delivering:
// tests use it to simulate a delivery that was lost.
func (b *Bell) SilentToRung(bits uint32) bool { return b.word.CompareAndSwap(0, bits) }

// BellWatch detects lost deliveries for a backend whose delivery can be
// lost (a datagram dropped by a full receive buffer). Its owner calls
// Stuck once per timer-resolution step from one goroutine.
type BellWatch struct {
	lastSwaps uint64
	steps     int
}

// Stuck reports whether b stayed rung through two steps while its loop took
// nothing; the caller then re-delivers by a reliable path. A loop that was
// merely busy gets a harmless extra service.
func (w *BellWatch) Stuck(b *Bell) bool {
	swaps := b.swaps.Load()
	stuck := false
	if b.Rung() && swaps == w.lastSwaps {
		if w.steps++; w.steps >= 2 {
			w.steps = 0
			stuck = true
		}
	} else {
		w.steps = 0
	}
	w.lastSwaps = swaps
	return stuck
}

// ConnFlags are a connection's state bits, touched only on its loop.
type ConnFlags uint8

const (
	FlagClosed      ConnFlags = 1 << iota // closed at the poller: OnClose ran or is owed
	FlagCloseReq                          // Close was called
	FlagInOwn                             // inside this connection's own OnOpen or OnTraffic
	FlagShutPending                       // CloseWrite waits for the outbound queue to drain
	FlagShutDone                          // SHUT_WR done
)

// Is reports whether any of f is set.
func (c ConnFlags) Is(f ConnFlags) bool { return c&f != 0 }

// LoopConn is what Core needs of a backend's connection pointer type.
type LoopConn[T any] interface {
	Timed[T]
	Conn
	Flags() *ConnFlags
}

// LoopHooks are the poller-specific steps of the close bookkeeping.
type LoopHooks[T any] interface {
	// CloseConn closes w at the poller now (no callback is on the loop's
	// stack). It must set FlagClosed and run Core.CallOnClose for w before
	// it returns, directly or through the poller's own close callback.
	CloseConn(w T)
	// CloseErr is the error a deferred OnClose of w reports.
	CloseErr(w T) error
	// TryShut shuts w's write side if its outbound queue drained and
	// reports whether the CloseWrite is finished.
	TryShut(w T) bool
}

// Core is the poller-independent state of one loop. Fields and methods are
// for the loop only (whichever goroutine runs it at the time), except Bell
// and the counters.
type Core[T LoopConn[T]] struct {
	Idx   int
	H     Handler
	Bell  Bell
	Wheel Wheel[T]

	hooks    LoopHooks[T]
	fire     func(T)
	depth    int  // nesting of Handler callbacks now running
	flushing bool // Flush is running
	pending  []T  // Close requested outside the connection's own OnOpen/OnTraffic
	deferred []T  // closed by the poller inside a callback: OnClose still owed
	shut     []T  // CloseWrite waiting for the outbound queue to drain
	lastTick time.Time
	res      time.Duration
	tickIv   time.Duration

	// Counters (read by Stats from any goroutine).
	Wakes, Ticks, TimersFired atomic.Uint64
}

// Init readies the core of loop idx.
func (c *Core[T]) Init(idx int, h Handler, hooks LoopHooks[T], cfg Config, now time.Time) {
	c.Idx, c.H, c.hooks = idx, h, hooks
	c.res, c.tickIv, c.lastTick = cfg.TimerResolution, cfg.TickInterval, now
	c.Wheel.Init(cfg.TimerResolution, cfg.TimerSlots, now)
	c.fire = c.fireTimer
}

// Enter and Leave bracket every Handler callback the backend runs, so that
// closes asked for inside it wait for Flush.
func (c *Core[T]) Enter() { c.depth++ }
func (c *Core[T]) Leave() { c.depth-- }

// InCallback reports whether a Handler callback is on the loop's stack.
func (c *Core[T]) InCallback() bool { return c.depth > 0 }

// RequestClose queues w for CloseConn at the next Flush.
func (c *Core[T]) RequestClose(w T) { c.pending = append(c.pending, w) }

// OweOnClose queues OnClose(w, CloseErr(w)) for the next Flush: the poller
// closed w while a callback ran.
func (c *Core[T]) OweOnClose(w T) { c.deferred = append(c.deferred, w) }

// WaitShut keeps w until its outbound queue drains; ticks retry TryShut.
func (c *Core[T]) WaitShut(w T) { c.shut = append(c.shut, w) }

// CallOnClose runs the Handler's OnClose for w.
func (c *Core[T]) CallOnClose(w T, err error) {
	c.depth++
	c.H.OnClose(w, err)
	c.depth--
}

// Flush runs, once no callback is on the stack, the closes requested during
// callbacks and the OnClose calls owed. Closes requested by those OnClose
// calls are served in the same pass.
func (c *Core[T]) Flush() {
	if c.depth > 0 || c.flushing {
		return
	}
	c.flushing = true
	var zero T
	for len(c.deferred) > 0 || len(c.pending) > 0 {
		for i := 0; i < len(c.deferred); i++ {
			w := c.deferred[i]
			c.deferred[i] = zero
			c.CallOnClose(w, c.hooks.CloseErr(w))
		}
		c.deferred = c.deferred[:0]
		for i := 0; i < len(c.pending); i++ {
			w := c.pending[i]
			c.pending[i] = zero
			if !w.Flags().Is(FlagClosed) {
				// depth is 0 and flushing is set: OnClose runs at once
				// and anything it closes lands in pending, served by
				// this loop.
				c.hooks.CloseConn(w)
			}
		}
		c.pending = c.pending[:0]
	}
	c.flushing = false
}

// ServeBell takes the bell (plus extra, the kind a doorbell named) and acts
// on it: a tick advances the timers, work runs OnWake.
func (c *Core[T]) ServeBell(extra uint32) {
	bits := c.Bell.Take() | extra
	if bits&BellTick != 0 {
		c.Tick(time.Now())
	}
	if bits&BellWork != 0 {
		c.Wakes.Add(1)
		c.depth++
		c.H.OnWake(c.Idx)
		c.depth--
	}
	c.Flush()
}

// Tick advances the timer wheel, finishes drained CloseWrites and runs
// OnTick when TickInterval has passed.
func (c *Core[T]) Tick(now time.Time) {
	c.Wheel.Advance(now, c.fire)
	if len(c.shut) > 0 {
		keep := c.shut[:0]
		for _, w := range c.shut {
			f := *w.Flags()
			if !f.Is(FlagClosed) && f.Is(FlagShutPending) && !c.hooks.TryShut(w) {
				keep = append(keep, w)
			}
		}
		clear(c.shut[len(keep):])
		c.shut = keep
	}
	if now.Sub(c.lastTick) >= c.tickIv-c.res/2 {
		c.lastTick = now
		c.Ticks.Add(1)
		c.depth++
		c.H.OnTick(c.Idx, now)
		c.depth--
	}
	c.Flush()
}

// fireTimer runs one expired timer.
func (c *Core[T]) fireTimer(w T) {
	if w.Flags().Is(FlagClosed) {
		return
	}
	c.TimersFired.Add(1)
	c.depth++
	c.H.OnTimer(w)
	c.depth--
	if f := *w.Flags(); !f.Is(FlagClosed) && f.Is(FlagShutPending) {
		c.hooks.TryShut(w)
	}
}

// SetTimer is Conn.SetTimer for w.
func (c *Core[T]) SetTimer(w T, d time.Duration) {
	if w.Flags().Is(FlagClosed) {
		return
	}
	if d <= 0 {
		c.Wheel.Cancel(w)
		return
	}
	c.Wheel.Set(w, d, time.Now())
}
