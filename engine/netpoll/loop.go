//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"io"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"

	"github.com/evhttpd/httpd/engine"
)

// loop is one logical event loop. netpoll runs OnRequest on pooled
// goroutines and has no loops to offer, so a loop here is a lock: whoever
// runs one of its callbacks holds mu (a netpoll handler goroutine for
// traffic, the acceptor for OnOpen, the loop's own goroutine for wakes,
// ticks, timers, write readiness and peer closes). The callbacks of one loop
// therefore never overlap, each happens after the one before, and nothing
// in the loop needs another lock.
type loop struct {
	engine.Core[*conn]
	e *npEngine

	mu      sync.Mutex    // the loop
	sig     chan struct{} // wakes the loop's goroutine (capacity 1)
	quit    chan struct{}
	done    chan struct{}
	stopped bool // under mu: Stop closed every connection; none may join

	// Under mu.
	head            *conn          // open connections
	cur             *conn          // the connection whose OnRequest runs now
	view            []byte         // its unread input, in netpoll's buffer
	rd              netpoll.Reader // that buffer
	free            [][]byte       // spare input and output buffers
	hups, writables []*conn        // posted events being served (swapped with the in lists)

	// Events from other goroutines, under evMu: connections the peer
	// closed (their close callback waits on evCond until the loop ran
	// OnClose) and connections whose socket takes output again.
	evMu       sync.Mutex
	evCond     sync.Cond
	inHups     []*conn
	inWritable []*conn
	exited     bool // the loop ended: nobody waits for it any more
}

func newLoop(e *npEngine, idx int, now time.Time) *loop {
	ls := &loop{
		e:    e,
		sig:  make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	ls.evCond.L = &ls.evMu
	ls.Init(idx, e.h, ls, e.cfg, now)
	return ls
}

// signal wakes the loop's goroutine; a signal already pending is enough.
func (ls *loop) signal() {
	select {
	case ls.sig <- struct{}{}:
	default:
	}
}

// run is the loop's own goroutine: it serves the bell (OnWake, ticks and
// timers), write readiness and peer closes. Traffic does not come here; it
// takes the loop on netpoll's goroutine.
func (ls *loop) run() {
	defer close(ls.done)
	t := time.NewTicker(ls.e.cfg.TimerResolution)
	defer t.Stop()
	for {
		select {
		case <-ls.sig:
		case <-t.C:
			ls.Bell.Ring(engine.BellTick) // no delivery needed: this is it
		case <-ls.quit:
			ls.shutdown()
			return
		}
		ls.mu.Lock()
		ls.serveEvents()
		ls.ServeBell(0)
		ls.mu.Unlock()
	}
}

// post hands w to the loop from another goroutine.
func (ls *loop) post(w *conn, kind int) {
	ls.evMu.Lock()
	if ls.exited {
		ls.evMu.Unlock()
		return
	}
	switch kind {
	case evWritable:
		ls.inWritable = append(ls.inWritable, w)
	case evHup:
		w.hupWait = true
		ls.inHups = append(ls.inHups, w)
	}
	ls.evMu.Unlock()
	ls.signal()
}

const (
	evWritable = iota
	evHup
)

// hangUp is a peer close reported by netpoll's close callback: it waits
// until the loop ran OnClose (or ended), since netpoll closes the
// descriptor when the callback returns.
func (ls *loop) hangUp(w *conn) {
	ls.post(w, evHup)
	ls.evMu.Lock()
	for w.hupWait && !ls.exited {
		ls.evCond.Wait()
	}
	ls.evMu.Unlock()
}

// serveEvents runs what other goroutines posted (under mu).
func (ls *loop) serveEvents() {
	ls.evMu.Lock()
	if len(ls.inWritable) == 0 && len(ls.inHups) == 0 {
		ls.evMu.Unlock()
		return
	}
	// Swap the posted lists for spare ones: no allocation in steady state.
	ls.writables, ls.inWritable = ls.inWritable, ls.writables[:0]
	ls.hups, ls.inHups = ls.inHups, ls.hups[:0]
	ls.evMu.Unlock()
	for i, w := range ls.writables {
		ls.writables[i] = nil
		w.armed = false
		w.flushOut()
	}
	ls.Flush()
	if len(ls.hups) == 0 {
		return
	}
	for _, w := range ls.hups {
		// The last OnRequest of w returned before netpoll ran its close
		// callbacks, so its traffic was all seen.
		ls.finish(w, io.EOF)
	}
	ls.Flush()
	ls.evMu.Lock()
	for i, w := range ls.hups {
		w.hupWait = false
		ls.hups[i] = nil
	}
	ls.evCond.Broadcast()
	ls.evMu.Unlock()
}

// shutdown closes every connection of the loop (OnClose for each) and
// releases whoever waits for it.
func (ls *loop) shutdown() {
	ls.mu.Lock()
	ls.stopped = true
	ls.serveEvents()
	for ls.head != nil {
		ls.finish(ls.head, nil)
	}
	ls.Flush()
	ls.mu.Unlock()
	ls.evMu.Lock()
	ls.exited = true
	ls.evCond.Broadcast()
	ls.evMu.Unlock()
}

// open runs OnOpen for a new connection (on the acceptor goroutine). It
// reports false when the connection is gone: refused because the loop
// stopped (err ErrStopped) or closed by OnOpen itself (err nil).
func (ls *loop) open(w *conn) (bool, error) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.stopped {
		w.done.Store(true)
		w.nc.Close()
		return false, engine.ErrStopped
	}
	w.next = ls.head
	if ls.head != nil {
		ls.head.prev = w
	}
	ls.head = w
	ls.Enter()
	ls.H.OnOpen(w)
	ls.Leave()
	ls.Flush()
	return !w.closed(), nil
}

// traffic runs OnTraffic for w with the bytes netpoll buffered (under mu,
// on a netpoll goroutine). Bytes the driver leaves are moved out of
// netpoll's buffer into w's, so netpoll does not run OnRequest again for
// them (it re-runs it while its buffer is not empty).
func (ls *loop) traffic(w *conn, r netpoll.Reader) {
	n := r.Len()
	if n == 0 {
		return
	}
	b, err := r.Peek(n)
	if err != nil {
		return
	}
	if ahead := ls.e.inline && n >= readAheadMin && offPoller.Load() == 0; ahead || w.inOff < len(w.inb) {
		// Older bytes wait already, or more than netpoll read is likely
		// in the socket: the new ones join the connection's buffer.
		w.appendIn(b)
		_ = r.Skip(n)
		_ = r.Release()
		if ahead {
			ls.readAhead(w)
		}
		ls.callTraffic(w)
		return
	}
	ls.cur, ls.view, ls.rd = w, b, r
	ls.callTraffic(w)
	ls.cur, ls.rd = nil, nil
	if left := ls.view; len(left) > 0 {
		if !w.closed() {
			w.appendIn(left)
		}
		_ = r.Skip(len(left))
	}
	ls.view = nil
	_ = r.Release()
}

// readAhead reads what else w's socket holds into w's buffer, in a task
// running inline on the poller that reads w (see runInline). netpoll reads
// at most one buffer node per event, and its nodes stay as small as
// Options.BufferSize when the engine drains its buffer on every event (it
// sizes them by what waits unread), so a message of a KiB or more would
// otherwise come in pieces, an event and a callback each, and be gathered
// piece by piece. traffic calls it when netpoll's read was large enough to
// have been cut short (readAheadMin), and only while no task runs off a
// poller (offPoller): then nothing else reads w's socket. What the socket
// does not have now (EAGAIN), its end and its errors are left to netpoll's
// poller, which sees them too.
func (ls *loop) readAhead(w *conn) {
	for got := 0; got < readAheadMax; {
		w.inb, w.inOff = ls.reserveBuf(w.inb, w.inOff, readAheadRoom)
		n, err := unix.Read(int(w.fd), w.inb[len(w.inb):cap(w.inb)])
		if n <= 0 || err != nil {
			return
		}
		w.inb = w.inb[:len(w.inb)+n]
		got += n
	}
}

// readAhead runs after a read of at least readAheadMin bytes, into at
// least readAheadRoom bytes of room, and takes at most about readAheadMax
// bytes per event.
const (
	readAheadMin  = 256
	readAheadRoom = 8 << 10
	readAheadMax  = 64 << 10
)

func (ls *loop) callTraffic(w *conn) {
	ls.Enter()
	ls.H.OnTraffic(w)
	ls.Leave()
	if !w.closed() && w.f.Is(engine.FlagShutPending) {
		w.tryShut()
	}
	ls.Flush()
}

// finish closes w for good (under mu, no callback on the stack): output
// the socket takes at once is sent, OnClose runs, and then netpoll may
// close the descriptor.
func (ls *loop) finish(w *conn, err error) {
	if w.closed() {
		return
	}
	if q := w.outb[w.outOff:]; len(q) > 0 && w.err == nil && !w.reset && !w.f.Is(engine.FlagShutDone) {
		_, _ = write(int(w.fd), q) // best effort, like gnet's close
	}
	w.f |= engine.FlagClosed
	ls.Wheel.Cancel(w)
	if w.polled {
		ls.e.wp.forget(w)
	}
	if w.prev != nil {
		w.prev.next = w.next
	} else if ls.head == w {
		ls.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
	ls.CallOnClose(w, err)
	ls.putBuf(w.inb)
	ls.putBuf(w.outb)
	w.inb, w.inOff, w.outb, w.outOff = nil, 0, nil, 0
	w.done.Store(true)
	w.closeNetpoll(ls.e)
}

// CloseConn implements engine.LoopHooks.
func (ls *loop) CloseConn(w *conn) { ls.finish(w, w.err) }

// CloseErr implements engine.LoopHooks (the backend owes no OnClose: its
// closes all run through CloseConn).
func (ls *loop) CloseErr(w *conn) error { return w.err }

// TryShut implements engine.LoopHooks.
func (ls *loop) TryShut(w *conn) bool { return w.tryShut() }

// Buffers for leftover input and queued output come from a small per-loop
// free list, so a connection holds one only while it has bytes in it.
const (
	bufMin     = 4 << 10
	bufKeepMax = 64 << 10
	bufKeepN   = 64
)

// appendBuf appends p to b[off:], compacting or growing b; the result is
// the new buffer and offset.
func (ls *loop) appendBuf(b []byte, off int, p []byte) ([]byte, int) {
	if off == len(b) {
		if b == nil {
			b = ls.getBuf(len(p))
		}
		b, off = b[:0], 0
	}
	b, off = ls.reserveBuf(b, off, len(p))
	return append(b, p...), off
}

// reserveBuf makes room for n more bytes after b's unread bytes (from
// off), moving them to the front or into a larger buffer from the loop.
func (ls *loop) reserveBuf(b []byte, off, n int) ([]byte, int) {
	if len(b)+n > cap(b) && off > 0 {
		k := copy(b, b[off:])
		b, off = b[:k], 0
	}
	if len(b)+n > cap(b) {
		nb := ls.getBuf(len(b) + n)
		nb = append(nb, b...)
		ls.putBuf(b)
		b = nb
	}
	return b, off
}

func (ls *loop) getBuf(n int) []byte {
	for i := len(ls.free) - 1; i >= 0; i-- {
		if b := ls.free[i]; cap(b) >= n {
			ls.free[i] = ls.free[len(ls.free)-1]
			ls.free[len(ls.free)-1] = nil
			ls.free = ls.free[:len(ls.free)-1]
			return b[:0]
		}
	}
	return make([]byte, 0, max(n, bufMin))
}

func (ls *loop) putBuf(b []byte) {
	if b == nil || cap(b) > bufKeepMax || len(ls.free) >= bufKeepN {
		return
	}
	ls.free = append(ls.free, b[:0])
}
