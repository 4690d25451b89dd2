package httpd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testLogger discards logs unless EVHTTPD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("EVHTTPD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startTest starts a server on a free loopback port and stops it when the
// test ends.
func startTest(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" && cfg.Listener == nil {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger()
	}
	srv, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv
}

func mustRegister(t testing.TB, srv *Server, hs ...URIHandler) {
	t.Helper()
	for _, h := range hs {
		if err := srv.RegisterURIHandler(h); err != nil {
			t.Fatalf("RegisterURIHandler(%s %s): %v", h.Method, h.URI, err)
		}
	}
}

func sendString(s string) HandlerFunc {
	return func(r *Request) error { return r.SendString(s) }
}

// rawClient is a test client over a plain TCP connection.
type rawClient struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dial(t testing.TB, srv *Server) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

func (rc *rawClient) write(s string) {
	rc.t.Helper()
	rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(rc.c, s); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// writeSplit writes s in pieces of at most n bytes, each its own write.
func (rc *rawClient) writeSplit(s string, n int) {
	rc.t.Helper()
	for len(s) > 0 {
		k := n
		if k > len(s) {
			k = len(s)
		}
		rc.write(s[:k])
		s = s[k:]
	}
}

// response reads one response; method is the request's method (HEAD has no body).
func (rc *rawClient) response(method string) *http.Response {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("ReadResponse: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("reading body: %v", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// closedByPeer reports whether the server closed the connection: EOF (or a
// reset) before any more bytes, within the timeout.
func (rc *rawClient) closedByPeer(timeout time.Duration) bool {
	rc.c.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	_, err := rc.br.Read(b[:])
	if err == nil {
		return false
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// counter counts free callbacks and session contexts.
type counter struct{ n atomic.Int64 }

func (c *counter) free(any) { c.n.Add(1) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fdCount returns the number of open descriptors of this process (Linux).
func fdCount() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// checkNoLeaks waits for the goroutine count and the fd count to come back
// to their values before the test's servers started.
func checkNoLeaks(t testing.TB, goroutines, fds int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), fdCount()
		if g <= goroutines && (fds < 0 || f <= fds) {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (before %d), fds %d (before %d)\n%s", g, goroutines, f, fds, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func req(method, target string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: test\r\n", method, target)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}
