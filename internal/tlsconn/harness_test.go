package tlsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when a handshake goroutine (or a deadline's)
// outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Names the test certificate is valid for. A client asking for
// blockName gets its handshake held in GetCertificate (see serverConfig).
const (
	serverName = "tlsconn.test"
	blockName  = "block.tlsconn.test"
	otherName  = "other.tlsconn.test"
)

// testCert is the key pair in testdata: a self-signed ECDSA P-256
// certificate for the three names, valid from 2000 to 2199, made once with
// crypto/x509 for these tests, and the pool that trusts it.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	cert, err := tls.LoadX509KeyPair("testdata/cert.pem", "testdata/key.pem")
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	return cert, roots
})

// serverConfig serves the test certificate. A handshake for blockName
// waits in GetCertificate, holding its worker slot, until gate closes (a
// nil gate blocks nobody); one for otherName calls onOther there, if set.
func serverConfig(gate <-chan struct{}, onOther ...func()) *tls.Config {
	cert, _ := testCert()
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
			switch {
			case hi.ServerName == blockName && gate != nil:
				<-gate
			case hi.ServerName == otherName && len(onOther) > 0:
				onOther[0]()
			}
			return &cert, nil
		},
	}
}

// clientConfig trusts the test certificate; maxVersion 0 means TLS 1.3.
func clientConfig(name string, maxVersion uint16) *tls.Config {
	_, roots := testCert()
	return &tls.Config{RootCAs: roots, ServerName: name, NextProtos: []string{"http/1.1"}, MaxVersion: maxVersion}
}

// harness plays the event loop and the socket for one Conn: a client's
// writes land in up, which the loop offers to Recv the way the root
// package's pump does (what Recv leaves is offered again with more); what
// Flush and Send produce lands in down, which the client reads. It is
// also the Conn's Host. The loop runs on its own goroutine until
// stopLoop; after that the test calls the Conn itself.
type harness struct {
	t    *testing.T
	conn *Conn

	mu         sync.Mutex
	cond       sync.Cond // signalled whenever a field below changes
	up         []byte    // client bytes Recv has not used
	down       []byte    // server bytes the client has not read
	plain      []byte    // plaintext Recv released
	err        error     // Recv's error: the server side then closes
	closed     bool      // the server side closed: the client reads EOF
	gone       bool      // the client closed its end
	piece      int       // > 0: Recv is offered at most piece bytes at a time
	holdAfter  int       // ≥ 0: client writes after the first holdAfter are held back
	writes     int
	held       []byte // client bytes held back
	flushErr   error  // from Host.FlushFailed
	expired    bool   // an await ran out of time
	connClosed bool   // Conn.Close was called

	kick     chan struct{} // the loop has something to do (cap 1)
	wakes    atomic.Int64
	doneOnce chan struct{} // closed by Host.HandshakeDone
	dones    atomic.Int32
	stop     chan struct{}
	stopped  chan struct{}
}

// newHarness makes a Conn with pool and timeout and starts its loop. The
// Conn is closed and the loop stopped when the test ends.
func newHarness(t *testing.T, cfg *tls.Config, pool *Pool, timeout time.Duration) *harness {
	h := &harness{t: t, holdAfter: -1, kick: make(chan struct{}, 1), doneOnce: make(chan struct{}),
		stop: make(chan struct{}), stopped: make(chan struct{})}
	h.cond.L = &h.mu
	h.conn = New(Params{Config: cfg, Pool: pool, Timeout: timeout, Host: h,
		LocalAddr:  &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443},
		RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}})
	go h.serve()
	t.Cleanup(func() {
		h.stopLoop()
		h.closeConn()
		_ = clientEnd{h}.Close()
	})
	return h
}

// closeConn closes the Conn, once, as the loop does when the session
// closes, and returns what Close wrote.
func (h *harness) closeConn() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.connClosed {
		return nil
	}
	h.connClosed, h.closed = true, true
	w := h.conn.Close(nil)
	h.down = append(h.down, w...)
	h.cond.Broadcast()
	return w
}

// Host

func (h *harness) Wake() {
	h.wakes.Add(1)
	h.poke()
}

func (h *harness) HandshakeDone(c *Conn) {
	if c != h.conn {
		h.t.Errorf("HandshakeDone(%p); want its own Conn %p", c, h.conn)
	}
	if h.dones.Add(1) == 1 {
		close(h.doneOnce)
	}
}

func (h *harness) FlushFailed(err error) { h.flushErr = err } // on the loop, h.mu held

func (h *harness) poke() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// serve is the loop: each kick (a Wake or client bytes) runs one step.
func (h *harness) serve() {
	defer close(h.stopped)
	for {
		select {
		case <-h.stop:
			return
		case <-h.kick:
		}
		h.mu.Lock()
		h.step()
		h.mu.Unlock()
	}
}

func (h *harness) stopLoop() {
	select {
	case <-h.stop:
	default:
		close(h.stop)
	}
	<-h.stopped
}

// step offers the input to Recv until it makes no progress and nothing is
// pending, then writes the Conn's own output. h.mu is held.
func (h *harness) step() {
	if h.closed {
		return
	}
	for {
		raw := h.up
		if h.piece > 0 && len(raw) > h.piece {
			raw = raw[:h.piece]
		}
		if len(raw) == 0 && h.conn.Pending() == 0 {
			break
		}
		before := len(h.plain)
		n, out, err := h.conn.Recv(raw, h.plain)
		h.plain, h.up = out, h.up[n:]
		if err != nil {
			h.err, h.closed = err, true
			break
		}
		if n == 0 && len(out) == before {
			break
		}
	}
	h.down = h.conn.Flush(h.down)
	h.cond.Broadcast()
}

// send encrypts p on the loop's behalf (the loop must be stopped or the
// caller must not race it: h.mu is taken).
func (h *harness) send(p string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var err error
	h.down, err = h.conn.Send(h.down, []byte(p))
	h.cond.Broadcast()
	return err
}

// release delivers the client bytes held back, and all later ones.
func (h *harness) release() {
	h.mu.Lock()
	h.holdAfter = -1
	h.up = append(h.up, h.held...)
	h.held = nil
	h.mu.Unlock()
	h.poke()
}

// await waits until cond (run with h.mu held) holds, for at most 10 s: a
// bound for a broken Conn, not a measure of speed.
func (h *harness) await(what string, cond func() bool) {
	h.t.Helper()
	h.mu.Lock()
	h.expired = false
	h.mu.Unlock()
	timer := time.AfterFunc(10*time.Second, func() {
		h.mu.Lock()
		h.expired = true
		h.cond.Broadcast()
		h.mu.Unlock()
	})
	defer timer.Stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for !cond() {
		if h.expired {
			h.t.Fatalf("no %s within 10 s", what)
		}
		h.cond.Wait()
	}
}

// awaitHandshakeDone waits for Host.HandshakeDone.
func (h *harness) awaitHandshakeDone() {
	h.t.Helper()
	select {
	case <-h.doneOnce:
	case <-time.After(10 * time.Second):
		h.t.Fatal("no HandshakeDone within 10 s")
	}
}

// client returns a TLS client over the harness's socket; it is closed when
// the test ends.
func (h *harness) client(cfg *tls.Config) *tls.Conn {
	tc := tls.Client(clientEnd{h}, cfg)
	h.t.Cleanup(func() { _ = clientEnd{h}.Close() })
	return tc
}

// handshake completes tc's handshake and waits until the Conn noticed
// the end of its own.
func (h *harness) handshake(tc *tls.Conn) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		h.t.Fatalf("client handshake: %v", err)
	}
	h.awaitHandshakeDone()
}

// stall starts a client that sends its ClientHello and then goes silent:
// its later flights are held back until release.
func (h *harness) stall() {
	h.mu.Lock()
	h.holdAfter = 1
	h.mu.Unlock()
	tc := h.client(clientConfig(serverName, 0))
	go func() { _ = tc.Handshake() }()
}

// answered reports whether a stalled client got the server's first
// flight (it then wrote its next one, held back). h.mu is held.
func (h *harness) answered() bool { return h.writes > 1 }

// clientEnd is the client's side of the harness's socket.
type clientEnd struct{ h *harness }

func (c clientEnd) Write(p []byte) (int, error) {
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gone {
		return 0, net.ErrClosed
	}
	h.writes++
	h.cond.Broadcast()
	if h.holdAfter >= 0 && h.writes > h.holdAfter {
		h.held = append(h.held, p...)
		return len(p), nil
	}
	h.up = append(h.up, p...)
	h.poke()
	return len(p), nil
}

func (c clientEnd) Read(p []byte) (int, error) {
	h := c.h
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.down) == 0 && !h.closed && !h.gone {
		h.cond.Wait()
	}
	if len(h.down) == 0 {
		return 0, io.EOF
	}
	n := copy(p, h.down)
	h.down = h.down[n:]
	return n, nil
}

func (c clientEnd) Close() error {
	h := c.h
	h.mu.Lock()
	h.gone = true
	h.cond.Broadcast()
	h.mu.Unlock()
	return nil
}

func (clientEnd) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (clientEnd) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (clientEnd) SetDeadline(time.Time) error      { return nil }
func (clientEnd) SetReadDeadline(time.Time) error  { return nil }
func (clientEnd) SetWriteDeadline(time.Time) error { return nil }

// readFull reads n bytes of plaintext from the client; a client that gets
// nothing within 10 s is closed, so a broken Conn fails the test instead
// of hanging it.
func readFull(t *testing.T, h *harness, tc *tls.Conn, n int) string {
	t.Helper()
	guard := time.AfterFunc(10*time.Second, func() { _ = clientEnd{h}.Close() })
	defer guard.Stop()
	b := make([]byte, n)
	if _, err := io.ReadFull(tc, b); err != nil {
		t.Fatalf("client read: %v", err)
	}
	return string(b)
}

// poolState is the Pool's accounting: free slots, handshakes in progress
// and the line of runnable ones waiting for a slot.
type poolState struct {
	free, inProgress int
	line             []*Conn
}

func (p *Pool) state() poolState {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := poolState{free: p.free, inProgress: p.inProgress}
	for e := p.line.Front(); e != nil; e = e.Next() {
		s.line = append(s.line, e.Value.(*Conn))
	}
	return s
}

// awaitPool polls p until cond holds, for at most 2000 rounds of 5 ms:
// the Pool's changes happen on handshake goroutines, which signal nobody.
func awaitPool(t *testing.T, p *Pool, what string, cond func(poolState) bool) poolState {
	t.Helper()
	for round := 0; ; round++ {
		s := p.state()
		if cond(s) {
			return s
		}
		if round == 2000 {
			t.Fatalf("pool never reached %s: free %d, in progress %d, line %d", what, s.free, s.inProgress, len(s.line))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle reports whether a pool of workers slots has no handshake left.
func idle(workers int) func(poolState) bool {
	return func(s poolState) bool { return s.free == workers && s.inProgress == 0 && len(s.line) == 0 }
}

// blockSlot fills the only free worker slot of pool, otherwise idle, with a
// handshake that waits in GetCertificate until open is called or the test
// ends. Conns that share cfg with it block the same way for blockName.
func blockSlot(t *testing.T, pool *Pool) (cfg *tls.Config, blocker *harness, open func()) {
	t.Helper()
	gate := make(chan struct{})
	open = sync.OnceFunc(func() { close(gate) })
	t.Cleanup(open)
	cfg = serverConfig(gate)
	blocker = newHarness(t, cfg, pool, time.Minute)
	_, _ = clientEnd{blocker}.Write(captureHello(t, blockName))
	awaitPool(t, pool, "a handshake holding the slot", func(s poolState) bool { return s.free == 0 && s.inProgress == 1 })
	return cfg, blocker, open
}

// captureHello returns the first flight of a Go TLS client for name: one
// complete ClientHello record.
func captureHello(t *testing.T, name string) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _ = tls.Client(a, clientConfig(name, 0)).Handshake() }()
	buf := make([]byte, 64<<10)
	n, err := b.Read(buf)
	if err != nil {
		t.Fatalf("capturing a ClientHello: %v", err)
	}
	return slices.Clone(buf[:n])
}
