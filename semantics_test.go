package httpd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMethodPrecedence: a handler for the request's method wins over a
// MethodAny handler for the same URI, whatever the registration order;
// HEAD goes to the GET handler before MethodAny.
func TestMethodPrecedence(t *testing.T) {
	srv := startTest(t, Config{})
	mustRegister(t, srv,
		URIHandler{URI: "/r", Method: MethodAny, Handler: sendString("any")},
		URIHandler{URI: "/r", Method: "GET", Handler: sendString("get")},
	)
	rc := dial(t, srv)
	for _, tc := range []struct{ method, body string }{{"GET", "get"}, {"POST", "any"}, {"DELETE", "any"}} {
		rc.write(req(tc.method, "/r"))
		if resp := rc.response(tc.method); resp.StatusCode != 200 || bodyOf(resp) != tc.body {
			t.Errorf("%s /r = %d %q; want 200 %q", tc.method, resp.StatusCode, bodyOf(resp), tc.body)
		}
	}
	rc.write(req("HEAD", "/r"))
	if resp := rc.response("HEAD"); resp.StatusCode != 200 || resp.ContentLength != 3 {
		t.Errorf("HEAD /r = %d, Content-Length %d; want 200 and GET's 3", resp.StatusCode, resp.ContentLength)
	}
}

// TestHeadServedByGet: with Go's client, HEAD on GET-only URIs gets GET's
// status and headers and no body bytes, for fixed, chunked and Blocking
// replies; the connection stays in step (the next request parses).
func TestHeadServedByGet(t *testing.T) {
	srv := startTest(t, Config{})
	long := strings.Repeat("z", 100<<10)
	mustRegister(t, srv,
		URIHandler{URI: "/fixed", Method: "GET", Handler: func(r *Request) error {
			_ = r.SetHeader("X-Kind", "fixed")
			return r.SendString("hello")
		}},
		URIHandler{URI: "/chunked", Method: "GET", Handler: func(r *Request) error {
			_ = r.SendChunk([]byte("a"))
			return r.SendChunk([]byte("b"))
		}},
		URIHandler{URI: "/blocking", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			for i := 0; i < 4; i++ {
				if err := r.SendChunk([]byte(long)); err != nil {
					return err
				}
			}
			return nil
		}},
	)
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	base := "http://" + srv.Addr().String()
	for _, path := range []string{"/fixed", "/chunked", "/blocking"} {
		get, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, get.Body)
		get.Body.Close()
		head, err := cl.Head(base + path)
		if err != nil {
			t.Fatalf("HEAD %s: %v", path, err)
		}
		head.Body.Close()
		if head.StatusCode != get.StatusCode || head.ContentLength != get.ContentLength ||
			head.Header.Get("X-Kind") != get.Header.Get("X-Kind") || fmt.Sprint(head.TransferEncoding) != fmt.Sprint(get.TransferEncoding) {
			t.Errorf("HEAD %s = %d len %d te %v; GET = %d len %d te %v", path,
				head.StatusCode, head.ContentLength, head.TransferEncoding, get.StatusCode, get.ContentLength, get.TransferEncoding)
		}
	}
	// Raw: no byte of a body follows a HEAD reply.
	rc := dial(t, srv)
	rc.write(req("HEAD", "/blocking") + req("GET", "/fixed"))
	rc.response("HEAD")
	if resp := rc.response("GET"); resp.StatusCode != 200 || bodyOf(resp) != "hello" {
		t.Fatalf("request after HEAD: %d %q", resp.StatusCode, bodyOf(resp))
	}
}

// TestErrorRepliesClose: every reply after which the server ends the
// session says Connection: close, and the connection then really ends
// (EOF), for each path that gives up on a client.
func TestErrorRepliesClose(t *testing.T) {
	cfg := Config{HeaderTimeout: 300 * time.Millisecond, RecvWaitTimeout: 300 * time.Millisecond,
		MaxBodySize: 1 << 10, LingerTimeout: 300 * time.Millisecond, BlockingPrebuffer: -1}
	srv := startTest(t, cfg)
	mustRegister(t, srv,
		URIHandler{URI: "/up", Method: "POST", Handler: sendString("up")},
		URIHandler{URI: "/recv", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			if _, err := io.ReadAll(readerFunc(r.Recv)); err != nil {
				return r.SendErr(408, "") // the handler answers its own timeout
			}
			return r.SendString("all")
		}},
		URIHandler{URI: "/recv-err", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			_, err := io.ReadAll(readerFunc(r.Recv))
			return err
		}},
	)
	cases := []struct {
		name, in string
		status   int
	}{
		{"header timeout", "GET /up HTTP/1.1\r\nHost: x\r\n", 408},
		{"body gap timeout", "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 408},
		{"blocking handler's own 408", "POST /recv HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 408},
		{"blocking Recv timeout returned", "POST /recv-err HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", 408},
		{"413", "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", 413},
		{"414", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"431", "GET /up HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("b", 40000) + "\r\n\r\n", 431},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dial(t, srv)
			rc.write(tc.in)
			resp := rc.response("GET")
			if resp.StatusCode != tc.status || !resp.Close {
				t.Fatalf("%d close=%v; want %d with Connection: close", resp.StatusCode, resp.Close, tc.status)
			}
			if !rc.closedByPeer(5 * time.Second) {
				t.Fatal("no EOF after the reply")
			}
		})
	}
	t.Run("503 at the session limit", func(t *testing.T) {
		lim := startTest(t, Config{MaxOpenSockets: 1, LingerTimeout: 300 * time.Millisecond})
		mustRegister(t, lim, URIHandler{URI: "/up", Method: "GET", Handler: sendString("up")})
		first := dial(t, lim)
		first.write(req("GET", "/up"))
		first.response("GET")
		rc := dial(t, lim)
		resp := rc.response("GET")
		if resp.StatusCode != 503 || !resp.Close {
			t.Fatalf("%d close=%v; want 503 with Connection: close", resp.StatusCode, resp.Close)
		}
		if !rc.closedByPeer(5 * time.Second) {
			t.Fatal("no EOF after the 503")
		}
	})
}

// TestFlushStreamsEvents: a Blocking handler that sends Server-Sent Events
// with SendChunk + Flush gets each event to the client before it produces
// the next (the client's acknowledgement gates the next event), and a
// stream of 10,000 events runs in constant memory.
func TestFlushStreamsEvents(t *testing.T) {
	srv := startTest(t, Config{})
	ack := make(chan struct{})
	const gated, total = 20, 10000
	mid := make(chan uint64, 1)
	mustRegister(t, srv, URIHandler{URI: "/events", Method: "GET", Blocking: true, Handler: func(r *Request) error {
		_ = r.SetType("text/event-stream")
		_ = r.SetHeader("Cache-Control", "no-cache")
		for i := 0; i < total; i++ {
			if err := r.SendChunk(fmt.Appendf(nil, "id: %d\ndata: tick %d\n\n", i, i)); err != nil {
				return err
			}
			if err := r.Flush(); err != nil {
				return err
			}
			if i < gated {
				select {
				case <-ack:
				case <-time.After(10 * time.Second):
					return fmt.Errorf("event %d never reached the client", i)
				}
			}
			if i == total/10 {
				mid <- heapInUse()
			}
		}
		return nil
	}})
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Get("http://" + srv.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		if want := fmt.Sprintf("data: tick %d", n); line != want {
			t.Fatalf("event %q; want %q", line, want)
		}
		n++
		if n <= gated {
			ack <- struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Fatalf("%d events; want %d", n, total)
	}
	start, end := <-mid, heapInUse()
	if end > start+4<<20 {
		t.Errorf("heap in use grew from %d to %d B over %d events", start, end, total-total/10)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestLargeLoopReplies: a loop handler's large body writes go to the
// connection from the handler's slice (writeDirect); the bytes on the wire
// are the same as through the loop's buffer, for a fixed-length body, a
// chunked one mixing small and large chunks, an HTTP/1.0 close-delimited
// one and a HEAD, over TCP and TLS, pipelined behind another request.
func TestLargeLoopReplies(t *testing.T) {
	big := make([]byte, 1<<20+7)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	fixed := func(r *Request) error { return r.Send(big) }
	chunks := func(r *Request) error {
		for _, p := range [][]byte{big[:10], big[10 : 10+directWriteMin], big[10+directWriteMin : 20+directWriteMin], big[20+directWriteMin:]} {
			if err := r.SendChunk(p); err != nil {
				return err
			}
		}
		return r.SendChunk(nil)
	}
	// The same replies from Blocking handlers: the worker lends its slice
	// to the loop (writeLent).
	handlers := []URIHandler{
		{URI: "/fixed", Method: "GET", Handler: fixed},
		{URI: "/chunks", Method: "GET", Handler: chunks},
		{URI: "/b/fixed", Method: "GET", Handler: fixed, Blocking: true},
		{URI: "/b/chunks", Method: "GET", Handler: chunks, Blocking: true},
	}
	for _, tr := range []string{"tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			var srv *Server
			var rc *rawClient
			if tr == "tls" {
				srv = startTLS(t, Config{EventLoops: 1})
				mustRegister(t, srv, handlers...)
				rc = dialTLS(t, srv, testPKI().clientConfig(), 0)
			} else {
				srv = startTest(t, Config{EventLoops: 1})
				mustRegister(t, srv, handlers...)
				rc = dial(t, srv)
			}
			rc.write(req("GET", "/fixed") + req("GET", "/chunks") + req("HEAD", "/fixed") + req("GET", "/fixed") +
				req("GET", "/b/fixed") + req("GET", "/b/chunks") + req("HEAD", "/b/fixed") + req("GET", "/b/fixed"))
			for i, m := range []string{"GET", "GET", "HEAD", "GET", "GET", "GET", "HEAD", "GET"} {
				resp := rc.response(m)
				got := bodyOf(resp)
				want := string(big)
				if m == "HEAD" {
					want = ""
				}
				if resp.StatusCode != 200 || got != want {
					t.Fatalf("reply %d (%s): %d, %d bytes, equal %v", i, m, resp.StatusCode, len(got), got == want)
				}
				if i%4 == 1 && len(resp.TransferEncoding) == 0 {
					t.Errorf("reply %d: not chunked", i)
				}
			}
			// HTTP/1.0: no chunked coding, the close ends the body.
			rc.write("GET /b/chunks HTTP/1.0\r\n\r\n")
			resp := rc.response("GET")
			if got := bodyOf(resp); got != string(big) {
				t.Fatalf("HTTP/1.0 reply: %d bytes, equal %v", len(got), got == string(big))
			}
		})
	}
}

// TestLentWritesReused: a Blocking handler that rewrites one buffer between
// large writes gets each write on the wire as it was when written (the
// loop is done with the slice when Write returns); one whose client stops
// reading gets ErrSendTimeout and may scribble on its buffer at once (the
// race detector watches the loop's side).
func TestLentWritesReused(t *testing.T) {
	const n, size = 24, 100 << 10
	timedOut := make(chan error, 1)
	srv := startTest(t, Config{EventLoops: 1, SendWaitTimeout: 300 * time.Millisecond, MaxOutbound: 256 << 10})
	mustRegister(t, srv,
		URIHandler{URI: "/reuse", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			buf := make([]byte, size)
			for i := 0; i < n; i++ {
				for j := range buf {
					buf[j] = byte('a' + i)
				}
				if err := r.SendChunk(buf); err != nil {
					return err
				}
			}
			return r.SendChunk(nil)
		}},
		URIHandler{URI: "/stuck", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			buf := make([]byte, size)
			for {
				if err := r.SendChunk(buf); err != nil {
					for j := range buf {
						buf[j] = 'x'
					}
					timedOut <- err
					return err
				}
			}
		}})
	rc := dial(t, srv)
	rc.write(req("GET", "/reuse"))
	body := bodyOf(rc.response("GET"))
	if len(body) != n*size {
		t.Fatalf("%d bytes; want %d", len(body), n*size)
	}
	for i := 0; i < n; i++ {
		if want := strings.Repeat(string(rune('a'+i)), size); body[i*size:(i+1)*size] != want {
			t.Fatalf("write %d changed on the wire", i)
		}
	}
	stuck := dial(t, srv)
	_ = stuck.c.(*net.TCPConn).SetReadBuffer(4 << 10)
	stuck.write(req("GET", "/stuck"))
	select {
	case err := <-timedOut:
		if !errors.Is(err, ErrSendTimeout) && !errors.Is(err, ErrSessionClosed) {
			t.Fatalf("stuck handler: %v; want ErrSendTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler of a client that does not read never got an error")
	}
}
