package nethttp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	httpd "github.com/evhttpd/httpd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*goWorker).run.func1"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"), // idle keep-alive client conns closed by CloseIdleConnections
	)
}

func testLogger() *slog.Logger {
	if os.Getenv("EVHTTPD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start starts a server with the wildcard matcher, mounts h at "/*" and
// returns its base URL and a client that is closed with the test.
func start(t testing.TB, cfg httpd.Config, h http.Handler) (*httpd.Server, string, *http.Client) {
	t.Helper()
	return startAt(t, cfg, "/*", h)
}

// startAt is start with h mounted at uri.
func startAt(t testing.TB, cfg httpd.Config, uri string, h http.Handler) (*httpd.Server, string, *http.Client) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	cfg.Logger = testLogger()
	if cfg.URIMatch == nil {
		cfg.URIMatch = httpd.MatchWildcard
	}
	srv, err := httpd.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := Mount(srv, httpd.URIHandler{URI: uri}, h); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Stop()
	})
	scheme := "http://"
	if cfg.TLS != nil {
		scheme = "https://"
	}
	return srv, scheme + srv.Addr().String(), cl
}

func get(t testing.TB, cl *http.Client, url string) (*http.Response, string) {
	t.Helper()
	res, err := cl.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return res, string(b)
}

// TestRequestFields checks what a handler sees of the request.
func TestRequestFields(t *testing.T) {
	type seen struct {
		Method, URL, Path, RawPath, RawQuery, Proto, Host, RequestURI, RemoteAddr string
		Header                                                                    http.Header
		ContentLength                                                             int64
		TE                                                                        []string
		Body                                                                      string
		TLS                                                                       bool
	}
	var mu sync.Mutex
	var got seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("ReadAll: %v", err)
		}
		mu.Lock()
		got = seen{r.Method, r.URL.String(), r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Proto, r.Host, r.RequestURI, r.RemoteAddr,
			r.Header.Clone(), r.ContentLength, r.TransferEncoding, string(b), r.TLS != nil}
		mu.Unlock()
	})
	_, base, cl := start(t, httpd.Config{}, h)

	req, _ := http.NewRequest("POST", base+"/a%2Fb/c?x=1&y=%20", strings.NewReader("hello"))
	req.Header.Set("X-Custom", "v1")
	req.Header.Add("X-Custom", "v2")
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	mu.Lock()
	g := got
	mu.Unlock()
	if g.Method != "POST" || g.Path != "/a/b/c" || g.RawPath != "/a%2Fb/c" || g.RawQuery != "x=1&y=%20" ||
		g.Proto != "HTTP/1.1" || g.RequestURI != "/a%2Fb/c?x=1&y=%20" || g.Body != "hello" || g.ContentLength != 5 || g.TLS {
		t.Errorf("request = %+v", g)
	}
	if g.Host != strings.TrimPrefix(base, "http://") || g.Header.Get("Host") != "" {
		t.Errorf("Host = %q, Header[Host] = %q", g.Host, g.Header.Get("Host"))
	}
	if v := g.Header["X-Custom"]; len(v) != 2 || v[0] != "v1" || v[1] != "v2" {
		t.Errorf("X-Custom = %q", v)
	}
	if host, _, err := net.SplitHostPort(g.RemoteAddr); err != nil || host != "127.0.0.1" {
		t.Errorf("RemoteAddr = %q", g.RemoteAddr)
	}

	// Chunked body, through a pipe so the client cannot know its length.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("chunk-1 "))
		pw.Write([]byte("chunk-2"))
		pw.Close()
	}()
	req, _ = http.NewRequest("PUT", base+"/up", pr)
	res, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	mu.Lock()
	g = got
	mu.Unlock()
	if g.ContentLength != -1 || len(g.TE) != 1 || g.TE[0] != "chunked" || g.Body != "chunk-1 chunk-2" || g.Header.Get("Transfer-Encoding") != "" {
		t.Errorf("chunked request = %+v", g)
	}
}

// TestAbsoluteForm sends an absolute-form target: its authority is Host.
func TestAbsoluteForm(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s|%s|%s|%s", r.Host, r.URL.Scheme, r.URL.Path, r.RequestURI)
	})
	srv, _, _ := start(t, httpd.Config{}, h)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET http://example.test/p?q HTTP/1.1\r\nHost: other\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if want := "example.test|http|/p|http://example.test/p?q"; string(b) != want {
		t.Errorf("body = %q; want %q", b, want)
	}
}

// TestFraming checks net/http's framing rules: Content-Length for a reply
// finished within the buffer, chunked after it or after Flush, the
// handler's Content-Length kept, Content-Type sniffed or suppressed.
func TestFraming(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html><body>hi</body></html>") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	mux.HandleFunc("/flushed", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
	})
	mux.HandleFunc("/cl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		w.Write(big)
	})
	mux.HandleFunc("/notype", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		io.WriteString(w, "plain")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(204)
		if _, err := io.WriteString(w, "x"); err != http.ErrBodyNotAllowed {
			t.Errorf("Write after 204: %v", err)
		}
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-A", "1")
		w.WriteHeader(418)
		w.WriteHeader(500) // superfluous: ignored
		io.WriteString(w, "teapot")
	})
	_, base, cl := start(t, httpd.Config{}, mux)

	cases := []struct {
		path     string
		status   int
		cl       int64
		te       []string
		ctype    string
		body     string
		wantBody int
	}{
		{"/small", 200, 28, nil, "text/html; charset=utf-8", "<html><body>hi</body></html>", -1},
		{"/big", 200, -1, []string{"chunked"}, "text/plain; charset=utf-8", "", len(big)},
		{"/flushed", 200, -1, []string{"chunked"}, "text/plain; charset=utf-8", "ab", -1},
		{"/cl", 200, int64(len(big)), nil, "text/plain; charset=utf-8", "", len(big)},
		{"/notype", 200, 5, nil, "", "plain", -1},
		{"/empty", 200, 0, nil, "", "", -1},
		{"/nocontent", 204, 0, nil, "text/plain", "", -1}, // net/http keeps a 204's Content-Type
		{"/status", 418, 6, nil, "text/plain; charset=utf-8", "teapot", -1},
	}
	for _, c := range cases {
		res, body := get(t, cl, base+c.path)
		if res.StatusCode != c.status || res.ContentLength != c.cl || fmt.Sprint(res.TransferEncoding) != fmt.Sprint(c.te) ||
			res.Header.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: status %d, Content-Length %d, TE %q, Content-Type %q; want %d %d %q %q",
				c.path, res.StatusCode, res.ContentLength, res.TransferEncoding, res.Header.Get("Content-Type"),
				c.status, c.cl, c.te, c.ctype)
		}
		if c.wantBody >= 0 && len(body) != c.wantBody || c.wantBody < 0 && body != c.body {
			t.Errorf("GET %s: body %d bytes %.40q", c.path, len(body), body)
		}
		if _, ok := res.Header["Content-Type"]; c.ctype == "" && ok {
			t.Errorf("GET %s: Content-Type %q present", c.path, res.Header.Get("Content-Type"))
		}
	}
}

// TestTrailersAndEarlyHints sends 103 Early Hints, then a chunked reply
// with trailers declared both ways.
func TestTrailersAndEarlyHints(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body")
		w.Header().Set("X-Sum", "abc")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	srv, _, _ := start(t, httpd.Config{}, h)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	// The 103 first, with its Link.
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 103 Early Hints\r\n" {
		t.Fatalf("first line %q", line)
	}
	var hints []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
		hints = append(hints, strings.TrimSpace(l))
	}
	if len(hints) != 1 || hints[0] != "Link: </a.css>; rel=preload" {
		t.Errorf("103 fields %q", hints)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if string(b) != "body" || res.Trailer.Get("X-Sum") != "abc" || res.Trailer.Get("X-Late") != "late" || res.Header.Get("Link") != "" {
		t.Errorf("body %q, trailers %v, Link %q", b, res.Trailer, res.Header.Get("Link"))
	}
}

// TestContextCancelled: the request context ends when the client goes
// away, and when the handler returns.
func TestContextCancelled(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	var kept context.Context
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
			ended <- r.Context().Err()
		case <-time.After(20 * time.Second):
			ended <- fmt.Errorf("not cancelled")
		}
	})
	mux.HandleFunc("/keep", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		kept = r.Context()
		mu.Unlock()
	})
	srv, base, cl := start(t, httpd.Config{}, mux)
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started
	c.Close()
	if err := <-ended; err != context.Canceled {
		t.Errorf("context after the client left: %v", err)
	}
	get(t, cl, base+"/keep")
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-kept.Done():
	case <-time.After(10 * time.Second):
		t.Errorf("context not cancelled after the handler returned")
	}
}

// TestStaleWriter: a ResponseWriter and Body kept past the handler's
// return fail, and never reach the next request on the same connection.
func TestStaleWriter(t *testing.T) {
	var mu sync.Mutex
	var keptW http.ResponseWriter
	var keptB io.Reader
	mux := http.NewServeMux()
	mux.HandleFunc("/first", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keptW, keptB = w, r.Body
		mu.Unlock()
		io.WriteString(w, "first")
	})
	mux.HandleFunc("/second", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		_, err1 := keptW.Write([]byte("INJECTED"))
		_, err2 := keptB.Read(make([]byte, 4))
		mu.Unlock()
		if err1 != ErrStale || err2 != ErrStale {
			t.Errorf("stale Write: %v, stale Read: %v; want ErrStale", err1, err2)
		}
		io.WriteString(w, "second")
	})
	_, base, cl := start(t, httpd.Config{}, mux)
	res, err := cl.Post(base+"/first", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(res.Body); string(b) != "first" {
		t.Fatalf("first = %q", b)
	}
	res.Body.Close()
	req, _ := http.NewRequest("POST", base+"/second", strings.NewReader("data"))
	res, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "second" {
		t.Errorf("second = %q", b)
	}
}

// TestUploadStreams: a 64 MiB upload streams through r.Body (the handler
// hashes it) without the server holding it.
func TestUploadStreams(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sha256.New()
		n, err := io.Copy(s, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %x", n, s.Sum(nil))
	})
	const size = 64 << 20
	srv, base, cl := start(t, httpd.Config{MaxBodySize: 1 << 30}, h)
	src := io.LimitReader(zeros{}, size)
	want := sha256.New()
	io.Copy(want, io.LimitReader(zeros{}, size))
	res, err := cl.Post(base+"/up", "application/octet-stream", src)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if exp := fmt.Sprintf("%d %x", size, want.Sum(nil)); string(b) != exp {
		t.Errorf("reply %q; want %q", b, exp)
	}
	if st := srv.Stats(); st.Buffered > 8<<20 {
		t.Errorf("server holds %d bytes after the upload", st.Buffered)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestResponseController exercises NewResponseController's methods.
func TestResponseController(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
		if err := rc.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
			t.Errorf("SetReadDeadline: %v", err)
		}
		_, err := r.Body.Read(make([]byte, 10))
		if !os.IsTimeout(err) {
			t.Errorf("Read after the read deadline: %v", err)
		}
		rc.SetReadDeadline(time.Time{})
		if err := rc.SetWriteDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		io.WriteString(w, "x")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})
	_, base, cl := start(t, httpd.Config{}, h)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", base+"/", pr)
	res, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "x" {
		t.Errorf("body %q", b)
	}
}

// selfSigned returns a server TLS config with a fresh self-signed
// certificate for 127.0.0.1.
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

// echoUpgrade hijacks, answers 101 through WriteHeader (sent by Hijack, as
// net/http does) and echoes every byte until the client closes.
func echoUpgrade(t testing.TB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "echo")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		if brw.Reader.Buffered() != 0 {
			t.Errorf("bufio reader holds %d bytes", brw.Reader.Buffered())
		}
		if _, err := w.Write([]byte("x")); err != http.ErrHijacked {
			t.Errorf("Write after Hijack: %v", err)
		}
		if _, err := io.Copy(c, c); err != nil {
			t.Errorf("echo: %v", err)
		}
	})
}

// TestHijackEcho upgrades a connection, over TCP and TLS, and echoes 8 MiB
// through the hijacked net.Conn while the client writes and reads at once.
func TestHijackEcho(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			cfg := httpd.Config{}
			if secure {
				cfg.TLS = selfSigned(t)
			}
			srv, _, _ := start(t, cfg, echoUpgrade(t))
			var c net.Conn
			var err error
			if secure {
				c, err = tls.Dial("tcp", srv.Addr().String(), &tls.Config{InsecureSkipVerify: true})
			} else {
				c, err = net.Dial("tcp", srv.Addr().String())
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
			br := bufio.NewReader(c)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 101 || res.Header.Get("Upgrade") != "echo" || res.Header.Get("Content-Type") != "" {
				t.Fatalf("reply %d %v", res.StatusCode, res.Header)
			}
			const size = 8 << 20
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := c.Write(data)
				errc <- err
			}()
			got := make([]byte, size)
			if _, err := io.ReadFull(br, got); err != nil {
				t.Fatalf("read echo: %v", err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("echo differs")
			}
		})
	}
}

// TestPathValues: PathValue works for a mounted ServeMux's patterns and for
// the server's own (httpd.MatchPattern) wildcards.
func TestPathValues(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /std/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "mux %s %s", r.PathValue("id"), r.Pattern)
	})
	srv, base, cl := startAt(t, httpd.Config{URIMatch: httpd.MatchPattern}, "/std/", mux)
	if err := Mount(srv, httpd.URIHandler{URI: "/native/{id}/{rest...}"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "native %s %s", r.PathValue("id"), r.PathValue("rest"))
	})); err != nil {
		t.Fatal(err)
	}
	if _, b := get(t, cl, base+"/std/items/42"); b != "mux 42 GET /std/items/{id}" {
		t.Errorf("mux: %q", b)
	}
	if _, b := get(t, cl, base+"/native/7/a/b"); b != "native 7 a/b" {
		t.Errorf("native: %q", b)
	}
}

// TestOneProc serves a streamed upload, a download and a hijacked echo
// with GOMAXPROCS=1, where the loop hands every step to the worker by
// yielding its only P (loop.yieldToWorkers).
func TestOneProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	h := http.NewServeMux()
	h.HandleFunc("/up", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, n)
	})
	h.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 64; i++ {
			w.Write(make([]byte, 64<<10))
		}
	})
	h.Handle("/echo", echoUpgrade(t))
	srv, base, cl := start(t, httpd.Config{EventLoops: 1, BlockingPrebuffer: 16 << 10, MaxBodySize: 1 << 30}, h)
	res, err := cl.Post(base+"/up", "application/octet-stream", io.LimitReader(zeros{}, 16<<20))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != fmt.Sprint(16<<20) {
		t.Errorf("upload: %q", b)
	}
	if _, body := get(t, cl, base+"/down"); len(body) != 64*64<<10 {
		t.Errorf("download: %d bytes", len(body))
	}
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(c, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != 101 {
		t.Fatalf("upgrade: %v", err)
	}
	msg := bytes.Repeat([]byte("one proc "), 100000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(br, got); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("echo: %v", err)
	}
}

// TestTLSState: on HTTPS the handler sees the connection's TLS state.
func TestTLSState(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			io.WriteString(w, "no TLS")
			return
		}
		fmt.Fprintf(w, "%s %v", tls.VersionName(r.TLS.Version), r.TLS.HandshakeComplete)
	})
	_, base, cl := start(t, httpd.Config{TLS: selfSigned(t)}, h)
	if _, b := get(t, cl, base+"/"); b != "TLS 1.3 true" {
		t.Errorf("TLS state: %q", b)
	}
}
