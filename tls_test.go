package httpd

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/internal/tlsconn"
)

// tlsPKI is the tests' certificate authority, server certificate (SAN
// 127.0.0.1, ::1 and localhost) and client certificates for mutual TLS, one
// signed by the CA and one by a stranger.
type tlsPKI struct {
	caPEM, certPEM, keyPEM []byte
	roots                  *x509.CertPool
	client, stranger       tls.Certificate
}

var testPKI = sync.OnceValue(func() *tlsPKI {
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	serial := int64(0)
	issue := func(tmpl *x509.Certificate, k *ecdsa.PrivateKey, parent *x509.Certificate, pk *ecdsa.PrivateKey) *x509.Certificate {
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore = time.Now().Add(-time.Hour)
		tmpl.NotAfter = time.Now().Add(24 * time.Hour)
		if parent == nil {
			parent, pk = tmpl, k
		}
		der, err := x509.CreateCertificate(crand.Reader, tmpl, parent, &k.PublicKey, pk)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return c
	}
	caTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	keyPEM := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			panic(err)
		}
		return pemOf("EC PRIVATE KEY", der)
	}
	clientCert := func(cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
		k := key()
		c := issue(&x509.Certificate{Subject: pkix.Name{CommonName: cn},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, k, ca, caKey)
		return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k, Leaf: c}
	}

	caKey, otherKey, srvKey := key(), key(), key()
	ca := issue(caTmpl("evhttpd test CA"), caKey, nil, nil)
	other := issue(caTmpl("stranger CA"), otherKey, nil, nil)
	srv := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, srvKey, ca, caKey)
	p := &tlsPKI{caPEM: pemOf("CERTIFICATE", ca.Raw), certPEM: pemOf("CERTIFICATE", srv.Raw), keyPEM: keyPEM(srvKey),
		roots: x509.NewCertPool()}
	p.roots.AddCert(ca)
	p.client = clientCert("client one", ca, caKey)
	p.stranger = clientCert("stranger", other, otherKey)
	return p
})

// writeCA writes the CA certificate to a file for external clients.
func (p *tlsPKI) writeCA(t testing.TB) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(name, p.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// tlsConfig returns the server TLS configuration, with mutual TLS when mtls.
func (p *tlsPKI) tlsConfig(t testing.TB, mtls bool) *tls.Config {
	t.Helper()
	var ca []byte
	if mtls {
		ca = p.caPEM
	}
	cfg, err := TLSConfigFromPEM(p.certPEM, p.keyPEM, ca)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// clientConfig trusts the test CA.
func (p *tlsPKI) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: p.roots, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
}

// startTLS starts a server serving HTTPS with the test certificate.
func startTLS(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.TLS == nil {
		cfg.TLS = testPKI().tlsConfig(t, false)
	}
	return startTest(t, cfg)
}

// splitConn writes every Write in pieces of n bytes, each its own write
// call on the socket, so TLS records reach the server cut at every offset.
type splitConn struct {
	net.Conn
	n int
}

func (c splitConn) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += c.n {
		if _, err := c.Conn.Write(p[i:min(i+c.n, len(p))]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// dialTLS opens a TLS session and completes its handshake. wireSplit > 0
// cuts the client's ciphertext in pieces of that many bytes.
func dialTLS(t testing.TB, srv *Server, cfg *tls.Config, wireSplit int) *rawClient {
	t.Helper()
	c, err := tlsDial(srv, cfg, wireSplit)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

func tlsDial(srv *Server, cfg *tls.Config, wireSplit int) (*tls.Conn, error) {
	// Generous bounds: TestTLSConcurrentHandshakes opens 2000 at once on
	// a shared machine, under the race detector too.
	raw, err := net.DialTimeout("tcp", srv.Addr().String(), 30*time.Second)
	if err != nil {
		return nil, err
	}
	var nc net.Conn = raw
	if wireSplit > 0 {
		nc = splitConn{raw, wireSplit}
	}
	if cfg == nil {
		cfg = testPKI().clientConfig()
	}
	c := tls.Client(nc, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// httpsClient is a net/http client that trusts the test CA.
func httpsClient(t testing.TB) *http.Client {
	tr := &http.Transport{TLSClientConfig: testPKI().clientConfig()}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// tlsRoutes are the handlers of the HTTPS tests.
func tlsRoutes(t testing.TB, srv *Server) {
	t.Helper()
	mustRegister(t, srv,
		URIHandler{URI: "/hello", Method: "GET", Handler: func(r *Request) error {
			r.SetHeader("Custom-Header-1", "Custom-Value-1")
			return r.SendString("Hello World!")
		}},
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/stream", Method: "POST", Blocking: true, MaxBodySize: 64 << 20, Handler: func(r *Request) error {
			buf := make([]byte, 10000)
			for {
				n, err := r.Recv(buf)
				if n > 0 {
					if err := r.SendChunk(buf[:n]); err != nil {
						return err
					}
				}
				if err == io.EOF {
					return r.SendChunk(nil)
				}
				if err != nil {
					return err
				}
			}
		}},
		URIHandler{URI: "/tls", Method: "GET", Handler: func(r *Request) error {
			cs, ok := r.Session().TLSState()
			if !ok {
				return r.SendString("plain")
			}
			peer := "-"
			if len(cs.PeerCertificates) > 0 {
				peer = cs.PeerCertificates[0].Subject.CommonName
			}
			return r.SendString(fmt.Sprintf("%s %s %s", tls.VersionName(cs.Version), cs.NegotiatedProtocol, peer))
		}},
	)
}

// TestTLSNetHTTPClient: Go's net/http client over HTTPS: /hello on a kept
// session, ALPN http/1.1, a chunked POST streamed back by a blocking
// handler, a Content-Length POST.
func TestTLSNetHTTPClient(t *testing.T) {
	srv := startTLS(t, Config{})
	tlsRoutes(t, srv)
	cl := httpsClient(t)
	base := "https://" + srv.Addr().String()
	var first string
	for i := 0; i < 3; i++ {
		resp, err := cl.Get(base + "/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "Hello World!" || resp.Header.Get("Custom-Header-1") != "Custom-Value-1" {
			t.Fatalf("GET /hello = %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if resp.TLS == nil || resp.TLS.NegotiatedProtocol != "http/1.1" {
			t.Fatalf("ALPN: %+v; want http/1.1", resp.TLS)
		}
		// The same session serves every request (keep-alive over TLS).
		key := fmt.Sprint(resp.TLS.TLSUnique)
		if i == 0 {
			first = key
		} else if key != first {
			t.Errorf("request %d went over a new TLS session", i)
		}
	}
	payload := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < len(payload); i += 50000 {
			pw.Write([]byte(payload[i:min(i+50000, len(payload))]))
		}
		pw.Close()
	}()
	resp, err := cl.Post(base+"/stream", "application/octet-stream", pr) // no length: chunked
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != payload {
		t.Fatalf("chunked POST echo: %d bytes back, status %d; want %d", len(body), resp.StatusCode, len(payload))
	}
	resp, err = cl.Post(base+"/echo", "text/plain", strings.NewReader("ping"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ping" {
		t.Fatalf("POST /echo = %q; want %q", body, "ping")
	}
}

// catalogueHandlers are catalogueServer's handlers.
// TestTLSCatalogueHTTP runs the catalogue's HTTP rows over TLS: the input
// whole in one record, in records of 7 plaintext bytes, and (for inputs up
// to 4000 bytes) with the ciphertext written a byte at a time, so records
// and the handshake reach the server cut at every offset.
func TestTLSCatalogueHTTP(t *testing.T) {
	srv := startTLS(t, Config{MaxBodySize: 1 << 20, LingerTimeout: 500 * time.Millisecond})
	catalogueHandlers(t, srv)
	type mode struct {
		name             string
		plainSplit, wire int
	}
	for _, tt := range catalogueCases() {
		for _, m := range []mode{{"whole", 0, 0}, {"records=7", 7, 0}, {"wire=1", 0, 1}} {
			if m.wire == 1 && len(tt.in) > 4000 {
				continue
			}
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				rc := dialTLS(t, srv, nil, m.wire)
				runCatalogueOn(t, rc, tt, m.plainSplit)
			})
		}
	}
}

// runCatalogueOn is runCatalogueCase over an open client connection.
func runCatalogueOn(t *testing.T, rc *rawClient, tt catalogueCase, split int) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if split == 0 {
			io.WriteString(rc.c, tt.in)
			return
		}
		for s := tt.in; len(s) > 0; {
			k := min(split, len(s))
			if _, err := io.WriteString(rc.c, s[:k]); err != nil {
				return
			}
			s = s[k:]
		}
	}()
	defer func() { <-done }()
	defer rc.c.Close() // unblocks the writer when the server closed early
	var replies []*http.Response
	nreplies := len(tt.want)
	if tt.either {
		nreplies = 1
	}
	for i := 0; i < nreplies; i++ {
		method := "GET"
		if i == 0 && tt.method != "" {
			method = tt.method
		}
		rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%q: reply %d: %v (got %d replies)", tt.in, i, err, len(replies))
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		replies = append(replies, resp)
	}
	for i, r := range replies {
		if tt.either {
			if !containsInt(tt.want, r.StatusCode) {
				t.Errorf("%q: status %d; want one of %v", tt.in, r.StatusCode, tt.want)
			}
			break
		}
		if want := tt.want[i]; r.StatusCode != want {
			t.Errorf("%q: reply %d status %d; want %d", tt.in, i, r.StatusCode, want)
		}
	}
	if tt.closed {
		if n := len(replies); n > 0 && !replies[n-1].Close && replies[n-1].StatusCode >= 400 {
			t.Errorf("%q: error reply without Connection: close", tt.in)
		}
		if !closedAfter(rc, rc.br) {
			t.Errorf("%q: session not closed", tt.in)
		}
	} else if n := len(replies); n > 0 && replies[n-1].Close {
		t.Errorf("%q: session closed; want kept", tt.in)
	}
	if tt.check != nil && len(replies) == nreplies {
		tt.check(t, replies)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// tlsEvents records events for the TLS tests.
type tlsEvents struct {
	mu     sync.Mutex
	events []Event
}

func (l *tlsEvents) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// count returns how many events of kind k have an Err matching target (any
// when target is nil).
func (l *tlsEvents) count(k EventKind, target error) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == k && (target == nil || errors.Is(e.Err, target)) {
			n++
		}
	}
	return n
}

// getHello asks for /hello on an established client and checks the reply.
func getHello(t testing.TB, rc *rawClient) {
	t.Helper()
	rc.write(req("GET", "/hello"))
	resp := rc.response("GET")
	if got := bodyOf(resp); resp.StatusCode != 200 || got != "Hello World!" {
		t.Fatalf("GET /hello = %d %q; want 200 %q", resp.StatusCode, got, "Hello World!")
	}
}

// TestTLSPlaintextOnTLSPort: an HTTP request on the HTTPS port fails the
// handshake at once (the first record is not a handshake): the client reads
// a plain 400 explaining it and the connection closes; the failure is an
// EventError matching ErrTLSHandshake; another session is unaffected.
func TestTLSPlaintextOnTLSPort(t *testing.T) {
	var ev tlsEvents
	srv := startTLS(t, Config{OnEvent: ev.add})
	tlsRoutes(t, srv)
	good := dialTLS(t, srv, nil, 0)
	getHello(t, good)

	rc := dial(t, srv)
	start := time.Now()
	rc.write(req("GET", "/hello"))
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("reading the plain reply: %v", err)
	}
	if resp.StatusCode != 400 || !strings.Contains(bodyOf(resp), "HTTPS") {
		t.Errorf("plain request on the TLS port = %d %q; want 400 naming HTTPS", resp.StatusCode, bodyOf(resp))
	}
	if !rc.closedByPeer(5 * time.Second) {
		t.Fatal("plain session not closed")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v; want at once", d)
	}
	// Junk that is not HTTP either: closed without a reply.
	rc2 := dial(t, srv)
	rc2.write("\x00\x01garbage\r\n")
	if !rc2.closedByPeer(5 * time.Second) {
		t.Fatal("junk session not closed")
	}
	waitFor(t, "handshake error events", 5*time.Second, func() bool { return ev.count(EventError, ErrTLSHandshake) == 2 })
	getHello(t, good)
}

// clientHello returns the first flight of a Go TLS client: a complete
// ClientHello record.
func clientHello(t testing.TB) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Client(a, testPKI().clientConfig()).Handshake()
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	n, err := b.Read(buf)
	if err != nil || !tlsconn.HelloReady(buf[:n]) {
		t.Fatalf("capturing a ClientHello: %d bytes, %v", n, err)
	}
	return buf[:n]
}

// TestTLSStalledHandshake: clients that stall before the ClientHello
// record is complete, or after sending it, are closed at
// TLSHandshakeTimeout with an EventError matching ErrTLSHandshakeTimeout;
// sessions that handshake meanwhile are served.
func TestTLSStalledHandshake(t *testing.T) {
	const timeout = 300 * time.Millisecond
	var ev tlsEvents
	srv := startTLS(t, Config{OnEvent: ev.add, TLSHandshakeTimeout: timeout, TLSHandshakeWorkers: 2})
	tlsRoutes(t, srv)
	hello := clientHello(t)
	cases := []struct {
		name string
		send []byte
	}{
		{"nothing", nil},
		{"half a record header", hello[:3]},
		{"ClientHello but its last byte", hello[:len(hello)-1]},
		{"whole ClientHello, then silence", hello},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := ev.count(EventError, ErrTLSHandshakeTimeout)
			start := time.Now() // the deadline counts from accept
			rc := dial(t, srv)
			if len(tc.send) > 0 {
				rc.write(string(tc.send))
			}
			// A good client handshakes and is served meanwhile (a
			// staller waiting for its peer holds no worker).
			getHello(t, dialTLS(t, srv, nil, 0))
			if !drainedToClose(rc, 10*time.Second) {
				t.Fatal("stalled session not closed")
			}
			if d := time.Since(start); d < timeout || d > timeout+5*time.Second {
				t.Errorf("closed after %v; want about %v", d, timeout)
			}
			waitFor(t, "timeout event", 5*time.Second, func() bool {
				return ev.count(EventError, ErrTLSHandshakeTimeout) == before+1
			})
		})
	}
}

// drainedToClose reads and discards until the server closes (true) or the
// timeout passes (false).
func drainedToClose(rc *rawClient, timeout time.Duration) bool {
	rc.c.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, rc.br)
	return err == nil || !isTimeout(err)
}

// TestTLSMutual: with a client CA configured, a client certificate signed
// by it is accepted and its subject reaches the handler through
// Session.TLSState; no certificate, or one from another CA, fails the
// handshake.
func TestTLSMutual(t *testing.T) {
	pki := testPKI()
	var ev tlsEvents
	srv := startTLS(t, Config{TLS: pki.tlsConfig(t, true), OnEvent: ev.add})
	tlsRoutes(t, srv)
	cases := []struct {
		name string
		cert *tls.Certificate
		ok   bool
	}{
		{"signed by the CA", &pki.client, true},
		{"no certificate", nil, false},
		{"signed by another CA", &pki.stranger, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := pki.clientConfig()
			if tc.cert != nil {
				cfg.Certificates = []tls.Certificate{*tc.cert}
			}
			c, err := tlsDial(srv, cfg, 0)
			if err == nil {
				// TLS 1.3 clients learn of a refused certificate on their
				// first read.
				defer c.Close()
				rc := &rawClient{t: t, c: c, br: bufio.NewReader(c)}
				rc.c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, werr := io.WriteString(c, req("GET", "/tls")); werr != nil {
					err = werr
				} else if resp, rerr := http.ReadResponse(rc.br, &http.Request{Method: "GET"}); rerr != nil {
					err = rerr
				} else if got, want := bodyOf(resp), "TLS 1.3 http/1.1 client one"; got != want {
					t.Errorf("GET /tls = %q; want %q", got, want)
				}
			}
			if (err == nil) != tc.ok {
				t.Errorf("mutual TLS with %s: err = %v; want success %v", tc.name, err, tc.ok)
			}
		})
	}
	waitFor(t, "refusals reported", 5*time.Second, func() bool { return ev.count(EventError, ErrTLSHandshake) == 2 })
}

// TestTLSResumption: a second connection with the client's session cache
// resumes the first one's session (session tickets, crypto/tls's default).
func TestTLSResumption(t *testing.T) {
	srv := startTLS(t, Config{})
	tlsRoutes(t, srv)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(v), func(t *testing.T) {
			cfg := testPKI().clientConfig()
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			cfg.MaxVersion = v
			for i, want := range []bool{false, true} {
				rc := dialTLS(t, srv, cfg, 0)
				getHello(t, rc) // TLS 1.3 tickets arrive after the handshake
				cs := rc.c.(*tls.Conn).ConnectionState()
				if cs.DidResume != want || cs.Version != v {
					t.Errorf("connection %d: DidResume %v, %s; want %v, %s", i, cs.DidResume, tls.VersionName(cs.Version), want, tls.VersionName(v))
				}
				rc.c.Close()
			}
		})
	}
}

// TestTLSEvents: ESP's HTTPS events: ON_CONNECTED at accept, then
// TLS_HANDSHAKE_DONE once, data events in plaintext bytes, DISCONNECTED.
func TestTLSEvents(t *testing.T) {
	var ev tlsEvents
	srv := startTLS(t, Config{OnEvent: ev.add})
	tlsRoutes(t, srv)
	rc := dialTLS(t, srv, nil, 0)
	getHello(t, rc)
	getHello(t, rc)
	rc.c.Close()
	waitFor(t, "disconnect", 5*time.Second, func() bool { return ev.count(EventDisconnected, nil) == 1 })
	ev.mu.Lock()
	var kinds []EventKind
	for _, e := range ev.events {
		if e.Kind != EventStart && e.Kind != EventHeadersSent && e.Kind != EventSentData && e.Kind != EventOnHeader {
			kinds = append(kinds, e.Kind)
		}
	}
	ev.mu.Unlock()
	want := []EventKind{EventOnConnected, EventTLSHandshakeDone, EventDisconnected}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("events %v; want %v", kinds, want)
	}
	if ev.count(EventSentData, nil) == 0 || ev.count(EventOnHeader, nil) != 2 {
		t.Errorf("SENT_DATA %d, ON_HEADER %d; want some and 2", ev.count(EventSentData, nil), ev.count(EventOnHeader, nil))
	}
	if s := EventTLSHandshakeDone.String(); s != "TLS_HANDSHAKE_DONE" {
		t.Errorf("EventTLSHandshakeDone.String() = %q", s)
	}
}

// TestTLSSessionsAndPipelining: ESP's persistent-sockets adder over TLS on
// two interleaved sessions, pipelined requests in one record and in one
// write of many records, a blocking handler streaming its body, queued
// work, and the free callbacks once each.
func TestTLSSessionsAndPipelining(t *testing.T) {
	var frees counter
	srv := startTLS(t, Config{})
	tlsRoutes(t, srv)
	sum := func(r *Request) *int64 {
		if p, ok := r.SessCtx().(*int64); ok {
			return p
		}
		p := new(int64)
		r.SetSessCtx(p, frees.free)
		return p
	}
	mustRegister(t, srv, URIHandler{URI: "/adder", Method: "POST", Handler: func(r *Request) error {
		var n int64
		fmt.Sscan(string(r.Body()), &n)
		p := sum(r)
		*p += n
		return r.SendString(fmt.Sprint(*p))
	}}, URIHandler{URI: "/later", Method: "GET", Handler: func(r *Request) error {
		id := r.Session().ID()
		go srv.QueueWork(id, func(s *Session) {
			s.SendRaw([]byte("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nqueued"))
		})
		return r.SendString("now")
	}})
	a, b := dialTLS(t, srv, nil, 0), dialTLS(t, srv, nil, 3)
	add := func(rc *rawClient, n int, want string) {
		t.Helper()
		body := fmt.Sprint(n)
		rc.write(req("POST", "/adder", fmt.Sprintf("Content-Length: %d", len(body))) + body)
		if got := bodyOf(rc.response("POST")); got != want {
			t.Fatalf("POST /adder %d = %q; want %q", n, got, want)
		}
	}
	add(a, 5, "5")
	add(b, 100, "100")
	add(a, 7, "12")
	add(b, 1, "101")

	pipe := req("GET", "/hello") + req("POST", "/echo", "Content-Length: 3") + "abc" + req("GET", "/hello")
	for _, perRecord := range []int{len(pipe), 5} {
		var w strings.Builder
		for i := 0; i < len(pipe); i += perRecord {
			w.Reset()
			w.WriteString(pipe[i:min(i+perRecord, len(pipe))])
			io.WriteString(a.c, w.String())
		}
		for i, want := range []string{"Hello World!", "abc", "Hello World!"} {
			if got := bodyOf(a.response("GET")); got != want {
				t.Fatalf("pipelined reply %d = %q; want %q", i, got, want)
			}
		}
	}

	payload := strings.Repeat("evhttpd-tls ", 200000) // 2.4 MB
	go b.writeSplit(fmt.Sprintf("POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(payload), payload), 70000)
	if got := bodyOf(b.response("POST")); got != payload {
		t.Fatalf("blocking stream echo: %d bytes back; want %d", len(got), len(payload))
	}

	a.write(req("GET", "/later"))
	if got := bodyOf(a.response("GET")); got != "now" {
		t.Fatalf("GET /later = %q", got)
	}
	if got := bodyOf(a.response("GET")); got != "queued" {
		t.Fatalf("queued work wrote %q; want %q", got, "queued")
	}
	a.c.Close()
	b.c.Close()
	waitFor(t, "free callbacks", 5*time.Second, func() bool { return frees.n.Load() == 2 })
}

// TestTLSLRUSparesHandshakes: with the table full and LRU purge on, a
// session still in its TLS handshake is never chosen, although it is the
// least recently used and past LRUGrace; the oldest established session is.
func TestTLSLRUSparesHandshakes(t *testing.T) {
	srv := startTLS(t, Config{MaxOpenSockets: 2, LRUPurgeEnable: true, LRUGrace: time.Millisecond})
	tlsRoutes(t, srv)
	for _, stage := range []string{"before its ClientHello", "after its ClientHello"} {
		t.Run(stage, func(t *testing.T) {
			waitFor(t, "an empty table", 5*time.Second, func() bool { return srv.Stats().Sessions == 0 })
			hs := dial(t, srv)
			if stage == "after its ClientHello" {
				hs.write(string(clientHello(t)))
			}
			waitFor(t, "the handshaking session", 5*time.Second, func() bool { return srv.Stats().Sessions == 1 })
			done := dialTLS(t, srv, nil, 0)
			getHello(t, done)
			time.Sleep(20 * time.Millisecond) // both past LRUGrace
			purged := srv.Stats().Purged
			newcomer := dialTLS(t, srv, nil, 0)
			getHello(t, newcomer)
			if !drainedToClose(done, 5*time.Second) {
				t.Fatal("the established session was not purged")
			}
			if got := srv.Stats().Purged; got != purged+1 {
				t.Errorf("Purged = %d; want %d", got, purged+1)
			}
			if drainedToClose(hs, 100*time.Millisecond) {
				t.Fatal("the handshaking session was purged")
			}
			hs.c.Close()
			newcomer.c.Close()
		})
	}
}

// TestTLSConcurrentHandshakes: 2000 clients handshake at once against two
// workers and a queue of 100: each is served or closed (the queue
// overflows), nothing hangs, and after Stop no goroutine or descriptor is
// left.
func TestTLSConcurrentHandshakes(t *testing.T) {
	if testing.Short() {
		t.Skip("2000 handshakes")
	}
	g0, fd0 := serverGoroutines(), fdCount()
	var ev tlsEvents
	srv, err := Start(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(), OnEvent: ev.add,
		TLS: testPKI().tlsConfig(t, false), TLSHandshakeWorkers: 2, TLSHandshakeQueue: 100})
	if err != nil {
		t.Fatal(err)
	}
	tlsRoutes(t, srv)
	const n = 2000
	var wg sync.WaitGroup
	var mu sync.Mutex
	served, refused := 0, 0
	var other []error
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := tlsDial(srv, nil, 0)
			if err == nil {
				c.SetDeadline(time.Now().Add(20 * time.Second))
				_, err = io.WriteString(c, req("GET", "/hello"))
				if err == nil {
					var resp *http.Response
					if resp, err = http.ReadResponse(bufio.NewReader(c), &http.Request{Method: "GET"}); err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				c.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				served++
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
				strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "broken pipe"):
				refused++
			default:
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if len(other) > 0 {
		t.Errorf("%d clients failed otherwise than by a close, first: %v", len(other), other[0])
	}
	busy := ev.count(EventError, ErrTLSHandshakeBusy)
	t.Logf("%d served, %d closed (%d refused with a full queue)", served, refused, busy)
	if served == 0 || served+refused != n {
		t.Errorf("%d served + %d closed; want %d, some served", served, refused, n)
	}
	waitFor(t, "every session closed", 10*time.Second, func() bool { return srv.Stats().Sessions == 0 })
	srv.Stop()
	checkNoServerLeaks(t, g0, fd0)
}

// tlsWSServer serves wsCaseServer's endpoints over HTTPS.
func tlsWSServer(t *testing.T) *Server {
	srv := startTLS(t, Config{MaxOutbound: 64 << 20})
	echo := func(path string, hh URIHandler) {
		hh.URI, hh.Method, hh.IsWebSocket = path, "GET", true
		hh.Handler = func(r *Request) error {
			if r.IsWSHandshake() {
				return nil
			}
			f, _ := r.WSFrame()
			if string(f.Payload) == "Trigger async" {
				return srv.WSSendAsync(r.Session().ID(), WSFrame{Type: ws.OpText, Payload: []byte("Async data")})
			}
			return r.WSSend(f)
		}
		mustRegister(t, srv, hh)
	}
	echo("/echo", URIHandler{})
	echo("/small", URIHandler{WSMaxMessage: 1000})
	echo("/big", URIHandler{WSMaxMessage: 16 << 20})
	echo("/deflate", URIHandler{WSMaxMessage: 4 << 20, WSDeflate: &ws.DeflateConfig{}})
	echo("/deflate-strict", URIHandler{WSMaxMessage: 4 << 20, WSDeflate: &ws.DeflateConfig{
		ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 10, ClientMaxWindowBits: 11, Level: 6}})
	echo("/bomb", URIHandler{WSMaxMessage: 1 << 20, WSDeflate: &ws.DeflateConfig{}})
	return srv
}

// tlsWSDial is wsCaseDial over TLS.
func tlsWSDial(t *testing.T, srv *Server, path string, hdrs ...string) *wsTestConn {
	t.Helper()
	rc := dialTLS(t, srv, nil, 0)
	rc.write(req("GET", path, append([]string{"Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: " + wsKey, "Sec-WebSocket-Version: 13"}, hdrs...)...))
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("handshake reply: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake %s = %d; want 101", path, resp.StatusCode)
	}
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	tc := &wsTestConn{wsClient: &wsClient{rc}, t: t, resp: resp, rng: rand.New(rand.NewPCG(h.Sum64(), 6455))}
	if v := resp.Header.Get("Sec-WebSocket-Extensions"); v != "" {
		p, ok := ws.ParseDeflateResponse([]byte(v))
		if !ok {
			t.Fatalf("Sec-WebSocket-Extensions %q: not a valid permessage-deflate response", v)
		}
		tc.deflate, tc.params = true, p
		if err := tc.comp.Init(p.ClientMaxWindowBits, !p.ClientNoContextTakeover, 1); err != nil {
			t.Fatalf("client compressor: %v", err)
		}
		if err := tc.decomp.Init(p.ServerMaxWindowBits, !p.ServerNoContextTakeover); err != nil {
			t.Fatalf("client decompressor: %v", err)
		}
		t.Cleanup(func() { tc.comp.Release(); tc.decomp.Release() })
	}
	tc.fp.Config = ws.ParserConfig{RejectMask: true, AllowRSV1: tc.deflate}
	return tc
}

// TestTLSWSCases runs the RFC 6455/7692 case table (TestWSCases) over wss:
// framing, limits, UTF-8, close codes, permessage-deflate, inflate bombs;
// and queued work (WSSendAsync) on a wss session.
func TestTLSWSCases(t *testing.T) {
	srv := tlsWSServer(t)
	for _, tc := range wsCases() {
		t.Run(tc.name, func(t *testing.T) {
			skipHeavy(t, tc)
			path := tc.path
			if path == "" {
				path = "/echo"
			}
			c := tlsWSDial(t, srv, path, tc.hdrs...)
			if tc.run != nil {
				tc.run(t, c)
				return
			}
			c.sendFrames(tc.chop, tc.send...)
			for i, w := range tc.want {
				c.expect(i, w)
			}
			if tc.close == wsOpen {
				c.finish()
				return
			}
			c.expectClose(tc.close)
		})
	}
	t.Run("WSSendAsync", func(t *testing.T) {
		c := tlsWSDial(t, srv, "/deflate", "Sec-WebSocket-Extensions: permessage-deflate")
		c.sendFrames(chopByte, text("Trigger async"))
		c.expect(0, text("Async data"))
		c.finish()
	})
}

// needTool skips the test when an interop tool is missing, unless
// EVHTTPD_INTEROP=required (CI), where it fails.
func needTool(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("EVHTTPD_INTEROP") == "required" {
			t.Fatalf("%s missing (Debian package %s): %v", path, pkg, err)
		}
		t.Skipf("%s missing (Debian package %s)", path, pkg)
	}
}

// runTool runs an external client with a deadline and returns its output.
func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestTLSCurl: curl --cacert for /hello and a chunked POST.
func TestTLSCurl(t *testing.T) {
	needTool(t, "/usr/bin/curl", "curl")
	srv := startTLS(t, Config{})
	tlsRoutes(t, srv)
	ca := testPKI().writeCA(t)
	base := "https://" + srv.Addr().String()
	out := runTool(t, "", "/usr/bin/curl", "-sS", "-i", "--cacert", ca, base+"/hello")
	if !strings.Contains(out, "Custom-Header-1: Custom-Value-1") || !strings.HasSuffix(out, "Hello World!") {
		t.Errorf("curl /hello:\n%s", out)
	}
	body := strings.Repeat("chunked body over TLS\n", 5000)
	out = runTool(t, body, "/usr/bin/curl", "-sS", "--cacert", ca, "-H", "Transfer-Encoding: chunked",
		"--data-binary", "@-", base+"/stream")
	if out != body {
		t.Errorf("curl chunked POST echoed %d bytes; want %d", len(out), len(body))
	}
}

// TestTLSOpenSSL: openssl s_client verifies the chain, negotiates
// http/1.1 by ALPN and gets /hello.
func TestTLSOpenSSL(t *testing.T) {
	needTool(t, "/usr/bin/openssl", "openssl")
	srv := startTLS(t, Config{})
	tlsRoutes(t, srv)
	ca := testPKI().writeCA(t)
	out := runTool(t, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "/usr/bin/openssl", "s_client",
		"-connect", srv.Addr().String(), "-CAfile", ca, "-verify_return_error", "-alpn", "http/1.1", "-ign_eof")
	for _, want := range []string{"Verify return code: 0 (ok)", "ALPN protocol: http/1.1", "Hello World!"} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl s_client output lacks %q:\n%s", want, out)
		}
	}
}

// wssCheck echoes over wss with Python's websocket-client and the ssl
// module verifying against the test CA.
const wssCheck = `
import ssl, sys, websocket
ws = websocket.create_connection("wss://%s/echo" % sys.argv[1], sslopt={"ca_certs": sys.argv[2]}, timeout=20)
for msg in ("hello over wss", "x" * 100000):
    ws.send(msg)
    got = ws.recv()
    assert got == msg, "echo of %d chars returned %d" % (len(msg), len(got))
ws.send_binary(bytes(range(256)) * 300)
assert ws.recv() == bytes(range(256)) * 300
ws.send("Trigger async")
assert ws.recv() == "Async data"
ws.close()
print("wss ok")
`

// TestTLSPythonWSS: Python websocket-client over wss.
func TestTLSPythonWSS(t *testing.T) {
	const python = "/usr/bin/python3"
	needTool(t, python, "python3")
	if err := exec.Command(python, "-c", "import websocket, ssl").Run(); err != nil {
		if os.Getenv("EVHTTPD_INTEROP") == "required" {
			t.Fatalf("python3 websocket-client missing (Debian package python3-websocket): %v", err)
		}
		t.Skip("python3 websocket-client missing (Debian package python3-websocket)")
	}
	srv := tlsWSServer(t)
	out := runTool(t, "", python, "-c", wssCheck, srv.Addr().String(), testPKI().writeCA(t))
	if !strings.Contains(out, "wss ok") {
		t.Errorf("python wss check:\n%s", out)
	}
}

// TestTLSStop: Stop with HTTPS sessions handshaking, idle, mid-request
// and upgraded: every free callback once, none after Stop, no goroutine or
// descriptor left.
func TestTLSStop(t *testing.T) {
	g0, fd0 := serverGoroutines(), fdCount()
	var frees counter
	var after bool
	var mu sync.Mutex
	srv, err := Start(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(), TLS: testPKI().tlsConfig(t, false),
		OnOpen: func(s *Session) error {
			s.SetCtx(s.ID(), func(any) {
				frees.free(nil)
				mu.Lock()
				defer mu.Unlock()
				if after {
					t.Error("free callback after Stop returned")
				}
			})
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	tlsRoutes(t, srv)
	wsEcho(t, srv, URIHandler{})
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", srv.Addr().String()) // handshaking: sends nothing
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", srv.Addr().String()) // ClientHello sent, then silent
		if err != nil {
			t.Fatal(err)
		}
		c.Write(clientHello(t))
		conns = append(conns, c)
	}
	idle := dialTLS(t, srv, nil, 0)
	getHello(t, idle)
	mid := dialTLS(t, srv, nil, 0)
	mid.write(req("POST", "/stream", "Content-Length: 100000") + "partial")
	up := dialTLS(t, srv, nil, 0)
	up.write(req("GET", "/ws", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13"))
	if r := up.response("GET"); r.StatusCode != 101 {
		t.Fatalf("upgrade = %d", r.StatusCode)
	}
	waitFor(t, "9 sessions", 5*time.Second, func() bool { return srv.Stats().Sessions == 9 })
	srv.Stop()
	mu.Lock()
	after = true
	mu.Unlock()
	if n := frees.n.Load(); n != 9 {
		t.Errorf("%d free callbacks; want 9", n)
	}
	for _, c := range conns {
		c.Close()
	}
	for _, rc := range []*rawClient{idle, mid, up} {
		rc.c.Close()
	}
	checkNoServerLeaks(t, g0, fd0)
}
