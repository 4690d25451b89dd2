package gnet

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/evhttpd/httpd/engine"
)

// loop is the backend's state for one gnet event loop: the shared core
// (bell, timers, close bookkeeping) plus what gnet needs. The core's
// loop-only fields are touched only on that loop's goroutine.
type loop struct {
	engine.Core[*conn]
	e   *gnetEngine
	gel gnet.EventLoop

	poller pollerFdOnce // gnet's poller descriptor for this loop (PauseRead)

	// Doorbells (any goroutine).
	sender atomic.Int64  // connected UDP socket whose datagrams land on this loop; -1: none (forwarded)
	task   gnet.Runnable // serves the bell; queued by Execute on fallbacks and rescues

	// Ticker goroutine only: lost-doorbell detection.
	watch engine.BellWatch

	// Counters (read by Stats).
	received, forwarded atomic.Uint64
	// readAhead counts the bytes conn.readAhead read (owning loop only;
	// tests read it from a callback).
	readAhead uint64
	_         [64]byte // keep the next loop's hot words off this cache line
}

func newLoop(e *gnetEngine, idx int, gel gnet.EventLoop) *loop {
	ls := &loop{e: e, gel: gel}
	ls.Init(idx, e.h, ls, e.cfg, time.Now())
	ls.sender.Store(-1)
	ls.task = gnet.RunnableFunc(func(context.Context) error {
		ls.ServeBell(0)
		return nil
	})
	return ls
}

// CloseConn implements engine.LoopHooks: gnet calls OnClose synchronously
// from Close, and the adapter's OnClose runs the Handler's.
func (ls *loop) CloseConn(w *conn) { _ = ls.gel.Close(w.gc) }

// CloseErr implements engine.LoopHooks.
func (ls *loop) CloseErr(w *conn) error { return w.gone.Load().err }

// TryShut implements engine.LoopHooks.
func (ls *loop) TryShut(w *conn) bool { return w.tryShut() }
