package httpd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// HTTPS (esp_https_server) is a Transport like any other: Start installs
// NewTLSTransport(Config.TLS) as Config.NewTransport, and a user who needs
// more (a custom certificate choice per session, a proxy protocol header
// before the ClientHello) composes NewTLSTransport with their own hook.
//
// crypto/tls drives a tls.Conn over an in-memory net.Conn (memConn):
//
//   - The handshake runs off the loop, because crypto/tls's handshake
//     blocks on reads and its errors are sticky, and crypto/tls offers an
//     event-driven handshake only for QUIC (tls.QUICConn): a handshake in
//     progress keeps its state on a goroutine's stack. The loop stages the
//     client's bytes in memConn and the goroutine's reads wait for them;
//     its writes are staged in memConn and the loop writes them (Flush)
//     when the goroutine calls Session.Wake, before it waits for the peer
//     and when the handshake ends.
//   - The goroutine holds one of TLSHandshakeWorkers slots only while it
//     computes. When memConn has no client bytes for it, it gives its slot
//     back before it waits, and once the loop has staged more it takes a
//     slot again, in one FIFO line with the other runnable handshakes. So
//     at most TLSHandshakeWorkers handshakes burn CPU at once, and a
//     client that goes silent mid-handshake costs a parked goroutine
//     (about 8 KiB of stack) and its handshake state but no worker:
//     stalled clients do not delay another client's handshake.
//   - A handshake is admitted only once the first TLS record (the
//     ClientHello) is complete, so a client that stalls before it costs no
//     goroutine. From then until it ends it holds one of
//     TLSHandshakeWorkers + TLSHandshakeQueue places, which bounds the
//     parked goroutines; past them a new handshake is refused with
//     ErrTLSHandshakeBusy. An admitted handshake gets its goroutine when
//     it first gets a slot, so one waiting for its first slot costs none.
//   - Once the handshake ends its goroutine marks the transport established
//     (or failed) and wakes the session; from then on no goroutine exists
//     for the session. Recv lends the received bytes to memConn and calls
//     tls.Conn.Read until memConn reports "would block", a temporary
//     net.Error, which crypto/tls does not keep as a sticky error after the
//     handshake. A record cut anywhere waits in crypto/tls's own buffer.
//     Send encrypts with tls.Conn.Write straight into the wire buffer.
//
// ESP's HTTPS server events map onto Config.OnEvent as follows:
// HTTPS_SERVER_EVENT_START and _STOP are EventStart and EventStop;
// _ON_CONNECTED (sent by ESP after the handshake) is EventTLSHandshakeDone;
// _ON_DATA and _SENT_DATA are EventOnData and EventSentData (plaintext
// byte counts); _DISCONNECTED is EventDisconnected; _ERROR is EventError
// whose Err matches ErrTLSHandshake (with the crypto/tls error joined) for a
// failed, timed-out or refused handshake, and ErrTransport for a record
// error after it. EventOnConnected still marks the TCP accept.

// TLSMode says whether a server with Config.TLS serves HTTPS (ESP's
// httpd_ssl_config_t transport_mode).
type TLSMode uint8

// TLS modes.
const (
	TLSSecure   TLSMode = iota // serve HTTPS with Config.TLS (the default)
	TLSInsecure                // serve plain HTTP although Config.TLS is set, for tests
)

func (m TLSMode) String() string {
	switch m {
	case TLSSecure:
		return "secure"
	case TLSInsecure:
		return "insecure"
	}
	return "TLSMode(?)"
}

// Defaults for the TLS fields of Config.
const (
	DefaultTLSHandshakeTimeout = 10 * time.Second
	DefaultTLSHandshakeQueue   = 1024
)

// TLS errors. Handshake failures reach Config.OnEvent as EventError with an
// Err that matches ErrTLSHandshake and, for the reasons below, the reason.
var (
	ErrTLSHandshake        = errors.New("httpd: TLS handshake failed")
	ErrTLSHandshakeTimeout = errors.New("httpd: TLS handshake timed out")
	ErrTLSHandshakeBusy    = errors.New("httpd: TLS handshake queue full")
	ErrTLSConfig           = errors.New("httpd: invalid TLS configuration")
	ErrTLSEarlyOutput      = errors.New("httpd: too much output before the TLS handshake ended")
)

// Handshaker is an optional interface of a Transport with a handshake
// phase. LRU purge never chooses a session whose transport reports that it
// is still handshaking. Handshaking may be called from any goroutine.
type Handshaker interface {
	Handshaking() bool
}

// Limits of the TLS transport.
const (
	// maxHandshakeInput caps the client bytes staged for the handshake
	// goroutine; more stay queued in the connection until it reads them.
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

// TLSConfigFromPEM builds a server TLS configuration from a PEM certificate
// chain and its key (ESP's servercert and prvtkey). A non-empty clientCAPEM
// turns on mutual TLS (ESP's cacert): clients must present a certificate
// signed by one of its CAs (tls.RequireAndVerifyClientCert). The result has
// MinVersion TLS 1.2, NextProtos ["http/1.1"] and crypto/tls's defaults
// otherwise (session tickets on). Set GetCertificate on it to choose a
// certificate per ClientHello (SNI).
func TLSConfigFromPEM(certPEM, keyPEM, clientCAPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, errors.Join(ErrTLSConfig, err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
	if len(clientCAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(clientCAPEM) {
			return nil, errors.Join(ErrTLSConfig, errors.New("httpd: no CA certificate in the client CA PEM"))
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// TLSConfigFromFiles is TLSConfigFromPEM with the PEM read from files; an
// empty clientCAFile means no client certificates are asked for.
func TLSConfigFromFiles(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	read := func(name string) ([]byte, error) {
		if name == "" {
			return nil, nil
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, errors.Join(ErrTLSConfig, err)
		}
		return b, nil
	}
	cert, err := read(certFile)
	if err != nil {
		return nil, err
	}
	key, err := read(keyFile)
	if err != nil {
		return nil, err
	}
	ca, err := read(clientCAFile)
	if err != nil {
		return nil, err
	}
	return TLSConfigFromPEM(cert, key, ca)
}

// checkTLSConfig reports whether cfg can serve a handshake at all.
func checkTLSConfig(cfg *tls.Config) error {
	if cfg == nil || (len(cfg.Certificates) == 0 && cfg.GetCertificate == nil && cfg.GetConfigForClient == nil) {
		return errors.Join(ErrTLSConfig, errors.New("httpd: TLS config has no certificate, GetCertificate or GetConfigForClient"))
	}
	return nil
}

// NewTLSTransport returns a Config.NewTransport hook that serves HTTPS with
// a copy of cfg (NextProtos defaults to ["http/1.1"]; GetCertificate, when
// set, chooses the certificate per ClientHello and runs on a handshake
// goroutine holding a worker slot). Start installs it when Config.TLS is
// set; it is exported so a hook of your own can wrap it.
//
// The handshake pool belongs to the returned function: it is sized by the
// TLSHandshakeWorkers and TLSHandshakeQueue of the first server that opens
// a session with it, and servers sharing the function share the pool.
// Handshake goroutines exist only while handshakes are in progress. The
// handshake timeout is the session's server's TLSHandshakeTimeout.
func NewTLSTransport(cfg *tls.Config) func(*Session) (Transport, error) {
	if err := checkTLSConfig(cfg); err != nil {
		return func(*Session) (Transport, error) { return nil, err }
	}
	cfg = cfg.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"http/1.1"}
	}
	var (
		once sync.Once
		pool *hsPool
	)
	return func(s *Session) (Transport, error) {
		sc := &s.lp.srv.cfg
		once.Do(func() { pool = newHSPool(sc.TLSHandshakeWorkers, sc.TLSHandshakeQueue) })
		return newTLSTransport(s, cfg, pool, sc.TLSHandshakeTimeout), nil
	}
}

// TLSState returns the TLS connection state of an HTTPS session once its
// handshake has completed (peer certificates for mutual TLS, negotiated
// protocol, DidResume), and false for a plain session. It asks the
// session's Transport for a method ConnectionState() (tls.ConnectionState,
// bool), which a Transport that wraps the TLS one can forward. Like every
// Session method it runs on the session's loop (handlers, hooks, queued
// work).
func (c *Session) TLSState() (tls.ConnectionState, bool) {
	if t, ok := c.transport().(interface {
		ConnectionState() (tls.ConnectionState, bool)
	}); ok {
		return t.ConnectionState()
	}
	return tls.ConnectionState{}, false
}

// hsState is where a TLS transport is in its handshake. Transitions happen
// under memConn.mu; reads may be lock-free.
type hsState int32

const (
	hsAwaitHello  hsState = iota // waiting for the first complete record
	hsQueued                     // admitted, waiting for its first worker slot
	hsRunning                    // its goroutine runs it (computing, parked or waiting for a slot)
	hsEstablished                // handshake done: the loop owns the tls.Conn
	hsFailed                     // handshake failed, timed out or the session closed
)

var hsStateNames = [...]string{"await-hello", "queued", "running", "established", "failed"}

func (s hsState) String() string {
	if int(s) < len(hsStateNames) {
		return hsStateNames[s]
	}
	return "hsState(?)"
}

// tlsTransport is the TLS Transport of one session.
type tlsTransport struct {
	s     *Session
	pool  *hsPool
	conn  *tls.Conn
	m     memConn
	state atomic.Int32 // hsState
	err   error        // why the handshake failed; written before state becomes hsFailed

	// Handshake deadline: ctx expires TLSHandshakeTimeout after accept;
	// stopExpire unregisters expire from it.
	ctx        context.Context
	cancel     context.CancelFunc
	stopExpire func() bool

	// The handshake pool's, under pool.mu: t's place in the pool's line of
	// runnable handshakes, and whether its goroutine was started.
	next, prev      *tlsTransport
	queued, started bool
	// The handshake goroutine's own: it holds a worker slot.
	slot bool

	// Loop only.
	noticed    bool   // the loop saw the handshake end (event emitted)
	held       bool   // the last Recv stopped at recvStep: more plaintext may be ready
	peerClosed bool   // close_notify received: later input is discarded
	early      []byte // plaintext sent before the handshake ended (≤ maxEarlyOutput)
}

func newTLSTransport(s *Session, cfg *tls.Config, pool *hsPool, timeout time.Duration) *tlsTransport {
	t := &tlsTransport{s: s, pool: pool}
	t.m.t = t
	t.m.cond.L = &t.m.mu
	t.m.laddr, t.m.raddr = s.LocalAddr(), s.RemoteAddr()
	t.conn = tls.Server(&t.m, cfg)
	t.ctx, t.cancel = context.WithTimeout(context.Background(), timeout)
	t.stopExpire = context.AfterFunc(t.ctx, t.expire)
	return t
}

func (t *tlsTransport) st() hsState { return hsState(t.state.Load()) }

// Handshaking reports whether the handshake has not ended yet.
func (t *tlsTransport) Handshaking() bool { return t.st() < hsEstablished }

// ConnectionState returns the connection state once established.
func (t *tlsTransport) ConnectionState() (tls.ConnectionState, bool) {
	if t.st() != hsEstablished {
		return tls.ConnectionState{}, false
	}
	return t.conn.ConnectionState(), true
}

// failLocked records why the handshake failed and wakes a waiting
// handshake goroutine.
// It reports false when the handshake had already ended. t.m.mu is held.
func (t *tlsTransport) failLocked(err error) bool {
	if st := t.st(); st == hsEstablished || st == hsFailed {
		return false
	}
	t.err = err
	t.state.Store(int32(hsFailed))
	t.m.closed = true
	t.m.cond.Broadcast()
	return true
}

// expire runs when the handshake deadline passes (on a goroutine of the
// context package).
func (t *tlsTransport) expire() {
	t.m.mu.Lock()
	failed := false
	if t.st() == hsRunning {
		// The goroutine's HandshakeContext fails on the same deadline;
		// closing makes sure its waiting read returns, without a worker
		// slot.
		t.m.closed = true
		t.m.cond.Broadcast()
	} else {
		failed = t.failLocked(ErrTLSHandshakeTimeout)
	}
	t.m.mu.Unlock()
	if failed {
		t.pool.cancel(t)
		_ = t.s.Wake()
	}
}

// run is the goroutine of an admitted handshake; it starts holding a
// worker slot.
func (t *tlsTransport) run() {
	t.slot = true
	t.handshake()
	t.pool.done(t.slot)
}

// handshake runs on the handshake goroutine.
func (t *tlsTransport) handshake() {
	t.m.mu.Lock()
	if t.st() != hsQueued {
		t.m.mu.Unlock()
		return
	}
	t.state.Store(int32(hsRunning))
	t.m.mu.Unlock()

	err := t.conn.HandshakeContext(t.ctx)
	timedOut := t.ctx.Err() != nil
	t.stopExpire()
	t.cancel()

	t.m.mu.Lock()
	if t.st() == hsRunning {
		switch {
		case err == nil && !t.m.closed:
			t.state.Store(int32(hsEstablished))
		case timedOut:
			t.failLocked(errors.Join(ErrTLSHandshakeTimeout, err))
		case err == nil:
			t.failLocked(ErrSessionClosed)
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
	_ = t.s.Wake()
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

// helloReady reports whether b holds a complete first record, or a first
// byte that is not a TLS handshake record (crypto/tls then fails at once).
func helloReady(b []byte) bool {
	const recordTypeHandshake = 22
	if len(b) == 0 {
		return false
	}
	if b[0] != recordTypeHandshake {
		return true
	}
	return len(b) >= 5 && len(b)-5 >= int(b[3])<<8|int(b[4])
}

// Recv stages handshake input, reports the handshake's failure, or
// decrypts records (see Transport).
func (t *tlsTransport) Recv(raw, plain []byte) (int, []byte, error) {
	switch t.st() {
	case hsEstablished:
		if !t.noticed {
			t.notice()
		}
		return t.decrypt(raw, plain)
	case hsFailed:
		return 0, plain, t.failure()
	}
	return t.stage(raw, plain)
}

// stage hands handshake bytes to the handshake goroutine and admits the
// handshake once the first record is complete.
func (t *tlsTransport) stage(raw, plain []byte) (int, []byte, error) {
	m := &t.m
	m.mu.Lock()
	k := min(len(raw), maxHandshakeInput-len(m.in))
	m.in = append(m.in, raw[:k]...)
	m.cond.Signal()
	submit := t.st() == hsAwaitHello && helloReady(m.in)
	if submit {
		t.state.Store(int32(hsQueued))
	}
	m.mu.Unlock()
	if submit && !t.pool.submit(t) {
		m.mu.Lock()
		t.failLocked(ErrTLSHandshakeBusy)
		m.mu.Unlock()
		return k, plain, t.failure()
	}
	return k, plain, nil
}

func (t *tlsTransport) failure() error {
	return errors.Join(ErrTLSHandshake, t.err)
}

// notice runs on the loop the first time it sees the handshake completed.
func (t *tlsTransport) notice() {
	t.noticed = true
	t.m.live = true
	c := t.s
	c.lp.srv.handshakers.Delete(c)
	if c.lp.srv.log.Enabled(context.Background(), slog.LevelDebug) {
		cs := t.conn.ConnectionState()
		c.lp.srv.log.Debug("httpd: TLS handshake done", "session", c.id,
			"version", tls.VersionName(cs.Version), "cipher", tls.CipherSuiteName(cs.CipherSuite),
			"alpn", cs.NegotiatedProtocol, "resumed", cs.DidResume, "sni", cs.ServerName)
	}
	c.emit(EventTLSHandshakeDone, 0)
}

// decrypt lends raw to memConn and reads plaintext until memConn would
// block or recvStep bytes came out.
func (t *tlsTransport) decrypt(raw, plain []byte) (int, []byte, error) {
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

// Send encrypts p into wire; before the handshake ended it keeps p for
// later (up to maxEarlyOutput).
func (t *tlsTransport) Send(wire, p []byte) ([]byte, error) {
	if !t.noticed {
		if t.st() == hsFailed {
			return wire, t.failure()
		}
		if len(t.early)+len(p) > maxEarlyOutput {
			return wire, ErrTLSEarlyOutput
		}
		t.early = append(t.early, p...)
		return wire, nil
	}
	return t.seal(wire, p)
}

// seal encrypts p with tls.Conn.Write, whose records land in wire.
func (t *tlsTransport) seal(wire, p []byte) ([]byte, error) {
	m := &t.m
	m.dst, m.dstOn = wire, true
	_, err := t.conn.Write(p)
	wire = m.dst
	m.dst, m.dstOn = nil, false
	return wire, err
}

// Pending reports plaintext (or a handshake outcome) that Recv will
// deliver without more input.
func (t *tlsTransport) Pending() int {
	switch t.st() {
	case hsEstablished:
		if !t.noticed || t.held {
			return 1
		}
	case hsFailed:
		return 1
	}
	return 0
}

// Flush moves handshake messages and alerts to wire, then the plaintext
// sent before the handshake ended, encrypted.
func (t *tlsTransport) Flush(wire []byte) []byte {
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
			t.s.lp.srv.log.Debug("httpd: TLS write failed", "session", t.s.id, "err", err)
		}
		t.early = nil
	}
	return wire
}

// Close ends the session's TLS: a close_notify when established, else it
// stops the handshake.
func (t *tlsTransport) Close(wire []byte) []byte {
	t.stopExpire()
	t.cancel()
	if t.st() == hsEstablished {
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
	t.failLocked(ErrSessionClosed)
	t.m.closed = true
	t.m.in = nil
	t.m.mu.Unlock()
	t.pool.cancel(t)
	return wire
}

// errWouldBlock is memConn's "no more bytes now": temporary, so crypto/tls
// does not keep it as the connection's error once the handshake is over.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "httpd: TLS input would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// memConn is the net.Conn under a session's tls.Conn.
type memConn struct {
	t            *tlsTransport
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
				_ = t.s.Wake()
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
		_ = t.s.Wake()
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
	// and closed would otherwise race the failure's EventError. After the
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

// hsPool bounds the TLS handshakes in progress off the loops. A handshake
// holds one of places (TLSHandshakeWorkers + TLSHandshakeQueue) from its
// admission (a complete ClientHello) to its end, and one of the worker
// slots only while it computes. Runnable handshakes that find no free slot
// wait in one FIFO line: admitted ones not started yet (no goroutine) and
// parked ones whose peer sent more (their goroutine waits on its memConn's
// cond for a grant). A freed slot passes straight to the head of the line.
//
// Lock order: hsPool.mu before memConn.mu.
type hsPool struct {
	mu         sync.Mutex
	free       int // worker slots nobody holds
	places     int // handshakes in progress allowed
	inProgress int
	head, tail *tlsTransport // the line of runnable handshakes waiting for a slot
}

func newHSPool(workers, queue int) *hsPool {
	return &hsPool{free: workers, places: workers + queue}
}

// submit admits t's handshake, starting its goroutine if a slot is free
// and nobody waits for one, and reports false when every place is taken.
func (p *hsPool) submit(t *tlsTransport) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inProgress >= p.places {
		return false
	}
	p.inProgress++
	if p.free > 0 && p.head == nil {
		p.free--
		t.started = true
		go t.run()
		return true
	}
	p.pushLocked(t)
	return true
}

// acquire takes a worker slot for t's goroutine, waiting in line if none is
// free, and reports false (no slot) when t's memConn closed meanwhile.
func (p *hsPool) acquire(t *tlsTransport) bool {
	p.mu.Lock()
	if p.free > 0 && p.head == nil {
		p.free--
		p.mu.Unlock()
		return true
	}
	p.pushLocked(t)
	p.mu.Unlock()
	m := &t.m
	m.mu.Lock()
	for !m.granted && !m.closed {
		m.cond.Wait()
	}
	m.mu.Unlock()
	// Out of the line means granted: passLocked takes t out and sets
	// granted under p.mu, so once p.mu is held here both are settled.
	p.mu.Lock()
	got := !t.queued
	if !got {
		p.removeLocked(t)
	}
	p.mu.Unlock()
	m.mu.Lock()
	m.granted = false
	m.mu.Unlock()
	return got
}

// release gives back a worker slot.
func (p *hsPool) release() {
	p.mu.Lock()
	p.passLocked()
	p.mu.Unlock()
}

// done ends a handshake goroutine: its place frees, and its slot if it
// holds one.
func (p *hsPool) done(slot bool) {
	p.mu.Lock()
	p.inProgress--
	if slot {
		p.passLocked()
	}
	p.mu.Unlock()
}

// cancel frees the place of t's handshake when it ended (failed, timed out
// or its session closed) before its goroutine started; a started goroutine
// frees its own.
func (p *hsPool) cancel(t *tlsTransport) {
	p.mu.Lock()
	if t.queued && !t.started {
		p.removeLocked(t)
		p.inProgress--
	}
	p.mu.Unlock()
}

// passLocked hands a freed slot to the head of the line, or keeps it.
func (p *hsPool) passLocked() {
	t := p.head
	if t == nil {
		p.free++
		return
	}
	p.removeLocked(t)
	if !t.started {
		t.started = true
		go t.run()
		return
	}
	t.m.mu.Lock()
	t.m.granted = true
	t.m.cond.Signal()
	t.m.mu.Unlock()
}

func (p *hsPool) pushLocked(t *tlsTransport) {
	t.queued = true
	t.next, t.prev = nil, p.tail
	if p.tail != nil {
		p.tail.next = t
	} else {
		p.head = t
	}
	p.tail = t
}

func (p *hsPool) removeLocked(t *tlsTransport) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		p.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		p.tail = t.prev
	}
	t.next, t.prev, t.queued = nil, nil, false
}
