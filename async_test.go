package httpd

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestDetachedReply: a loop handler detaches its reply and a goroutine
// finishes it later through QueueWork-backed AsyncReply calls; a request
// pipelined behind it waits and is answered after, in order; a kept
// handle reports that the reply is over and touches nothing.
func TestDetachedReply(t *testing.T) {
	srv := startTest(t, Config{})
	handles := make(chan *AsyncReply, 4)
	mustRegister(t, srv,
		URIHandler{URI: "/later", Method: "GET", Handler: func(r *Request) error {
			a, err := r.Detach()
			if err != nil {
				return err
			}
			_ = r.SetHeader("X-Early", "set before detaching")
			handles <- a
			return nil
		}},
		URIHandler{URI: "/now", Method: "GET", Handler: sendString("now")},
	)
	rc := dial(t, srv)
	rc.write(req("GET", "/later") + req("GET", "/now"))
	a := <-handles
	// Nothing is sent while the reply is detached.
	rc.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := rc.br.Peek(1); len(n) != 0 {
		t.Fatal("bytes sent before the detached reply was written")
	}
	go func() {
		_ = a.Do(func(r *Request) error {
			_ = r.SetType("text/plain")
			return r.SendChunk([]byte("hello "))
		})
		time.Sleep(20 * time.Millisecond)
		_ = a.Do(func(r *Request) error { return r.SendChunk([]byte("world")) })
		_ = a.Done()
	}()
	resp := rc.response("GET")
	if resp.StatusCode != 200 || bodyOf(resp) != "hello world" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("detached reply: %d %q %q", resp.StatusCode, bodyOf(resp), resp.Header.Get("Content-Type"))
	}
	if resp := rc.response("GET"); resp.StatusCode != 200 || bodyOf(resp) != "now" {
		t.Fatalf("pipelined reply after it: %d %q", resp.StatusCode, bodyOf(resp))
	}
	// The handle is stale now: it reports so and reaches nothing.
	if err := a.Done(); !errors.Is(err, ErrAsyncDone) {
		t.Errorf("second Done = %v; want ErrAsyncDone", err)
	}
	if err := a.Do(func(r *Request) error { return r.SendString("late") }); !errors.Is(err, ErrAsyncDone) {
		t.Errorf("Do after Done = %v; want ErrAsyncDone", err)
	}
	rc.write(req("GET", "/now"))
	if resp := rc.response("GET"); bodyOf(resp) != "now" {
		t.Fatalf("next request: %q", bodyOf(resp))
	}

	// The client leaves while a reply is detached: the handle reports it.
	gone := dial(t, srv)
	gone.write(req("GET", "/later"))
	b := <-handles
	gone.c.Close()
	waitFor(t, "session closed", 5*time.Second, func() bool { return srv.Stats().Sessions == 1 })
	if err := b.Do(func(r *Request) error { return r.SendString("x") }); err == nil {
		t.Error("Do on a closed session's reply = nil; want an error")
	}
	if err := b.Done(); err == nil {
		t.Error("Done on a closed session's reply = nil; want an error")
	}

	// Over HTTP/1.0 the detached reply is an HTTP/1.0 reply.
	old := dial(t, srv)
	old.write("GET /later HTTP/1.0\r\n\r\n")
	c := <-handles
	_ = c.Do(func(r *Request) error { return r.SendString("ten") })
	_ = c.Done()
	resp = old.response("GET")
	if resp.ProtoMinor != 0 || bodyOf(resp) != "ten" || !resp.Close {
		t.Fatalf("HTTP/1.0 detached reply: proto 1.%d %q close=%v", resp.ProtoMinor, bodyOf(resp), resp.Close)
	}
}

// TestDetachRefused: Blocking handlers, WebSocket deliveries and finished
// replies cannot detach.
func TestDetachRefused(t *testing.T) {
	srv := startTest(t, Config{})
	got := make(chan error, 2)
	mustRegister(t, srv,
		URIHandler{URI: "/b", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			_, err := r.Detach()
			got <- err
			return r.SendString("b")
		}},
		URIHandler{URI: "/done", Method: "GET", Handler: func(r *Request) error {
			_ = r.SendString("done")
			_, err := r.Detach()
			got <- err
			return nil
		}},
	)
	for _, p := range []string{"/b", "/done"} {
		resp, err := http.Get("http://" + srv.Addr().String() + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err := <-got; !errors.Is(err, ErrCannotDetach) {
			t.Errorf("Detach in %s = %v; want ErrCannotDetach", p, err)
		}
	}
}
