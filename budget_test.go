package httpd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestBudgetResetsHeaviest: clients that pipeline requests for large
// replies and never read push the server past MaxBufferedBytes; the loops
// reset the sessions holding the most until the total is back under the
// budget, and a well-behaved client is served throughout.
func TestBudgetResetsHeaviest(t *testing.T) {
	const budget = 4 << 20
	srv := startTest(t, Config{EventLoops: 2, MaxBufferedBytes: budget, MaxOutbound: 512 << 10,
		SendWaitTimeout: time.Minute})
	big := strings.Repeat("x", 256<<10)
	mustRegister(t, srv,
		URIHandler{URI: "/big", Method: "GET", Handler: sendString(big)},
		URIHandler{URI: "/small", Method: "GET", Handler: sendString("ok")},
	)
	good := dial(t, srv)
	var hogs []net.Conn
	t.Cleanup(func() {
		for _, c := range hogs {
			c.Close()
		}
	})
	pipeline := strings.Repeat(req("GET", "/big"), 64)
	peak := int64(0)
	for i := 0; i < 24; i++ {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		// A small receive window, so the kernel takes little of the reply
		// and the server keeps the rest.
		_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
		hogs = append(hogs, c)
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.WriteString(c, pipeline) // may block once the server stops reading: fine
		good.write(req("GET", "/small"))
		if resp := good.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("good client got %d", resp.StatusCode)
		}
		peak = max(peak, srv.Stats().Buffered)
	}
	waitFor(t, "budget resets", 10*time.Second, func() bool { return srv.Stats().BudgetResets > 0 })
	// What the server holds is back under the budget. The count of one
	// callback may overshoot it by what that callback added (one reply
	// burst), never by more.
	waitFor(t, "buffered bytes under the budget", 10*time.Second, func() bool { return srv.Stats().Buffered <= budget })
	// The reset sessions see a TCP reset, not a clean end.
	resets := 0
	for _, c := range hogs {
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := io.Copy(io.Discard, c); errors.Is(err, syscall.ECONNRESET) {
			resets++
		}
	}
	if resets == 0 {
		t.Error("no never-reading client saw a reset")
	}
	good.write(req("GET", "/small"))
	if resp := good.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("good client got %d after the purge", resp.StatusCode)
	}
	// Between two looks a loop may overshoot by one callback's worth per
	// loop: a reply burst capped near MaxOutbound plus one read of input.
	if peak > budget+2<<20 {
		t.Errorf("peak buffered %d B; want at most the budget %d B + 2 MiB", peak, budget)
	}
	t.Logf("peak buffered %d B, budget %d B, resets %d", peak, budget, srv.Stats().BudgetResets)
}

// TestSendTimeoutResets: a client that stops reading a reply is closed at
// SendWaitTimeout with a TCP reset (SO_LINGER 0), so the kernel does not
// keep the unsent reply for it.
func TestSendTimeoutResets(t *testing.T) {
	srv := startTest(t, Config{SendWaitTimeout: 300 * time.Millisecond})
	big := strings.Repeat("x", 8<<20)
	mustRegister(t, srv, URIHandler{URI: "/big", Method: "GET", Handler: sendString(big)})
	rc := dial(t, srv)
	_ = rc.c.(*net.TCPConn).SetReadBuffer(4 << 10)
	rc.write(req("GET", "/big"))
	// Read nothing until well past the send timeout.
	time.Sleep(1500 * time.Millisecond)
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, rc.c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read %d bytes, then %v; want a connection reset", n, err)
	}
}

// TestStalledSessionStopsReading: a client that keeps sending requests
// while it reads none of the replies is stopped by TCP flow control, not
// closed: once its replies fill MaxOutbound the server stops reading its
// socket (gnet engine), so its writes block, nothing piles up in the
// server, and once it reads, every reply comes.
func TestStalledSessionStopsReading(t *testing.T) {
	if e := os.Getenv("EVHTTPD_ENGINE"); e != "" && e != "gnet" {
		t.Skip("the netpoll engine cannot pause reading; its bound is the input cap")
	}
	srv := startTest(t, Config{EventLoops: 1, MaxOutbound: 256 << 10, SendWaitTimeout: time.Minute})
	big := strings.Repeat("r", 64<<10)
	mustRegister(t, srv, URIHandler{URI: "/r", Method: "GET", Handler: sendString(big)})
	rc := dial(t, srv)
	tc := rc.c.(*net.TCPConn)
	_ = tc.SetReadBuffer(8 << 10)
	_ = tc.SetWriteBuffer(8 << 10)
	one := req("GET", "/r")
	// Far more request bytes than the input cap (MaxOutbound plus the head
	// limits, about 300 KiB) that would close a session still read.
	sent := rc.writeUntilBlocked([]byte(strings.Repeat(one, 1000)), 64<<20)
	if b := srv.Stats().Buffered; b > 4<<20 {
		t.Errorf("server holds %d B for the stalled client", b)
	}
	// The client reads: its replies come, in order, and the session lives.
	_ = tc.SetReadBuffer(1 << 20)
	rc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < 3; i++ {
		if resp := rc.response("GET"); resp.StatusCode != 200 || len(bodyOf(resp)) != len(big) {
			t.Fatalf("reply %d: %d, %d bytes", i, resp.StatusCode, len(bodyOf(resp)))
		}
	}
	t.Logf("client sent %d B before its writes blocked", sent)
}

// TestBlockingFullPipeStopsReading: a Blocking handler that does not take
// its body as fast as the client sends it (its pipe is full) has the
// socket stop being read, so the client's writes block on TCP flow
// control and the server holds little; before, the session read the
// whole upload into memory while the handler slept. Once the handler
// reads, the body arrives whole and a pipelined request after it is
// answered.
func TestBlockingFullPipeStopsReading(t *testing.T) {
	if e := os.Getenv("EVHTTPD_ENGINE"); e != "" && e != "gnet" {
		t.Skip("the netpoll engine cannot pause reading; its bound is the input cap")
	}
	srv := startTest(t, Config{EventLoops: 1, BlockingPrebuffer: -1, MaxBodySize: 1 << 30,
		RecvWaitTimeout: time.Minute, BodyTimeout: time.Minute, MinBodyRate: -1})
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before Stop, which waits for the handler
	mustRegister(t, srv,
		URIHandler{URI: "/up", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			<-release
			n, err := io.Copy(io.Discard, r)
			if err != nil {
				return err
			}
			return r.SendString(strconv.FormatInt(n, 10))
		}},
		URIHandler{URI: "/after", Method: "GET", Handler: sendString("after")})
	rc := dial(t, srv)
	tc := rc.c.(*net.TCPConn)
	_ = tc.SetWriteBuffer(8 << 10)
	const size = 16 << 20
	rc.write(fmt.Sprintf("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", size))
	chunk := make([]byte, 64<<10)
	sent := rc.writeUntilBlocked(chunk, size)
	if b := srv.Stats().Buffered; b > 4<<20 {
		t.Errorf("server holds %d B of a body its handler does not read", b)
	}
	t.Logf("client sent %d B before its writes blocked", sent)
	free()
	done := make(chan error, 1)
	go func() {
		for sent < size {
			rc.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			n, err := rc.c.Write(chunk[:min(len(chunk), size-sent)])
			sent += n
			if err != nil {
				done <- err
				return
			}
		}
		rc.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
		_, err := io.WriteString(rc.c, req("GET", "/after"))
		done <- err
	}()
	if resp := rc.response("POST"); resp.StatusCode != 200 || bodyOf(resp) != strconv.Itoa(size) {
		t.Fatalf("upload: %d %q", resp.StatusCode, bodyOf(resp))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if resp := rc.response("GET"); bodyOf(resp) != "after" {
		t.Fatalf("pipelined request after the upload: %q", bodyOf(resp))
	}
}

// writeUntilBlocked writes chunk (the last time cut to fit) until limit
// bytes went or a write blocks for a second, and returns how many went. It
// fails the test unless a write blocked: the server stopped reading.
func (rc *rawClient) writeUntilBlocked(chunk []byte, limit int) int {
	rc.t.Helper()
	sent := 0
	var werr error
	for sent < limit {
		rc.c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := rc.c.Write(chunk[:min(len(chunk), limit-sent)])
		sent += n
		if err != nil {
			werr = err
			break
		}
	}
	var ne net.Error
	if !errors.As(werr, &ne) || !ne.Timeout() {
		rc.t.Fatalf("after %d bytes the client's write failed with %v; want it to block (a timeout)", sent, werr)
	}
	return sent
}
