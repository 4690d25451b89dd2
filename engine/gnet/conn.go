package gnet

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/pool/byteslice"
	"golang.org/x/sys/unix"

	"github.com/evhttpd/httpd/engine"
)

// conn is the backend's wrapper of one gnet connection: it implements
// engine.Conn and is the gnet connection's context value. Its fields are
// touched only on the owning loop (after the acceptor built it and handed
// it over through gnet's task queue).
type conn struct {
	gc gnet.Conn // nil before OnOpen; never used once closed
	ls *loop
	fd int32
	f  engine.ConnFlags
	// paused: reading is off (PauseRead); in f's padding, so free.
	paused bool
	// expect is ExpectInput's hint in units of expectUnit (0: none); in
	// the padding too.
	expect uint16
	// gone is set when gnet closed the connection: the error OnClose
	// reports and copies of the addresses (gnet drops its own then, and
	// hands the zone bytes of IPv6 addresses back to a pool). While the
	// connection is open the addresses gnet keeps are read on demand, so an
	// idle connection holds no copy.
	gone atomic.Pointer[closedState]
	user any
	tl   engine.TimerLink[*conn]
	// held is input the handler left unconsumed at the end of a
	// callback, held[heldOff:]; gnet's own inbound ring stays empty (see
	// keepRest).
	held    []byte
	heldOff int
}

func (w *conn) is(f engine.ConnFlags) bool          { return w.f.Is(f) }
func (w *conn) Flags() *engine.ConnFlags            { return &w.f }
func (w *conn) TimerLink() *engine.TimerLink[*conn] { return &w.tl }

var _ engine.Conn = (*conn)(nil)
var _ engine.Taker = (*conn)(nil)

// closedState is what a closed connection keeps: its addresses and the
// error OnClose reports.
type closedState struct {
	local, remote net.Addr
	err           error
}

func newConn() *conn { return &conn{fd: -1} }

// closedBy records the close error and copies gnet's addresses before gnet
// releases them; the adapter calls it when gnet closes the connection.
func (w *conn) closedBy(err error) {
	g := &closedState{err: err}
	if w.gc != nil {
		g.local, g.remote = cloneAddr(w.gc.LocalAddr()), cloneAddr(w.gc.RemoteAddr())
	}
	w.gone.Store(g)
}

// addr returns a copy of a, or of the kept copy once the connection closed:
// callers may keep what they get, and gnet reuses the zone bytes of the
// addresses it holds.
func (w *conn) addr(remote bool) net.Addr {
	switch g := w.gone.Load(); {
	case g != nil && remote:
		return cloneAddr(g.remote)
	case g != nil:
		return cloneAddr(g.local)
	case w.gc == nil:
		return nil
	case remote:
		return cloneAddr(w.gc.RemoteAddr())
	default:
		return cloneAddr(w.gc.LocalAddr())
	}
}

func cloneAddr(a net.Addr) net.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		// IPv4 arrives as a 16-byte slice: unmap it so String still reads
		// "127.0.0.1:port".
		ip := a.IP
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		return &net.TCPAddr{IP: append(net.IP(nil), ip...), Port: a.Port, Zone: string(append([]byte(nil), a.Zone...))}
	case *net.UnixAddr:
		return &net.UnixAddr{Name: string(append([]byte(nil), a.Name...)), Net: a.Net}
	}
	return a
}

// Input the handler does not consume in a callback is kept by the adapter,
// not by gnet. gnet would move it into the connection's ring buffer, and
// its Peek then copies the ring and the new bytes into a fresh buffer on
// every call while the ring is not empty: a session whose input waits (a
// partial request, or reading paused behind its output) would cost a copy
// of all it holds per event, twice its memory, and garbage for each Peek
// outside a read. Here the new bytes are appended once, and Peek returns
// the held bytes in place.

func (w *conn) Peek() []byte {
	if w.is(engine.FlagClosed) {
		return nil
	}
	if w.heldOff == len(w.held) {
		// Nothing held: gnet's bytes of this read, in its read buffer.
		b, _ := w.gc.Peek(-1)
		return b
	}
	w.takeNew()
	return w.held[w.heldOff:]
}

// takeNew moves what gnet has received into held.
func (w *conn) takeNew() {
	n := w.gc.InboundBuffered()
	if n == 0 {
		return
	}
	b, _ := w.gc.Peek(-1)
	w.reserve(len(b))
	w.held = append(w.held, b...)
	_, _ = w.gc.Discard(n)
}

// reserve makes room in held for k more bytes: the same buffer with its
// bytes slid down, when they fit and no more are live than were consumed
// (so sliding costs O(1) per byte consumed); else a larger one (growTo)
// from gnet's size-class pool (no zeroing, no garbage).
func (w *conn) reserve(k int) {
	if len(w.held)+k <= cap(w.held) {
		return
	}
	live := len(w.held) - w.heldOff
	if need := live + k; cap(w.held) < need || w.heldOff < live {
		nb := byteslice.Get(w.growTo(need))[:live]
		copy(nb, w.held[w.heldOff:])
		byteslice.Put(w.held)
		w.held = nb
	} else {
		copy(w.held, w.held[w.heldOff:])
		w.held = w.held[:live]
	}
	w.heldOff = 0
}

// readAhead runs before a callback while the handler expects more input
// than is buffered (ExpectInput): it reads what the socket holds, up to
// what is expected, straight into held. gnet reads a socket into its
// loop's shared buffer, from which the bytes a handler keeps are copied
// into held; read here, the rest of a large request body is copied once
// (kernel to held) instead of twice. Asking the socket how much it holds
// first lets held grow once to fit what has arrived, rather than in steps
// that each copy it, and still never to more than has arrived (growTo).
// gnet's poller is level-triggered, so bytes left in the socket raise the
// next event as before, and an end of stream or an error met here is met
// again by gnet's next read, which closes the connection.
func (w *conn) readAhead() {
	if w.paused {
		return
	}
	want := int(w.expect)*expectUnit - w.InboundBuffered()
	if want <= 0 {
		return
	}
	avail, err := unix.IoctlGetInt(int(w.fd), ioctlInq)
	if err != nil || avail <= 0 {
		return
	}
	want = min(want, avail)
	w.reserve(w.gc.InboundBuffered() + want)
	w.takeNew()
	for want > 0 {
		room := w.held[len(w.held):min(cap(w.held), len(w.held)+want)]
		if len(room) == 0 {
			return
		}
		n, err := unix.Read(int(w.fd), room)
		if n <= 0 || err != nil {
			return // EAGAIN: drained; EOF or an error: gnet's read reports it
		}
		w.held = w.held[:len(w.held)+n]
		w.ls.readAhead += uint64(n)
		want -= n
	}
}

// keepRest runs when a callback ends: what the handler left of gnet's
// bytes joins held, so gnet's ring buffer is never used.
func (w *conn) keepRest() {
	if w.is(engine.FlagClosed) || w.gc == nil || w.gc.InboundBuffered() == 0 {
		return
	}
	w.takeNew()
}

// heldMin is the smallest held buffer.
const heldMin = 4 << 10

// growTo returns the size of a new held buffer for need bytes: twice need,
// or, when the handler expects more (ExpectInput), up to four times need
// and not past what it expects. For a 1 MiB body arriving 64 KiB at a time
// that is two growths copying 320 KiB, where doubling copies about
// 1.5 MiB in five and ends in a 2 MiB buffer.
func (w *conn) growTo(need int) int {
	size := max(2*need, heldMin)
	if e := int(w.expect) * expectUnit; e >= need {
		size = min(e, max(4*need, heldMin))
	}
	return size
}

// expectUnit is the unit of conn.expect (which holds up to 256 MiB).
const expectUnit = 4 << 10

// ExpectInput is engine.InputSizer's.
func (w *conn) ExpectInput(n int) {
	w.expect = uint16(min((max(n, 0)+expectUnit-1)/expectUnit, 1<<16-1))
}

func (w *conn) Discard(n int) {
	if w.is(engine.FlagClosed) || n <= 0 {
		return
	}
	w.expect = 0
	if w.heldOff == len(w.held) {
		_, _ = w.gc.Discard(n)
		return
	}
	w.takeNew()
	w.heldOff = min(w.heldOff+n, len(w.held))
	if w.heldOff == len(w.held) {
		// Empty: back to the pool, so that an idle connection holds
		// nothing.
		byteslice.Put(w.held)
		w.held, w.heldOff = nil, 0
	}
}

// Take hands the first n input bytes over (engine.Taker): held's buffer
// itself when they are there, the bytes after them moved to a new one.
// Buffers come from and go back to gnet's size-class pool (Recycle).
func (w *conn) Take(n int) ([]byte, int) {
	if w.is(engine.FlagClosed) || n <= 0 {
		return nil, 0
	}
	w.expect = 0
	if w.heldOff == len(w.held) {
		// In gnet's read buffer, which the next read reuses: a copy.
		b := w.Peek()
		n = min(n, len(b))
		out := byteslice.Get(n)
		copy(out, b[:n])
		w.Discard(n)
		return out, 0
	}
	w.takeNew()
	buf, off := w.held, w.heldOff
	n = min(n, len(buf)-off)
	if rest := buf[off+n:]; len(rest) == 0 {
		w.held, w.heldOff = nil, 0
	} else {
		nb := byteslice.Get(max(2*len(rest), heldMin))[:len(rest)]
		copy(nb, rest)
		w.held, w.heldOff = nb, 0
	}
	return buf[:off+n], off
}

// Recycle takes back a buffer Take returned.
func (w *conn) Recycle(buf []byte) { byteslice.Put(buf) }

func (w *conn) InboundBuffered() int {
	if w.is(engine.FlagClosed) {
		return 0
	}
	return len(w.held) - w.heldOff + w.gc.InboundBuffered()
}

func (w *conn) Write(p []byte) error {
	switch {
	case w.is(engine.FlagClosed):
		return engine.ErrClosed
	case w.is(engine.FlagShutPending | engine.FlagShutDone):
		return engine.ErrWriteShut
	case len(p) == 0:
		return nil
	}
	// On a socket error gnet closes the connection inside Write; the
	// adapter's OnClose sees a callback on the stack and defers OnClose.
	_, err := w.gc.Write(p)
	return err
}

func (w *conn) OutboundBuffered() int {
	if w.is(engine.FlagClosed) {
		return 0
	}
	return w.gc.OutboundBuffered()
}

func (w *conn) CloseWrite() error {
	switch {
	case w.is(engine.FlagClosed):
		return engine.ErrClosed
	case w.is(engine.FlagShutPending | engine.FlagShutDone):
		return nil
	}
	if w.gc.OutboundBuffered() == 0 {
		w.f |= engine.FlagShutDone
		return unix.Shutdown(int(w.fd), unix.SHUT_WR)
	}
	w.f |= engine.FlagShutPending
	w.ls.WaitShut(w)
	return nil
}

// tryShut shuts the write side if the outbound queue drained and reports
// whether the CloseWrite is finished.
func (w *conn) tryShut() bool {
	if w.gc.OutboundBuffered() != 0 {
		return false
	}
	w.f &^= engine.FlagShutPending
	w.f |= engine.FlagShutDone
	_ = unix.Shutdown(int(w.fd), unix.SHUT_WR)
	return true
}

func (w *conn) Close() {
	if w.is(engine.FlagClosed | engine.FlagCloseReq) {
		return
	}
	w.f |= engine.FlagCloseReq
	if w.is(engine.FlagInOwn) {
		return // the adapter returns gnet.Close when the callback ends
	}
	w.ls.RequestClose(w)
}

func (w *conn) Reset() {
	if w.is(engine.FlagClosed) {
		return
	}
	// SO_LINGER with a zero timeout: close(2) then resets the connection.
	_ = unix.SetsockoptLinger(int(w.fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	w.Close()
}

func (w *conn) PauseRead(paused bool) bool {
	// A pause is always applied: gnet turns reading back on by itself
	// when its output queue drains, so w.paused may be stale.
	if w.is(engine.FlagClosed) || w.gc == nil || !paused && !w.paused {
		return !paused
	}
	pfd, ok := w.ls.poller.get(w.gc)
	if !ok {
		return false
	}
	if setReadInterest(pfd, int(w.fd), !paused, w.gc.OutboundBuffered() > 0) != nil {
		return false
	}
	w.paused = paused
	return true
}

func (w *conn) SetTimer(d time.Duration) {
	if w.ls == nil {
		return
	}
	w.ls.SetTimer(w, d)
}

func (w *conn) Fd() int              { return int(w.fd) }
func (w *conn) LocalAddr() net.Addr  { return w.addr(false) }
func (w *conn) RemoteAddr() net.Addr { return w.addr(true) }
func (w *conn) Loop() int            { return w.ls.Idx }
func (w *conn) Context() any         { return w.user }
func (w *conn) SetContext(v any)     { w.user = v }
