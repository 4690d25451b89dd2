package bridgeinterop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/nethttp"
	"go.uber.org/goleak"
)

// TestMain fails the run if a test left goroutines behind. gnet's worker
// pool (ants) keeps its own workers by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		// Client keep-alive connections the transport's CloseIdleConnections
		// is closing as the test ends.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// requiredEnv turns a missing external tool (curl) from a skip into a
// failure; CI sets it, as for internal/interop.
const requiredEnv, requiredValue = "EVHTTPD_INTEROP", "required"

func needCommand(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requiredEnv) == requiredValue {
			t.Fatalf("%s not installed (%s=%s); run internal/interop/setup.sh", name, requiredEnv, requiredValue)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func quietLogger() *slog.Logger {
	if os.Getenv("EVHTTPD_INTEROP_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// server is an evhttpd server with h mounted through the bridge at uri
// (patterns: httpd.MatchPattern), and a client for it; both end with the
// test.
type server struct {
	srv  *httpd.Server
	base string // "http://127.0.0.1:port" or https
	cl   *http.Client
}

func startBridge(t *testing.T, secure bool, uri string, h http.Handler) *server {
	t.Helper()
	cfg := httpd.Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: quietLogger(), URIMatch: httpd.MatchPattern,
		MaxBodySize: 64 << 20}
	if secure {
		cfg.TLS = selfSigned(t)
	}
	srv, err := httpd.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := nethttp.Mount(srv, httpd.URIHandler{URI: uri}, h); err != nil {
		srv.Stop()
		t.Fatalf("Mount: %v", err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableCompression: true}
	s := &server{srv: srv, base: "http://" + srv.Addr().String(), cl: &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if secure {
		s.base = "https://" + srv.Addr().String()
	}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := srv.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

// do sends a request and returns the reply with its whole body.
func (s *server) do(t *testing.T, method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.cl.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: body: %v", method, path, err)
	}
	return res, b
}

// selfSigned returns a server TLS config with a fresh certificate for
// 127.0.0.1.
func selfSigned(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
