package engine

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// conn is the engine's wrapper of one gnet connection: it implements Conn and
// is the gnet connection's context value. Its fields are touched only on the
// owning loop (after the acceptor built it and handed it over through gnet's
// task queue).
type conn struct {
	gc gnet.Conn // nil before OnOpen; never used once closed
	ls *loop
	fd int32
	f  connFlags
	// gone is set when gnet closed the connection: the error OnClose
	// reports and copies of the addresses (gnet drops its own then, and
	// hands the zone bytes of IPv6 addresses back to a pool). While the
	// connection is open the addresses gnet keeps are read on demand, so an
	// idle connection holds no copy.
	gone atomic.Pointer[closedState]
	user any

	// Timer wheel links (intrusive: no allocation per SetTimer). texpiry
	// also says which list the conn is on: 0 none, onFiring the wheel's
	// firing list, else the slot of that tick.
	tprev, tnext *conn
	texpiry      uint64
}

// connFlags are a conn's state bits (loop only).
type connFlags uint8

const (
	cClosed      connFlags = 1 << iota // gnet closed it (OnClose ran or is owed)
	cCloseReq                          // Close was called
	cInOwn                             // inside this conn's own OnOpen or OnTraffic
	cShutPending                       // CloseWrite waits for the outbound queue to drain
	cShutDone                          // SHUT_WR done
)

func (w *conn) is(f connFlags) bool { return w.f&f != 0 }

var _ Conn = (*conn)(nil)

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

func (w *conn) Peek() []byte {
	if w.is(cClosed) {
		return nil
	}
	b, _ := w.gc.Peek(-1)
	return b
}

func (w *conn) Discard(n int) {
	if w.is(cClosed) || n <= 0 {
		return
	}
	_, _ = w.gc.Discard(n)
}

func (w *conn) InboundBuffered() int {
	if w.is(cClosed) {
		return 0
	}
	return w.gc.InboundBuffered()
}

func (w *conn) Write(p []byte) error {
	switch {
	case w.is(cClosed):
		return ErrClosed
	case w.is(cShutPending) || w.is(cShutDone):
		return ErrWriteShut
	case len(p) == 0:
		return nil
	}
	// On a socket error gnet closes the connection inside Write; the
	// adapter's OnClose sees a callback on the stack and defers OnClose.
	_, err := w.gc.Write(p)
	return err
}

func (w *conn) OutboundBuffered() int {
	if w.is(cClosed) {
		return 0
	}
	return w.gc.OutboundBuffered()
}

func (w *conn) CloseWrite() error {
	switch {
	case w.is(cClosed):
		return ErrClosed
	case w.is(cShutPending) || w.is(cShutDone):
		return nil
	}
	if w.gc.OutboundBuffered() == 0 {
		w.f |= cShutDone
		return unix.Shutdown(int(w.fd), unix.SHUT_WR)
	}
	w.f |= cShutPending
	w.ls.shut = append(w.ls.shut, w)
	return nil
}

// tryShut shuts the write side if the outbound queue drained and reports
// whether the CloseWrite is finished.
func (w *conn) tryShut() bool {
	if w.gc.OutboundBuffered() != 0 {
		return false
	}
	w.f &^= cShutPending
	w.f |= cShutDone
	_ = unix.Shutdown(int(w.fd), unix.SHUT_WR)
	return true
}

func (w *conn) Close() {
	if w.is(cClosed) || w.is(cCloseReq) {
		return
	}
	w.f |= cCloseReq
	if w.is(cInOwn) {
		return // the adapter returns gnet.Close when the callback ends
	}
	w.ls.pending = append(w.ls.pending, w)
}

func (w *conn) Reset() {
	if w.is(cClosed) {
		return
	}
	// SO_LINGER with a zero timeout: close(2) then resets the connection.
	_ = unix.SetsockoptLinger(int(w.fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	w.Close()
}

func (w *conn) SetTimer(d time.Duration) {
	if w.is(cClosed) || w.ls == nil {
		return
	}
	if d <= 0 {
		w.ls.wheel.cancel(w)
		return
	}
	w.ls.wheel.set(w, d, time.Now())
}

func (w *conn) Fd() int              { return int(w.fd) }
func (w *conn) LocalAddr() net.Addr  { return w.addr(false) }
func (w *conn) RemoteAddr() net.Addr { return w.addr(true) }
func (w *conn) Loop() int            { return w.ls.idx }
func (w *conn) Context() any         { return w.user }
func (w *conn) SetContext(v any)     { w.user = v }
