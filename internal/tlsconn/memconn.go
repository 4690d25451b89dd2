package tlsconn

import (
	"net"
	"sync"
	"time"
)

// errWouldBlock is memConn's "no more bytes now": temporary, so crypto/tls
// does not keep it as the connection's error once the handshake is over.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "httpd: TLS input would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// memConn is the net.Conn under a Conn's tls.Conn.
type memConn struct {
	t            *Conn
	laddr, raddr net.Addr

	// Shared with the handshake goroutine, under mu.
	mu      sync.Mutex
	cond    sync.Cond // signalled when in grows, closed is set or the pool grants a slot
	in      []byte    // client bytes staged for the handshake (≤ maxHandshakeInput); leftovers after it
	out     []byte    // handshake messages and alerts waiting for Flush
	closed  bool
	granted bool // the pool handed the waiting goroutine a worker slot

	// Loop only, once the handshake ended.
	live  bool   // reads come from in, then src, without blocking
	src   []byte // the raw input lent by Recv; valid only during the call
	dst   []byte // the wire buffer Send or Close encrypts into
	dstOn bool
}

func (m *memConn) Read(p []byte) (int, error) {
	if m.live {
		if len(m.in) > 0 {
			n := copy(p, m.in)
			if m.in = m.in[n:]; len(m.in) == 0 {
				m.in = nil
			}
			return n, nil
		}
		if len(m.src) == 0 {
			return 0, errWouldBlock
		}
		n := copy(p, m.src)
		m.src = m.src[n:]
		return n, nil
	}
	t := m.t
	m.mu.Lock()
	for len(m.in) == 0 && !m.closed {
		if t.slot {
			// Waiting for the peer, which may never send: have the loop
			// write the flight staged so far, and give the worker slot
			// back first, so the wait costs no worker.
			wake := len(m.out) > 0
			m.mu.Unlock()
			if wake {
				t.host.Wake()
			}
			t.slot = false
			t.pool.release()
			m.mu.Lock()
			continue
		}
		m.cond.Wait()
	}
	if !m.closed && !t.slot {
		// The peer sent more: compute again only with a slot, taken in
		// line behind the handshakes that became runnable first.
		m.mu.Unlock()
		t.slot = t.pool.acquire(t)
		m.mu.Lock()
	}
	if m.closed {
		m.mu.Unlock()
		return 0, net.ErrClosed
	}
	full := len(m.in) >= maxHandshakeInput
	n := copy(p, m.in)
	m.in = m.in[:copy(m.in, m.in[n:])]
	m.mu.Unlock()
	if full {
		// Recv stopped taking input at the cap: ask the loop for more.
		t.host.Wake()
	}
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	if m.dstOn {
		m.dst = append(m.dst, p...)
		return len(p), nil
	}
	// During the handshake the loop writes m.out when the handshake
	// goroutine wakes it: before the goroutine waits for the peer, and when
	// the handshake ends. A last alert thus leaves together with the
	// failure it reports, never ahead of it: a client that read the alert
	// and closed would otherwise race the failure's error event. After the
	// handshake (a post-handshake reply from tls.Conn.Read on the loop) the
	// loop flushes after every Recv.
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, net.ErrClosed
	}
	m.out = append(m.out, p...)
	m.mu.Unlock()
	return len(p), nil
}

func (m *memConn) Close() error {
	m.mu.Lock()
	m.closed = true
	m.cond.Broadcast()
	m.mu.Unlock()
	return nil
}

func (m *memConn) LocalAddr() net.Addr              { return m.laddr }
func (m *memConn) RemoteAddr() net.Addr             { return m.raddr }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }
