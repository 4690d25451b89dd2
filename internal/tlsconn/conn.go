package tlsconn

import (
	"container/list"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"sync/atomic"
	"time"
)

// Errors of a Conn. Their text carries the root package's prefix because
// the root exports these very values (httpd.ErrTLSHandshake and its
// siblings): a user sees them in events and logs as httpd's.
var (
	// ErrHandshake is joined to every error Recv or Send returns once the
	// handshake failed, with the reason (one below or crypto/tls's).
	ErrHandshake = errors.New("httpd: TLS handshake failed")
	// ErrHandshakeTimeout: the handshake did not end within
	// Params.Timeout of New.
	ErrHandshakeTimeout = errors.New("httpd: TLS handshake timed out")
	// ErrHandshakeBusy: every place of the Pool was taken when the
	// ClientHello completed.
	ErrHandshakeBusy = errors.New("httpd: TLS handshake queue full")
	// ErrEarlyOutput: Send before the handshake ended would hold more than
	// maxEarlyOutput bytes.
	ErrEarlyOutput = errors.New("httpd: too much output before the TLS handshake ended")
)

// Limits of a Conn.
const (
	// maxHandshakeInput caps the client bytes staged for the handshake
	// goroutine; Recv leaves more unconsumed until it reads them.
	maxHandshakeInput = 64 << 10
	// maxEarlyOutput caps plaintext sent before the handshake ended (from
	// an open hook, say); it is encrypted when the handshake completes.
	maxEarlyOutput = 64 << 10
	// recvStep is the plaintext one Recv releases at most; the rest stays
	// decrypted or queued inside crypto/tls and Pending reports it.
	recvStep = 64 << 10
	// readRoom is the least spare room offered to tls.Conn.Read.
	readRoom = 512
)

// Host is the side of the server a Conn calls back; the Conn holds it for
// its whole life.
type Host interface {
	// Wake asks the loop to call Flush and then Recv again: the handshake
	// goroutine staged output, ended, or waits for input Recv left
	// unconsumed, or the deadline passed. It is called from any goroutine
	// and must not block.
	Wake()
	// HandshakeDone runs once on the loop, inside the first Recv that
	// finds the handshake completed, before that Recv releases plaintext.
	HandshakeDone(c *Conn)
	// FlushFailed runs on the loop when Flush could not encrypt the
	// plaintext sent before the handshake ended; that plaintext is dropped.
	FlushFailed(err error)
}

// Params are what a Conn is made with.
type Params struct {
	// Config serves the handshake. The Conn does not modify it; Conns may
	// share it.
	Config *tls.Config
	// Pool bounds the handshakes in progress; the Conns of a server share
	// one.
	Pool *Pool
	// Timeout bounds the handshake, counted from New; it must be positive
	// (the root package's Config validation sees to that).
	Timeout time.Duration
	Host    Host
	// LocalAddr and RemoteAddr are the connection's, reported through
	// tls.ClientHelloInfo.Conn (to GetCertificate, say).
	LocalAddr, RemoteAddr net.Addr
}

// state is where a Conn is in its handshake. Transitions happen under
// memConn.mu; reads may be lock-free.
type state int32

const (
	awaitHello  state = iota // waiting for the first complete record
	queued                   // admitted, waiting for its first worker slot
	running                  // its goroutine runs it (computing, parked or waiting for a slot)
	established              // handshake done: the loop owns the tls.Conn
	failed                   // handshake failed, timed out or the Conn closed
)

// Conn is the TLS side of one connection. Recv, Send, Pending, Flush and
// Close run on the connection's loop, one at a time, and never block;
// Handshaking may be called from any goroutine.
type Conn struct {
	host  Host
	pool  *Pool
	conn  *tls.Conn
	m     memConn
	state atomic.Int32 // state
	err   error        // why the handshake failed; written before state becomes failed

	// Handshake deadline: ctx expires Params.Timeout after New;
	// stopExpire unregisters expire from it.
	ctx        context.Context
	cancel     context.CancelFunc
	stopExpire func() bool

	// The Pool's, under Pool.mu: the Conn's place in the Pool's line of
	// runnable handshakes (nil when out of it), and whether its goroutine
	// was started.
	inLine  *list.Element
	started bool
	// The handshake goroutine's own: it holds a worker slot.
	slot bool

	// Loop only.
	noticed    bool   // the loop saw the handshake end (Host.HandshakeDone called)
	held       bool   // the last Recv stopped at recvStep: more plaintext may be ready
	peerClosed bool   // close_notify received: later input is discarded
	early      []byte // plaintext sent before the handshake ended (≤ maxEarlyOutput)
}

// New returns the Conn of a connection just accepted; its handshake
// deadline starts now.
func New(p Params) *Conn {
	t := &Conn{host: p.Host, pool: p.Pool}
	t.m.t = t
	t.m.cond.L = &t.m.mu
	t.m.laddr, t.m.raddr = p.LocalAddr, p.RemoteAddr
	t.conn = tls.Server(&t.m, p.Config)
	t.ctx, t.cancel = context.WithTimeout(context.Background(), p.Timeout)
	t.stopExpire = context.AfterFunc(t.ctx, t.expire)
	return t
}

func (t *Conn) st() state { return state(t.state.Load()) }

// Handshaking reports whether the handshake has not ended yet.
func (t *Conn) Handshaking() bool { return t.st() < established }

// ConnectionState returns the connection state once established.
func (t *Conn) ConnectionState() (tls.ConnectionState, bool) {
	if t.st() != established {
		return tls.ConnectionState{}, false
	}
	return t.conn.ConnectionState(), true
}

// failLocked records why the handshake failed and wakes a waiting
// handshake goroutine.
// It reports false when the handshake had already ended. t.m.mu is held.
func (t *Conn) failLocked(err error) bool {
	if st := t.st(); st == established || st == failed {
		return false
	}
	t.err = err
	t.state.Store(int32(failed))
	t.m.closed = true
	t.m.cond.Broadcast()
	return true
}

// expire runs when the handshake deadline passes (on a goroutine of the
// context package).
func (t *Conn) expire() {
	t.m.mu.Lock()
	ended := false
	if t.st() == running {
		// The goroutine's HandshakeContext fails on the same deadline;
		// closing makes sure its waiting read returns, without a worker
		// slot.
		t.m.closed = true
		t.m.cond.Broadcast()
	} else {
		ended = t.failLocked(ErrHandshakeTimeout)
	}
	t.m.mu.Unlock()
	if ended {
		t.pool.cancel(t)
		t.host.Wake()
	}
}

// run is the goroutine of an admitted handshake; it starts holding a
// worker slot.
func (t *Conn) run() {
	t.slot = true
	t.handshake()
	t.pool.done(t.slot)
}

// handshake runs on the handshake goroutine.
func (t *Conn) handshake() {
	t.m.mu.Lock()
	if t.st() != queued {
		t.m.mu.Unlock()
		return
	}
	t.state.Store(int32(running))
	t.m.mu.Unlock()

	err := t.conn.HandshakeContext(t.ctx)
	timedOut := t.ctx.Err() != nil
	t.stopExpire()
	t.cancel()

	t.m.mu.Lock()
	if t.st() == running {
		switch {
		case err == nil && !t.m.closed:
			t.state.Store(int32(established))
		case timedOut:
			t.failLocked(errors.Join(ErrHandshakeTimeout, err))
		case err == nil:
			t.failLocked(net.ErrClosed)
		default:
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) && looksLikeHTTP(rh.RecordHeader[:]) {
				// A plain HTTP client on the HTTPS port reads a reply it
				// understands before the connection closes.
				t.m.out = append(t.m.out, plainOnTLSReply...)
			}
			t.failLocked(err)
		}
	}
	t.m.mu.Unlock()
	t.host.Wake()
}

const plainOnTLSReply = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 41\r\n\r\nThis port expects HTTPS (TLS), not HTTP.\n"

// looksLikeHTTP reports whether a record header is the start of an HTTP
// request line.
func looksLikeHTTP(h []byte) bool {
	for _, m := range [...]string{"GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE", "TRACE"} {
		if string(h) == m {
			return true
		}
	}
	return false
}

// HelloReady reports whether b holds a complete first record, or a first
// byte that is not a TLS handshake record (crypto/tls then fails at once):
// the point at which a Conn admits its handshake.
func HelloReady(b []byte) bool {
	const recordTypeHandshake = 22 // RFC 8446 §5.1
	if len(b) == 0 {
		return false
	}
	if b[0] != recordTypeHandshake {
		return true
	}
	return len(b) >= 5 && len(b)-5 >= int(b[3])<<8|int(b[4])
}

// Recv consumes raw bytes from the socket and appends the plaintext they
// carry to plain; the raw bytes it did not use are to be offered again
// with more after them. Before the handshake ended it stages them for the
// handshake goroutine; once it failed it returns the failure (matching
// ErrHandshake); once established it decrypts records. raw is used only
// during the call.
func (t *Conn) Recv(raw, plain []byte) (int, []byte, error) {
	switch t.st() {
	case established:
		if !t.noticed {
			t.noticed, t.m.live = true, true
			t.host.HandshakeDone(t)
		}
		return t.decrypt(raw, plain)
	case failed:
		return 0, plain, t.failure()
	}
	return t.stage(raw, plain)
}

// stage hands handshake bytes to the handshake goroutine and admits the
// handshake once the first record is complete.
func (t *Conn) stage(raw, plain []byte) (int, []byte, error) {
	m := &t.m
	m.mu.Lock()
	k := min(len(raw), maxHandshakeInput-len(m.in))
	m.in = append(m.in, raw[:k]...)
	m.cond.Signal()
	submit := t.st() == awaitHello && HelloReady(m.in)
	if submit {
		t.state.Store(int32(queued))
	}
	m.mu.Unlock()
	if submit && !t.pool.submit(t) {
		m.mu.Lock()
		t.failLocked(ErrHandshakeBusy)
		m.mu.Unlock()
		return k, plain, t.failure()
	}
	return k, plain, nil
}

func (t *Conn) failure() error {
	return errors.Join(ErrHandshake, t.err)
}

// decrypt lends raw to memConn and reads plaintext until memConn would
// block or recvStep bytes came out.
func (t *Conn) decrypt(raw, plain []byte) (int, []byte, error) {
	if t.peerClosed {
		return len(raw), plain, nil // nothing after close_notify counts (RFC 8446 §6.1)
	}
	m := &t.m
	m.src = raw
	t.held = false
	got := 0
	var err error
	for {
		if cap(plain)-len(plain) < readRoom {
			plain = slices.Grow(plain, 2*readRoom)
		}
		n, rerr := t.conn.Read(plain[len(plain):cap(plain)])
		plain = plain[:len(plain)+n]
		got += n
		if rerr != nil {
			switch {
			case rerr == errWouldBlock:
			case rerr == io.EOF:
				t.peerClosed = true
			default:
				err = rerr
			}
			break
		}
		if got >= recvStep {
			t.held = true
			break
		}
	}
	used := len(raw) - len(m.src)
	m.src = nil
	if t.peerClosed {
		used = len(raw)
	}
	return used, plain, err
}

// Send appends the records of plaintext p to wire; before the handshake
// ended it keeps p for Flush to encrypt later (up to maxEarlyOutput).
func (t *Conn) Send(wire, p []byte) ([]byte, error) {
	if !t.noticed {
		if t.st() == failed {
			return wire, t.failure()
		}
		if len(t.early)+len(p) > maxEarlyOutput {
			return wire, ErrEarlyOutput
		}
		t.early = append(t.early, p...)
		return wire, nil
	}
	return t.seal(wire, p)
}

// seal encrypts p with tls.Conn.Write, whose records land in wire.
func (t *Conn) seal(wire, p []byte) ([]byte, error) {
	m := &t.m
	m.dst, m.dstOn = wire, true
	_, err := t.conn.Write(p)
	wire = m.dst
	m.dst, m.dstOn = nil, false
	return wire, err
}

// Pending reports plaintext (or a handshake outcome) that Recv will
// deliver without more input.
func (t *Conn) Pending() int {
	switch t.st() {
	case established:
		if !t.noticed || t.held {
			return 1
		}
	case failed:
		return 1
	}
	return 0
}

// Flush appends the handshake messages and alerts staged so far to wire,
// then, once the handshake was noticed, the plaintext sent before it
// ended, encrypted.
func (t *Conn) Flush(wire []byte) []byte {
	m := &t.m
	m.mu.Lock()
	if len(m.out) > 0 {
		wire = append(wire, m.out...)
		m.out = nil
	}
	m.mu.Unlock()
	if t.noticed && len(t.early) > 0 {
		var err error
		if wire, err = t.seal(wire, t.early); err != nil {
			t.host.FlushFailed(err)
		}
		t.early = nil
	}
	return wire
}

// Close ends the connection's TLS: it appends a close_notify to wire when
// established (RFC 8446 §6.1), else it stops the handshake. It is called
// once, last.
func (t *Conn) Close(wire []byte) []byte {
	t.stopExpire()
	t.cancel()
	if t.st() == established {
		if !t.noticed {
			t.noticed, t.m.live = true, true
		}
		wire = t.Flush(wire)
		t.m.dst, t.m.dstOn = wire, true
		_ = t.conn.Close() // close_notify, then memConn.Close
		wire = t.m.dst
		t.m.dst, t.m.dstOn = nil, false
		return wire
	}
	t.m.mu.Lock()
	t.failLocked(net.ErrClosed)
	t.m.closed = true
	t.m.in = nil
	t.m.mu.Unlock()
	t.pool.cancel(t)
	return wire
}
