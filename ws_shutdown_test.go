package httpd

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// shutdownServer starts a server (stopProbe checks the free callbacks and
// events) with a WebSocket echo at /ws and /id for keep-alive clients.
func shutdownServer(t *testing.T, p *stopProbe) *Server {
	t.Helper()
	srv, err := Start(p.config(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	wsEcho(t, srv, URIHandler{})
	mustRegister(t, srv, URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString("id") }})
	return srv
}

// expectGoingAway reads the server's close frame and checks it is 1001.
func expectGoingAway(t *testing.T, c *wsTestConn) {
	t.Helper()
	h, p, err := c.next()
	if err != nil || h.Op != ws.OpClose || len(p) < 2 || binary.BigEndian.Uint16(p) != uint16(ws.StatusGoingAway) {
		t.Fatalf("frame = %v %x, %v; want close 1001 (going away)", h.Op, p, err)
	}
}

// TestShutdownWebSocketGoingAway: Shutdown sends close 1001 to every
// WebSocket session and waits for the closing handshakes; idle keep-alive
// sessions close at once; once every client answered, Shutdown returns nil
// without waiting for ctx.
func TestShutdownWebSocketGoingAway(t *testing.T) {
	var p stopProbe
	srv := shutdownServer(t, &p)
	idle := dial(t, srv)
	idle.write(req("GET", "/id"))
	idle.response("GET")
	var clients []*wsTestConn
	for range 3 {
		c := wsCaseDial(t, srv, "/ws")
		c.sendFrames(chopWhole, text("before"))
		c.expect(0, text("before"))
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	if !idle.closedByPeer(10 * time.Second) {
		t.Error("idle keep-alive session not closed by Shutdown")
	}
	for _, c := range clients {
		expectGoingAway(t, c)
		// Answer as RFC 6455 §5.5.1 says, then close.
		c.sendFrames(chopWhole, ctl(ws.OpClose, closeP(1001, "")))
		if !c.closedByPeer(10 * time.Second) {
			t.Error("no EOF after the close 1001")
		}
		c.c.Close()
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown = %v; want nil: every client answered", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return after every client answered")
	}
	p.stopped.Store(true)
	time.Sleep(50 * time.Millisecond) // room for any stray callback
	p.check(t)
}

// TestShutdownWebSocketNoAnswer: a client that never answers the close
// 1001 is forced closed when ctx ends, and Shutdown says so with ctx's
// error; a client that answered in time is not affected.
func TestShutdownWebSocketNoAnswer(t *testing.T) {
	var p stopProbe
	srv := shutdownServer(t, &p)
	answering := wsCaseDial(t, srv, "/ws")
	silent := wsCaseDial(t, srv, "/ws")
	// Long enough for the close 1001 to be sent on a busy machine; the
	// silent client makes Shutdown wait it out in any case.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	expectGoingAway(t, answering)
	answering.sendFrames(chopWhole, ctl(ws.OpClose, closeP(1001, "")))
	if !answering.closedByPeer(10 * time.Second) {
		t.Error("no EOF after the answered close")
	}
	answering.c.Close()
	var err error
	select {
	case err = <-shut:
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return after its context ended")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v; want %v (a session had to be forced closed)", err, context.DeadlineExceeded)
	}
	// The silent client got the close too, then the forced close.
	expectGoingAway(t, silent)
	if !silent.closedByPeer(10 * time.Second) {
		t.Error("silent client not closed")
	}
	p.stopped.Store(true)
	time.Sleep(50 * time.Millisecond)
	p.check(t)
}
