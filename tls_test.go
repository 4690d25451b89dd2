package httpd

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
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
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, pk)
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
	raw, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
func catalogueHandlers(t testing.TB, srv *Server) {
	mustRegister(t, srv,
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/echo", Method: "GET", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/hdr", Method: "GET", Handler: func(r *Request) error { return r.Send(r.Header("X-A")) }},
		URIHandler{URI: "/head", Method: "HEAD", Handler: sendString("hello world")},
		URIHandler{URI: "/ignore", Method: "POST", Handler: sendString("ignored")},
		URIHandler{URI: "/inject", Method: "GET", Handler: func(r *Request) error {
			if r.SetHeader("X-Ok", "a\r\nX-Evil: 1") == nil || r.SetHeader("X-Evil\r\n", "1") == nil {
				return r.SendString("accepted")
			}
			return r.SendString("refused")
		}},
		URIHandler{URI: "/short", Method: "GET", Handler: func(r *Request) error {
			r.SetHeader("Content-Length", "10")
			r.SendChunk([]byte("abc"))
			return nil
		}},
	)
}

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

var _ = errors.Is
