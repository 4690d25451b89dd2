//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"golang.org/x/sys/unix"

	"github.com/evhttpd/httpd/engine"
)

// conn is the backend's wrapper of one netpoll connection; it implements
// engine.Conn. Fields are the loop's (touched only by whoever holds it),
// except done, which netpoll's close callback reads.
//
// Input: netpoll reads the socket into its own buffer and runs OnRequest
// while unread bytes remain. During OnRequest the driver reads that buffer
// in place (loop.view); what it leaves is copied into in, so netpoll's
// buffer is empty when OnRequest returns and netpoll does not call again
// until new bytes arrive. Output: netpoll's Flush blocks until the socket
// took everything, so writes go to the socket directly, non-blocking; what
// it does not take waits in out, and the engine's write poller says when
// the socket takes more.
type conn struct {
	nc   netpoll.Connection
	ls   *loop
	fd   int32
	f    engine.ConnFlags
	done atomic.Bool // the loop finished with it: netpoll may close the descriptor
	// armed: the write poller watches the socket for one report; polled:
	// the socket is in the write poller (armed or spent); hupWait: a close
	// callback waits for the loop (under loop.evMu).
	armed, polled, hupWait bool
	reset                  bool // Reset: close abortively, drop queued output

	inb    []byte // leftover input, from inOff on
	inOff  int
	outb   []byte // output the socket has not taken, from outOff on
	outOff int

	err  error // why the engine closes it (a write error), nil for Close
	user any
	tl   engine.TimerLink[*conn]

	prev, next *conn // the loop's list of open connections

	local, remote netip.AddrPort
	other         *[2]net.Addr // local and remote of a non-TCP socket
	closePending  atomic.Bool  // gatedClose counted it in closesPending
	closedCB      atomic.Bool  // netpoll ran the close callbacks
}

func (w *conn) Flags() *engine.ConnFlags            { return &w.f }
func (w *conn) TimerLink() *engine.TimerLink[*conn] { return &w.tl }

var _ engine.Conn = (*conn)(nil)

func (w *conn) closed() bool { return w.f.Is(engine.FlagClosed) }

func (w *conn) Peek() []byte {
	switch {
	case w.closed():
		return nil
	case w.ls.cur == w:
		return w.ls.view
	}
	return w.inb[w.inOff:]
}

func (w *conn) Discard(n int) {
	if w.closed() || n <= 0 {
		return
	}
	ls := w.ls
	if ls.cur == w {
		n = min(n, len(ls.view))
		ls.view = ls.view[n:]
		_ = ls.rd.Skip(n)
		return
	}
	if w.inOff += n; w.inOff >= len(w.inb) {
		ls.putBuf(w.inb)
		w.inb, w.inOff = nil, 0
	}
}

func (w *conn) InboundBuffered() int { return len(w.Peek()) }

// appendIn keeps p as leftover input.
func (w *conn) appendIn(p []byte) {
	w.inb, w.inOff = w.ls.appendBuf(w.inb, w.inOff, p)
}

func (w *conn) Write(p []byte) error {
	switch {
	case w.closed():
		return engine.ErrClosed
	case w.f.Is(engine.FlagShutPending | engine.FlagShutDone):
		return engine.ErrWriteShut
	case len(p) == 0:
		return nil
	case w.err != nil:
		return w.err // a write failed; the close is on its way
	}
	if len(w.outb) > w.outOff {
		// Output waits already: keep the order.
		w.outb, w.outOff = w.ls.appendBuf(w.outb, w.outOff, p)
		return nil
	}
	n, err := write(int(w.fd), p)
	if err != nil {
		w.fail(err)
		return err
	}
	if n < len(p) {
		w.outb, w.outOff = w.ls.appendBuf(w.outb, w.outOff, p[n:])
		w.arm()
	}
	return nil
}

// write is a non-blocking write that reports EAGAIN as a short count.
func write(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, nil
		}
		return 0, err
	}
}

// fail records a write error: the connection closes once the current
// callback returned, and OnClose reports err.
func (w *conn) fail(err error) {
	if w.err == nil {
		w.err = err
	}
	if !w.f.Is(engine.FlagCloseReq) {
		w.f |= engine.FlagCloseReq
		w.ls.RequestClose(w)
	}
}

// arm asks the write poller to report when the socket takes output again.
func (w *conn) arm() {
	if err := w.ls.e.wp.arm(w); err != nil {
		w.fail(err)
	}
}

// flushOut writes queued output after the write poller reported room.
func (w *conn) flushOut() {
	if w.closed() || w.err != nil {
		return
	}
	if q := w.outb[w.outOff:]; len(q) > 0 {
		n, err := write(int(w.fd), q)
		if err != nil {
			w.fail(err)
			return
		}
		if w.outOff += n; w.outOff < len(w.outb) {
			w.arm()
			return
		}
	}
	w.ls.putBuf(w.outb)
	w.outb, w.outOff = nil, 0
	if w.f.Is(engine.FlagShutPending) {
		w.tryShut()
	}
}

func (w *conn) OutboundBuffered() int {
	if w.closed() {
		return 0
	}
	return len(w.outb) - w.outOff
}

func (w *conn) CloseWrite() error {
	switch {
	case w.closed():
		return engine.ErrClosed
	case w.f.Is(engine.FlagShutPending | engine.FlagShutDone):
		return nil
	}
	if w.OutboundBuffered() == 0 {
		w.f |= engine.FlagShutDone
		return unix.Shutdown(int(w.fd), unix.SHUT_WR)
	}
	w.f |= engine.FlagShutPending
	w.ls.WaitShut(w)
	return nil
}

// tryShut shuts the write side if the output drained and reports whether
// the CloseWrite is finished.
func (w *conn) tryShut() bool {
	if w.OutboundBuffered() != 0 {
		return false
	}
	w.f &^= engine.FlagShutPending
	w.f |= engine.FlagShutDone
	_ = unix.Shutdown(int(w.fd), unix.SHUT_WR)
	return true
}

func (w *conn) Close() {
	if w.f.Is(engine.FlagClosed | engine.FlagCloseReq) {
		return
	}
	w.f |= engine.FlagCloseReq
	w.ls.RequestClose(w)
}

// Reset closes abortively: with SO_LINGER 0 the close sends a TCP RST and
// the kernel drops what it still holds; the engine drops its queued output
// too instead of trying to send it.
func (w *conn) Reset() {
	if w.closed() {
		return
	}
	_ = unix.SetsockoptLinger(int(w.fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	w.reset = true
	w.Close()
}

// PauseRead cannot stop netpoll's own poller from reading the socket into
// its buffer: it reports false and the caller bounds what accumulates.
func (w *conn) PauseRead(bool) bool { return false }

func (w *conn) SetTimer(d time.Duration) { w.ls.SetTimer(w, d) }

func (w *conn) Fd() int { return int(w.fd) }

func (w *conn) LocalAddr() net.Addr {
	if w.other != nil {
		return w.other[0]
	}
	return net.TCPAddrFromAddrPort(w.local)
}

func (w *conn) RemoteAddr() net.Addr {
	if w.other != nil {
		return w.other[1]
	}
	return net.TCPAddrFromAddrPort(w.remote)
}

func (w *conn) Loop() int        { return w.ls.Idx }
func (w *conn) Context() any     { return w.user }
func (w *conn) SetContext(v any) { w.user = v }

// onRequest is the connection's netpoll OnRequest: it runs in netpoll's
// task for the connection (on the poller that read the input, see
// runInline, or on a pooled goroutine with Options.Pooled), which takes the
// loop for it.
func (w *conn) onRequest(_ context.Context, c netpoll.Connection) error {
	ls := w.ls
	ls.mu.Lock()
	if !w.closed() {
		ls.traffic(w, c.Reader())
	} else if r := c.Reader(); r.Len() > 0 {
		// Input after the loop closed the connection is dropped: netpoll
		// re-runs OnRequest while any remains, and with the inline runner
		// netpoll's Close waits for this task to end.
		_ = r.Skip(r.Len())
		_ = r.Release()
	}
	ls.mu.Unlock()
	return nil
}

// closeNetpoll closes netpoll's connection once the loop is done with it.
// With the inline runner it does so from a goroutine of its own (tracked by
// the engine's closers) once no task runs on a poller: see runInline.
func (w *conn) closeNetpoll(e *npEngine) {
	if !e.inline {
		_ = w.nc.Close()
		return
	}
	e.closers.Add(1)
	go func() {
		defer e.closers.Done()
		w.gatedClose()
	}()
}

// gatedClose closes netpoll's connection once no task runs inline on a
// poller (runInline). It blocks until then: never call it from a task.
// The close stays pending, so that tasks run off the pollers, until the
// connection's close callbacks ran (onPollerClose): netpoll takes a
// connection's processing lock before it hands the task to the runner, so
// a task that began before this Close may reach the runner after it.
func (w *conn) gatedClose() {
	w.closePending.Store(true)
	closesPending.Add(1)
	if w.closedCB.Load() {
		// netpoll closed it already (the peer left) and ran the close
		// callbacks: no task runs any more, and this Close is a no-op.
		w.closeDone()
	}
	taskGate.Lock()
	taskGate.Unlock() //nolint:staticcheck // an empty critical section: waits out the inline tasks
	_ = w.nc.Close()
}

// closeDone ends gatedClose's pending close, once: it runs when netpoll ran
// the close callbacks (onPollerClose), and in gatedClose when they ran
// before it began.
func (w *conn) closeDone() {
	if w.closePending.CompareAndSwap(true, false) {
		closesPending.Add(-1)
	}
}

// onPollerClose is the connection's netpoll close callback. When netpoll
// closes the connection itself (the peer hung up, an error), the descriptor
// is closed right after the callbacks return, so this one waits until the
// loop has run OnClose and will not write to it again. When the loop closed
// it, the loop is done with it already.
func (w *conn) onPollerClose(netpoll.Connection) error {
	w.closedCB.Store(true)
	w.closeDone()
	if w.done.Load() {
		return nil
	}
	w.ls.hangUp(w)
	return nil
}
