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
//   - The handshake runs off the loop, on a bounded pool of handshake
//     workers, because crypto/tls's handshake blocks on reads and its
//     errors are sticky. The loop stages the client's bytes in memConn and
//     the worker's reads block until they come; the worker's writes are
//     staged in memConn and the loop writes them (Flush) when the worker
//     calls Session.Wake. A job is queued only once the first TLS record
//     (the ClientHello) is complete, so a client that stalls before it ties
//     up no worker.
//   - Once the handshake ends the worker marks the transport established
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
	// worker; more stay queued in the connection until it reads them.
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
// worker). Start installs it when Config.TLS is set; it is exported so a
// hook of your own can wrap it.
//
// The handshake worker pool belongs to the returned function: it is sized
// by the TLSHandshakeWorkers and TLSHandshakeQueue of the first server that
// opens a session with it, and servers sharing the function share the pool.
// Workers exist only while handshakes are in progress. The handshake
// timeout is the session's server's TLSHandshakeTimeout.
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
	hsQueued                     // waiting for a handshake worker
	hsRunning                    // a worker runs the handshake
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

// failLocked records why the handshake failed and wakes a blocked worker.
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
		// The worker's HandshakeContext fails on the same deadline; closing
		// makes sure its blocked read returns.
		t.m.closed = true
		t.m.cond.Broadcast()
	} else {
		failed = t.failLocked(ErrTLSHandshakeTimeout)
	}
	t.m.mu.Unlock()
	if failed {
		_ = t.s.Wake()
	}
}

// handshake runs on a handshake worker.
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

// stage hands handshake bytes to the worker and queues the handshake once
// the first record is complete.
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

	// Shared with the handshake worker, under mu.
	mu     sync.Mutex
	cond   sync.Cond // signalled when in grows or closed is set
	in     []byte    // client bytes staged for the handshake (≤ maxHandshakeInput); leftovers after it
	out    []byte    // handshake messages and alerts waiting for Flush
	closed bool

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
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.in) == 0 && !m.closed {
		m.cond.Wait()
	}
	if m.closed {
		return 0, net.ErrClosed
	}
	full := len(m.in) >= maxHandshakeInput
	n := copy(p, m.in)
	m.in = m.in[:copy(m.in, m.in[n:])]
	if full {
		// Recv stopped taking input at the cap: ask the loop for more.
		_ = m.t.s.Wake()
	}
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	if m.dstOn {
		m.dst = append(m.dst, p...)
		return len(p), nil
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return 0, net.ErrClosed
	}
	m.out = append(m.out, p...)
	hs := !m.live
	m.mu.Unlock()
	if hs {
		_ = m.t.s.Wake()
	}
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

// hsPool runs handshakes on at most cap(sem) goroutines, which exist only
// while there is work; up to cap(q) handshakes wait for one.
type hsPool struct {
	sem chan struct{}
	q   chan *tlsTransport
}

func newHSPool(workers, queue int) *hsPool {
	return &hsPool{sem: make(chan struct{}, workers), q: make(chan *tlsTransport, queue)}
}

// submit starts or queues t's handshake and reports false when the queue
// is full.
func (p *hsPool) submit(t *tlsTransport) bool {
	select {
	case p.sem <- struct{}{}:
		go p.work(t)
		return true
	default:
	}
	select {
	case p.q <- t:
	default:
		return false
	}
	// Every worker may have left between the two selects: start one if a
	// slot is free (a worker re-checks the queue after freeing its slot).
	select {
	case p.sem <- struct{}{}:
		go p.work(nil)
	default:
	}
	return true
}

func (p *hsPool) work(t *tlsTransport) {
	for {
		if t != nil {
			t.handshake()
		}
		select {
		case t = <-p.q:
			continue
		default:
		}
		<-p.sem
		if len(p.q) == 0 {
			return
		}
		select {
		case p.sem <- struct{}{}:
			t = nil
		default:
			return
		}
	}
}
