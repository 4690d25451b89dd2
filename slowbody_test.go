package httpd

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// trickle writes body one byte every gap until it is all sent, a write
// fails or stop is closed.
func trickle(c net.Conn, body string, gap time.Duration, stop <-chan struct{}) {
	for i := 0; i < len(body); i++ {
		select {
		case <-stop:
			return
		case <-time.After(gap):
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, body[i:i+1]); err != nil {
			return
		}
	}
}

// expect408Close reads one reply within d and checks it is 408 and that the
// connection then ends.
func expect408Close(t *testing.T, rc *rawClient, d time.Duration) {
	t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(d))
	resp := rc.response("POST")
	if resp.StatusCode != 408 {
		t.Fatalf("status %d; want 408", resp.StatusCode)
	}
	if !resp.Close {
		t.Error("408 without Connection: close")
	}
	if !rc.closedByPeer(5 * time.Second) {
		t.Error("connection still open after the 408")
	}
}

// TestSlowBodyTimedOut: a body that keeps arriving, but too slowly, is
// ended with 408 and close by MinBodyRate or BodyTimeout, whichever comes
// first, for loop and Blocking handlers and both framings. Each byte comes
// well within RecvWaitTimeout, so the gap timeout alone never fires; the
// body would take 30 s to finish and the reply must come long before.
func TestSlowBodyTimedOut(t *testing.T) {
	const n = 600 // bytes, one per 50ms: 30 s
	cases := []struct {
		name     string
		cfg      Config
		blocking bool
		chunked  bool
	}{
		{"rate/loop", Config{MinBodyRate: 1024}, false, false},
		{"rate/loop/chunked", Config{MinBodyRate: 1024}, false, true},
		{"rate/blocking", Config{MinBodyRate: 1024, BlockingPrebuffer: -1}, true, false},
		{"rate/blocking/prebuffered", Config{MinBodyRate: 1024}, true, false},
		{"rate/blocking/chunked", Config{MinBodyRate: 1024}, true, true},
		{"whole/loop", Config{MinBodyRate: -1, BodyTimeout: time.Second}, false, false},
		{"whole/blocking/chunked", Config{MinBodyRate: -1, BodyTimeout: time.Second}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.RecvWaitTimeout = time.Second
			srv := startTest(t, cfg)
			mustRegister(t, srv, URIHandler{URI: "/up", Method: "POST", Blocking: tc.blocking, Handler: func(r *Request) error {
				if tc.blocking {
					if _, err := io.Copy(io.Discard, readerFunc(r.Recv)); err != nil {
						return err
					}
				}
				return r.SendString("done")
			}})
			rc := dial(t, srv)
			body := string(make([]byte, n))
			head := fmt.Sprintf("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n", n)
			if tc.chunked {
				head = "POST /up HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
				body = fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", n, body)
			}
			rc.write(head)
			stop := make(chan struct{})
			defer close(stop)
			go trickle(rc.c, body, 50*time.Millisecond, stop)
			expect408Close(t, rc, 15*time.Second)
		})
	}
}

// readerFunc adapts Request.Recv to io.Reader.
type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestBlockingPrebufferHoldsNoWorker: while a client sends a small body
// slowly to a Blocking handler, the body is received on the loop and no
// worker waits for it, so the only worker still serves other clients.
func TestBlockingPrebufferHoldsNoWorker(t *testing.T) {
	srv := startTest(t, Config{BlockingWorkers: 1, MinBodyRate: -1, RecvWaitTimeout: 5 * time.Second})
	mustRegister(t, srv, URIHandler{URI: "/up", Method: "POST", Blocking: true, Handler: func(r *Request) error {
		b, err := io.ReadAll(readerFunc(r.Recv))
		if err != nil {
			return err
		}
		return r.SendString(fmt.Sprint(len(b)))
	}})
	slow := dial(t, srv)
	slow.write("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 20\r\n\r\n")
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); trickle(slow.c, "0123456789abcdefghij", 100*time.Millisecond, stop) }()
	defer func() { close(stop); <-done }()
	time.Sleep(300 * time.Millisecond) // the slow body is under way
	for i := 0; i < 3; i++ {
		fast := dial(t, srv)
		fast.write("POST /up HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc")
		if resp := fast.response("POST"); resp.StatusCode != 200 || bodyOf(resp) != "3" {
			t.Fatalf("fast client %d: %d %q; want 200 \"3\" (the worker waits for the slow body)", i, resp.StatusCode, bodyOf(resp))
		}
	}
	<-done
	if resp := slow.response("POST"); resp.StatusCode != 200 || bodyOf(resp) != "20" {
		t.Fatalf("slow client: %d %q; want 200 \"20\"", resp.StatusCode, bodyOf(resp))
	}
}
