package httpd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/evhttpd/httpd/internal/tlsconn"
)

// HTTPS (esp_https_server) is a Transport like any other: Start installs
// NewTLSTransport(Config.TLS) as Config.NewTransport, and a user who needs
// more (a custom certificate choice per session, a proxy protocol header
// before the ClientHello) composes NewTLSTransport with their own hook.
//
// The TLS machine is internal/tlsconn: a tlsconn.Conn per session, driven
// only through the Transport calls, its handshakes run off the loops on a
// tlsconn.Pool. It sees nothing of the Session or the Server: this file
// hands it the server's sizes and timeout, and a tlsHost, the Session seen
// through the few callbacks the machine makes (wake the session, the
// handshake completed, an early write failed), which become the server's
// events and log lines below. The package doc of internal/tlsconn tells how
// a handshake runs (a goroutine holding a worker slot only while it
// computes) and how records are decrypted and encrypted on the loop.
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
// The TLS machine returns these values (they are internal/tlsconn's).
var (
	ErrTLSHandshake        = tlsconn.ErrHandshake
	ErrTLSHandshakeTimeout = tlsconn.ErrHandshakeTimeout
	ErrTLSHandshakeBusy    = tlsconn.ErrHandshakeBusy
	ErrTLSConfig           = errors.New("httpd: invalid TLS configuration")
	ErrTLSEarlyOutput      = tlsconn.ErrEarlyOutput
)

// Handshaker is an optional interface of a Transport with a handshake
// phase. LRU purge never chooses a session whose transport reports that it
// is still handshaking. Handshaking may be called from any goroutine.
type Handshaker interface {
	Handshaking() bool
}

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
		pool *tlsconn.Pool
	)
	return func(s *Session) (Transport, error) {
		sc := &s.lp.srv.cfg
		once.Do(func() { pool = tlsconn.NewPool(sc.TLSHandshakeWorkers, sc.TLSHandshakeQueue) })
		return tlsconn.New(tlsconn.Params{Config: cfg, Pool: pool, Timeout: sc.TLSHandshakeTimeout,
			Host: (*tlsHost)(s), LocalAddr: s.LocalAddr(), RemoteAddr: s.RemoteAddr()}), nil
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

// The TLS machine is a Transport, and a Handshaker so that LRU purge
// spares its sessions while they handshake.
var (
	_ Transport  = (*tlsconn.Conn)(nil)
	_ Handshaker = (*tlsconn.Conn)(nil)
)

// tlsHost is a Session as its tlsconn.Conn sees it: a conversion, not a
// wrapper, so a TLS session costs no allocation for it.
type tlsHost Session

// Wake runs on any goroutine (a handshake's).
func (h *tlsHost) Wake() { _ = (*Session)(h).Wake() }

// HandshakeDone runs on the loop, in the first Recv after the handshake
// completed: from now on LRU purge need not ask the transport, and the
// session reports ESP's HTTPS_SERVER_EVENT_ON_CONNECTED.
func (h *tlsHost) HandshakeDone(tc *tlsconn.Conn) {
	c := (*Session)(h)
	srv := c.lp.srv
	srv.handshakers.Delete(c)
	if srv.log.Enabled(context.Background(), slog.LevelDebug) {
		cs, _ := tc.ConnectionState()
		srv.log.Debug("httpd: TLS handshake done", "session", c.id,
			"version", tls.VersionName(cs.Version), "cipher", tls.CipherSuiteName(cs.CipherSuite),
			"alpn", cs.NegotiatedProtocol, "resumed", cs.DidResume, "sni", cs.ServerName)
	}
	c.emit(EventTLSHandshakeDone, 0)
}

// FlushFailed runs on the loop when the output sent before the handshake
// ended could not be encrypted; that output is dropped.
func (h *tlsHost) FlushFailed(err error) {
	c := (*Session)(h)
	c.lp.srv.log.Debug("httpd: TLS write failed", "session", c.id, "err", err)
}
