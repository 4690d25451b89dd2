package httpd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
)

// TestSlowHeaders: a head that trickles in a byte every 100 ms is answered
// 408 and closed at HeaderTimeout while another client is served.
func TestSlowHeaders(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := idServer(t, Config{EventLoops: 1, HeaderTimeout: timeout, TimerResolution: 10 * time.Millisecond}, nil)
	slow := dial(t, srv)
	head := "GET /id HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n\r\n"
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(head); i++ {
			if _, err := slow.c.Write([]byte{head[i]}); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-done }()
	// A good client is served while the slow one trickles.
	good := dial(t, srv)
	for i := 0; i < 3; i++ {
		good.sessionID()
	}
	resp := slow.response("GET")
	took := time.Since(start)
	if resp.StatusCode != 408 || !resp.Close || bodyOf(resp) != hc.ErrorBody(408) {
		t.Fatalf("slow head -> %d close=%v %q; want 408 close", resp.StatusCode, resp.Close, bodyOf(resp))
	}
	if took < timeout-50*time.Millisecond || took > timeout+2*time.Second {
		t.Errorf("408 after %v; want near HeaderTimeout %v", took, timeout)
	}
	if !slow.closedByPeer(5 * time.Second) {
		t.Error("slow session not closed after 408")
	}
	good.sessionID()
}

// floodServer serves GET /big with a reply of size bytes.
func floodServer(t *testing.T, cfg Config, size int, frees *freeLog) *Server {
	srv := idServer(t, cfg, frees)
	big := []byte(strings.Repeat("x", size))
	mustRegister(t, srv, URIHandler{URI: "/big", Method: "GET", Handler: func(r *Request) error { return r.Send(big) }})
	return srv
}

// dialSmallWindow dials with a small receive buffer so that unread replies
// pile up in the server instead of the kernel.
func dialSmallWindow(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

// TestClientNeverReads: pipelined requests for 64 KiB replies from a client
// that reads nothing: past MaxOutbound the session takes no more input and
// is closed when its output makes no progress; others are served.
func TestClientNeverReads(t *testing.T) {
	var frees freeLog
	srv := floodServer(t, Config{EventLoops: 1, MaxOutbound: 256 << 10, SendWaitTimeout: time.Second}, 64<<10, &frees)
	rc := dialSmallWindow(t, srv)
	id := rc.sessionID()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		reqs := strings.Repeat(req("GET", "/big"), 50)
		for i := 0; i < 100; i++ { // at most 5000 requests, 320 MiB of replies
			select {
			case <-stop:
				return
			default:
			}
			rc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(rc.c, reqs); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	waitFor(t, "the flooding session to be closed", 20*time.Second, func() bool { return frees.count(id) == 1 })
	other := dial(t, srv)
	other.sessionID()
	other.write(req("GET", "/big"))
	if resp := other.response("GET"); len(bodyOf(resp)) != 64<<10 {
		t.Errorf("other client got %d bytes; want %d", len(bodyOf(resp)), 64<<10)
	}
}

// TestSendTimeout: a reply that cannot leave (the client reads nothing)
// closes the session after SendWaitTimeout without progress.
func TestSendTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	var frees freeLog
	srv := floodServer(t, Config{EventLoops: 1, MaxOutbound: 256 << 20, SendWaitTimeout: timeout, TimerResolution: 10 * time.Millisecond}, 32<<20, &frees)
	rc := dialSmallWindow(t, srv)
	id := rc.sessionID()
	start := time.Now()
	rc.write(req("GET", "/big"))
	waitFor(t, "the session to be closed at the send timeout", 10*time.Second, func() bool { return frees.count(id) == 1 })
	if took := time.Since(start); took < timeout-50*time.Millisecond {
		t.Errorf("closed after %v; want at least SendWaitTimeout %v", took, timeout)
	}
	dial(t, srv).sessionID()
}

// TestClientGoneMidRequest: a client that resets or half-closes in the
// middle of a request gets its session closed and its free callback run once.
func TestClientGoneMidRequest(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2}, &frees)
	var handled atomic.Int64
	mustRegister(t, srv, URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error {
		handled.Add(1)
		return r.Send(r.Body())
	}})
	cases := []struct {
		name string
		part string
		end  func(c *net.TCPConn)
	}{
		{"reset in the head", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }},
		{"reset in the body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }},
		{"reset in a chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", func(c *net.TCPConn) { c.SetLinger(0); c.Close() }},
		{"half-close in the head", "POST /echo HTTP/1.1\r\nHost: x\r\n", func(c *net.TCPConn) { c.CloseWrite() }},
		{"half-close in the body", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc", func(c *net.TCPConn) { c.CloseWrite() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dial(t, srv)
			id := rc.sessionID()
			rc.write(tc.part)
			// Let the partial request reach the server before the end.
			time.Sleep(20 * time.Millisecond)
			tc.end(rc.c.(*net.TCPConn))
			waitFor(t, "free callback", 5*time.Second, func() bool { return frees.count(id) >= 1 })
			time.Sleep(50 * time.Millisecond)
			if n := frees.count(id); n != 1 {
				t.Errorf("free callbacks = %d; want 1", n)
			}
		})
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("%d incomplete requests reached the handler", n)
	}
	dial(t, srv).sessionID()
}

// TestHandlerPanic: a panicking handler gets 500 and close; the loop keeps
// serving others.
func TestHandlerPanic(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 1}, &frees)
	mustRegister(t, srv,
		URIHandler{URI: "/panic", Method: "GET", Handler: func(r *Request) error { panic("handler boom") }},
		URIHandler{URI: "/panic-blocking", Method: "GET", Blocking: true, Handler: func(r *Request) error { panic("blocking boom") }},
	)
	other := dial(t, srv)
	oid := other.sessionID()
	for _, uri := range []string{"/panic", "/panic-blocking"} {
		rc := dial(t, srv)
		id := rc.sessionID()
		rc.write(req("GET", uri))
		resp := rc.response("GET")
		if resp.StatusCode != 500 || !resp.Close || bodyOf(resp) != hc.ErrorBody(500) {
			t.Errorf("GET %s -> %d close=%v %q; want 500 close", uri, resp.StatusCode, resp.Close, bodyOf(resp))
		}
		if !rc.closedByPeer(5 * time.Second) {
			t.Errorf("GET %s: session not closed after a panic", uri)
		}
		rc.c.Close() // ends the server's linger at once
		waitFor(t, "free callback", 5*time.Second, func() bool { return frees.count(id) == 1 })
		if got := other.sessionID(); got != oid {
			t.Errorf("other session answers as %v; want %v", got, oid)
		}
	}
}

// TestHookPanics: panics in queued work, a free callback, OnOpen and
// OnClose are recovered and the server keeps serving.
func TestHookPanics(t *testing.T) {
	var opens, closes atomic.Int64
	srv := startTest(t, Config{EventLoops: 1,
		OnOpen: func(s *Session) error {
			s.SetCtx("ctx", func(any) { panic("free boom") })
			if opens.Add(1) == 2 {
				panic("open boom")
			}
			return nil
		},
		OnClose: func(s *Session) {
			closes.Add(1)
			panic("close boom")
		},
	})
	mustRegister(t, srv, URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error {
		return r.SendString(fmt.Sprint(uint64(r.Session().ID())))
	}})

	// First session: fine; its OnClose and free callback panic on close.
	a := dial(t, srv)
	a.sessionID()
	// Second session: OnOpen panics, so it is closed at once.
	b := dial(t, srv)
	if !b.closedByPeer(5 * time.Second) {
		t.Error("session whose OnOpen panicked not closed")
	}
	// Queued work that panics closes its session, nothing else.
	c := dial(t, srv)
	cid := c.sessionID()
	if err := srv.QueueWork(cid, func(*Session) { panic("work boom") }); err != nil {
		t.Fatal(err)
	}
	if !c.closedByPeer(5 * time.Second) {
		t.Error("session whose queued work panicked not closed")
	}
	a.c.Close()
	waitFor(t, "close hooks", 5*time.Second, func() bool { return closes.Load() == 3 })
	d := dial(t, srv)
	d.sessionID()
	d.sessionID()
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if n := closes.Load(); n != 4 {
		t.Errorf("OnClose ran %d times; want 4", n)
	}
}

// TestExpectContinue: exactly one "100 Continue" before the final reply, for
// loop and blocking handlers, sent before the client writes the body.
func TestExpectContinue(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	mustRegister(t, srv,
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/becho", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			b, err := io.ReadAll(recvReader{r})
			if err != nil {
				return err
			}
			return r.Send(b)
		}},
	)
	const cont = "HTTP/1.1 100 Continue\r\n\r\n"
	for _, uri := range []string{"/echo", "/becho"} {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s chunked=%v", uri, chunked), func(t *testing.T) {
				rc := dial(t, srv)
				for i := 0; i < 2; i++ { // twice on one session
					framing, body := "Content-Length: 5", "hello"
					if chunked {
						framing, body = "Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n"
					}
					rc.write(req("POST", uri, "Expect: 100-continue", framing))
					rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
					got := make([]byte, len(cont))
					if _, err := io.ReadFull(rc.br, got); err != nil || string(got) != cont {
						t.Fatalf("interim reply %q, %v; want %q", got, err, cont)
					}
					rc.write(body)
					resp := rc.response("POST")
					if resp.StatusCode != 200 || bodyOf(resp) != "hello" {
						t.Fatalf("final reply %d %q; want 200 hello", resp.StatusCode, bodyOf(resp))
					}
				}
				rc.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
				if b, err := rc.br.ReadByte(); err == nil {
					t.Fatalf("extra byte %q after the final reply", b)
				}
			})
		}
	}
}

// recvReader adapts Request.Recv to io.Reader.
type recvReader struct{ r *Request }

func (rr recvReader) Read(p []byte) (int, error) { return rr.r.Recv(p) }

// readHead reads a reply head up to its empty line.
func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			t.Fatalf("reading head %q: %v", b.String(), err)
		}
		if line == "\r\n" {
			return b.String()
		}
	}
}

// TestHeadNeverCarriesBody: whatever the handler sends, a HEAD reply has no
// body bytes: the next reply's status line follows the head directly.
func TestHeadNeverCarriesBody(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	body := strings.Repeat("b", 1000)
	mustRegister(t, srv,
		URIHandler{URI: "/send", Method: MethodAny, Handler: func(r *Request) error { return r.SendString(body) }},
		URIHandler{URI: "/chunks", Method: MethodAny, Handler: func(r *Request) error {
			for i := 0; i < 3; i++ {
				if err := r.SendChunk([]byte(body)); err != nil {
					return err
				}
			}
			return r.SendChunk(nil)
		}},
		URIHandler{URI: "/fixed", Method: MethodAny, Handler: func(r *Request) error {
			if err := r.SetHeader("Content-Length", "2000"); err != nil {
				return err
			}
			r.SendChunk([]byte(body))
			return r.SendChunk([]byte(body))
		}},
		URIHandler{URI: "/blocking", Method: MethodAny, Blocking: true, Handler: func(r *Request) error { return r.SendString(body) }},
	)
	for _, uri := range []string{"/send", "/chunks", "/fixed", "/blocking"} {
		t.Run(uri, func(t *testing.T) {
			rc := dial(t, srv)
			rc.write(req("HEAD", uri) + req("GET", uri))
			rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			head := readHead(t, rc.br)
			if !strings.HasPrefix(head, "HTTP/1.1 200 ") {
				t.Fatalf("HEAD reply head %q", head)
			}
			next, err := rc.br.Peek(9)
			if err != nil || string(next) != "HTTP/1.1 " {
				t.Fatalf("after the HEAD reply: %q, %v; want the next status line", next, err)
			}
			resp := rc.response("GET")
			if resp.StatusCode != 200 || !strings.HasPrefix(bodyOf(resp), body) {
				t.Fatalf("GET after HEAD: %d %d bytes", resp.StatusCode, len(bodyOf(resp)))
			}
			rc.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
			if b, err := rc.br.ReadByte(); err == nil {
				t.Fatalf("extra byte %q after the GET reply", b)
			}
		})
	}
}

// TestBlockingPoolFull503: with every worker busy a blocking request is
// answered 503 and nothing hangs; the session stays usable.
func TestBlockingPoolFull503(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 2, BlockingWorkers: 1})
	started, release := make(chan struct{}, 1), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	mustRegister(t, srv, URIHandler{URI: "/wait", Method: MethodAny, Blocking: true, Handler: func(r *Request) error {
		started <- struct{}{}
		<-release
		return r.SendString("done")
	}})
	a := dial(t, srv)
	a.write(req("GET", "/wait"))
	<-started
	b := dial(t, srv)
	b.write(req("POST", "/wait", "Content-Length: 5") + "hello")
	resp := b.response("POST")
	if resp.StatusCode != 503 || bodyOf(resp) != hc.ErrorBody(503) {
		t.Fatalf("second blocking request -> %d %q; want 503", resp.StatusCode, bodyOf(resp))
	}
	released = true
	close(release)
	if resp := a.response("GET"); resp.StatusCode != 200 || bodyOf(resp) != "done" {
		t.Fatalf("first blocking request -> %d %q", resp.StatusCode, bodyOf(resp))
	}
	if !resp.Close {
		// The 503 kept the session: its body was skipped, the next request works.
		b.write(req("GET", "/wait"))
		<-started
		if resp := b.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("retry after 503 -> %d", resp.StatusCode)
		}
	}
}

// TestBlockingRecvTimeout: a blocking handler waiting for body bytes that do
// not come sees ErrRecvTimeout after RecvWaitTimeout.
func TestBlockingRecvTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := startTest(t, Config{EventLoops: 1, RecvWaitTimeout: timeout, TimerResolution: 10 * time.Millisecond,
		BlockingPrebuffer: -1}) // the handler itself waits in Recv
	type result struct {
		n    int
		err  error
		took time.Duration
	}
	res := make(chan result, 1)
	mustRegister(t, srv, URIHandler{URI: "/recv", Method: "POST", Blocking: true, Handler: func(r *Request) error {
		buf := make([]byte, 100)
		n, err := io.ReadFull(recvReader{r}, buf[:3])
		if err != nil {
			res <- result{n, err, 0}
			return err
		}
		start := time.Now()
		n, err = r.Recv(buf)
		res <- result{n, err, time.Since(start)}
		if errors.Is(err, ErrRecvTimeout) {
			return r.SendErr(408, "")
		}
		return r.SendString("unexpected")
	}})
	rc := dial(t, srv)
	rc.write("POST /recv HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
	var got result
	select {
	case got = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return from Recv")
	}
	if !errors.Is(got.err, ErrRecvTimeout) || got.n != 0 {
		t.Fatalf("Recv = %d, %v; want 0, ErrRecvTimeout", got.n, got.err)
	}
	if got.took < timeout-50*time.Millisecond {
		t.Errorf("Recv timed out after %v; want about %v", got.took, timeout)
	}
	if resp := rc.response("POST"); resp.StatusCode != 408 {
		t.Errorf("reply %d; want the handler's 408", resp.StatusCode)
	}
}
