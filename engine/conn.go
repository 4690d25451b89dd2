package engine

import (
	"net"
	"net/netip"
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
	fd int
	// TCP addresses are kept inline (no pointers, nothing for an idle
	// connection to hold on the heap) and turned into a net.Addr when asked;
	// other kinds of address are cloned.
	local, remote           netip.AddrPort
	localOther, remoteOther net.Addr
	user                    any

	closeErr    error // the error OnClose reports
	closed      bool  // gnet closed it (OnClose ran or is owed)
	closeReq    bool  // Close was called
	inOwn       bool  // inside this conn's own OnOpen or OnTraffic
	shutPending bool  // CloseWrite waits for the outbound queue to drain
	shutDone    bool  // SHUT_WR done

	// Timer wheel links (intrusive: no allocation per SetTimer).
	tprev, tnext *conn
	tlist        *timerList
	texpiry      uint64
}

var _ Conn = (*conn)(nil)

// newConn copies the addresses out of nc: gnet recycles the zone bytes of the
// addresses it holds when a connection closes, so the Conn keeps its own.
func newConn(nc net.Conn) *conn {
	w := &conn{fd: -1}
	w.local, w.localOther = keepAddr(nc.LocalAddr())
	w.remote, w.remoteOther = keepAddr(nc.RemoteAddr())
	return w
}

// keepAddr returns a TCP address as a value, any other address cloned.
func keepAddr(a net.Addr) (netip.AddrPort, net.Addr) {
	if t, ok := a.(*net.TCPAddr); ok {
		// IPv4 comes back as a 16-byte slice: unmap it so String still
		// reads "127.0.0.1:port".
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	return netip.AddrPort{}, cloneAddr(a)
}

func tcpAddr(ap netip.AddrPort, other net.Addr) net.Addr {
	if other != nil {
		return other
	}
	return net.TCPAddrFromAddrPort(ap)
}

func cloneAddr(a net.Addr) net.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		return &net.TCPAddr{IP: append(net.IP(nil), a.IP...), Port: a.Port, Zone: string(append([]byte(nil), a.Zone...))}
	case *net.UnixAddr:
		return &net.UnixAddr{Name: string(append([]byte(nil), a.Name...)), Net: a.Net}
	}
	return a
}

func (w *conn) Peek() []byte {
	if w.closed {
		return nil
	}
	b, _ := w.gc.Peek(-1)
	return b
}

func (w *conn) Discard(n int) {
	if w.closed || n <= 0 {
		return
	}
	_, _ = w.gc.Discard(n)
}

func (w *conn) InboundBuffered() int {
	if w.closed {
		return 0
	}
	return w.gc.InboundBuffered()
}

func (w *conn) Write(p []byte) error {
	switch {
	case w.closed:
		return ErrClosed
	case w.shutPending || w.shutDone:
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
	if w.closed {
		return 0
	}
	return w.gc.OutboundBuffered()
}

func (w *conn) CloseWrite() error {
	switch {
	case w.closed:
		return ErrClosed
	case w.shutPending || w.shutDone:
		return nil
	}
	if w.gc.OutboundBuffered() == 0 {
		w.shutDone = true
		return unix.Shutdown(w.fd, unix.SHUT_WR)
	}
	w.shutPending = true
	w.ls.shut = append(w.ls.shut, w)
	return nil
}

// tryShut shuts the write side if the outbound queue drained and reports
// whether the CloseWrite is finished.
func (w *conn) tryShut() bool {
	if w.gc.OutboundBuffered() != 0 {
		return false
	}
	w.shutPending = false
	w.shutDone = true
	_ = unix.Shutdown(w.fd, unix.SHUT_WR)
	return true
}

func (w *conn) Close() {
	if w.closed || w.closeReq {
		return
	}
	w.closeReq = true
	if w.inOwn {
		return // the adapter returns gnet.Close when the callback ends
	}
	w.ls.pending = append(w.ls.pending, w)
}

func (w *conn) SetTimer(d time.Duration) {
	if w.closed || w.ls == nil {
		return
	}
	if d <= 0 {
		w.ls.wheel.cancel(w)
		return
	}
	w.ls.wheel.set(w, d, time.Now())
}

func (w *conn) Fd() int              { return w.fd }
func (w *conn) LocalAddr() net.Addr  { return tcpAddr(w.local, w.localOther) }
func (w *conn) RemoteAddr() net.Addr { return tcpAddr(w.remote, w.remoteOther) }
func (w *conn) Loop() int            { return w.ls.idx }
func (w *conn) Context() any         { return w.user }
func (w *conn) SetContext(v any)     { w.user = v }
