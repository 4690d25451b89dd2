package nethttp

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	httpd "github.com/evhttpd/httpd"
)

// Mount's requests reuse the server's memory once their handler returned
// (internal/reuse). These tests hold the bridge to what makes that safe.

// TestReuseContexts: every request's context is its own: cancelled when
// its handler returned and never live again, while later requests (which
// reuse the memory of earlier ones) get live contexts of their own.
func TestReuseContexts(t *testing.T) {
	var mu sync.Mutex
	var kept []context.Context
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		mu.Lock()
		for i, k := range kept {
			if k == ctx {
				t.Errorf("a request got the context of request %d", i)
			}
			if k.Err() != context.Canceled {
				t.Errorf("request %d's context: %v after its handler returned; want context.Canceled", i, k.Err())
			}
		}
		kept = append(kept, ctx)
		mu.Unlock()
		if err := ctx.Err(); err != nil {
			t.Errorf("a running request's context: %v", err)
		}
		io.WriteString(w, "ok")
	})
	_, base, cl := start(t, httpd.Config{EventLoops: 1}, h)
	for i := 0; i < 50; i++ {
		if _, body := get(t, cl, base+"/x"); body != "ok" {
			t.Fatalf("request %d: %q", i, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, k := range kept {
		select {
		case <-k.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d's context never done", i)
		}
	}
}

// blockedWriter takes what it is given, once released.
type blockedWriter struct {
	entered chan struct{}
	release chan struct{}
	mu      sync.Mutex
	got     []byte
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	w.mu.Lock()
	w.got = append(w.got, p...)
	w.mu.Unlock()
	return len(p), nil
}

// TestReuseLateReader: http.TimeoutHandler answers 503 and returns while
// the handler it wraps still copies the body, from its own goroutine, into
// a writer that blocks. Requests served meanwhile on the same loop (whose
// memory is reused) get their own bodies back intact, and the late copy
// ends with an error, holding no byte of theirs.
func TestReuseLateReader(t *testing.T) {
	bw := &blockedWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	copied := make(chan error, 1)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(bw, r.Body)
		copied <- err
	})
	mux := http.NewServeMux()
	mux.Handle("/slow", http.TimeoutHandler(inner, 50*time.Millisecond, "timeout"))
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	})
	_, base, cl := start(t, httpd.Config{EventLoops: 1}, mux)

	own := strings.Repeat("S", 1000)
	res, err := cl.Post(base+"/slow", "text/plain", strings.NewReader(own))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/slow: %d; want 503 from TimeoutHandler", res.StatusCode)
	}
	<-bw.entered // the late copy is inside the writer, holding the body

	for i := 0; i < 100; i++ {
		body := strings.Repeat(strconv.Itoa(i%10), 100+i*37)
		res, err := cl.Post(base+"/echo", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != body {
			t.Fatalf("echo %d: %d bytes, want %d", i, len(got), len(body))
		}
	}
	close(bw.release)
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the late copy never ended")
	}
	bw.mu.Lock()
	defer bw.mu.Unlock()
	if !strings.HasPrefix(own, string(bw.got)) {
		t.Errorf("the late copy got %d bytes that are not its own body's (%.30q)", len(bw.got), bw.got)
	}
}

// TestReuseStaleBodyAcrossConns: a Body kept past its handler's return
// fails with ErrStale, also while other connections' requests run in the
// memory its request had.
func TestReuseStaleBodyAcrossConns(t *testing.T) {
	var mu sync.Mutex
	var keptB io.Reader
	mux := http.NewServeMux()
	mux.HandleFunc("/keep", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keptB = r.Body
		mu.Unlock()
	})
	mux.HandleFunc("/use", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n, err := keptB.Read(make([]byte, 64))
		mu.Unlock()
		own, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%d %v %s", n, err, own)
	})
	srv, base, cl := start(t, httpd.Config{EventLoops: 1}, mux)
	res, err := cl.Post(base+"/keep", "text/plain", strings.NewReader("kept body"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		body := "other" + strconv.Itoa(i)
		fmt.Fprintf(c, "POST /use HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		reply, _ := io.ReadAll(c)
		c.Close()
		want := "0 " + ErrStale.Error() + " " + body
		if !strings.HasSuffix(string(reply), want) {
			t.Fatalf("request %d: %q; want a body of %q", i, reply, want)
		}
	}
}

// TestRemoteAddr: RemoteAddr is the client's address as net/http writes
// it (host:port, IPv6 in brackets), over IPv4 and, where the machine has
// it, IPv6.
func TestRemoteAddr(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RemoteAddr) })
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := "127.0.0.1:0"
		if network == "tcp6" {
			addr = "[::1]:0"
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			t.Logf("%s: %v (skipped)", network, err)
			continue
		}
		srv, err := httpd.Start(httpd.Config{Listener: ln, EventLoops: 1, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if err := Mount(srv, httpd.URIHandler{URI: "/"}, h); err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial(network, srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		reply, _ := io.ReadAll(c)
		c.Close()
		srv.Stop()
		if want := c.LocalAddr().String(); !strings.HasSuffix(string(reply), "\r\n\r\n"+want) {
			t.Errorf("%s: reply %q; want RemoteAddr %q", network, reply, want)
		}
	}
}
