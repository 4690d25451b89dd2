package httpd

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// TestWSSendDuringHandshake: frames a handler sends while it accepts the
// handshake go out right after the 101, in order (compressed when
// permessage-deflate was negotiated); frames sent before a refusal never
// leave; a close sent during the handshake follows the 101 and ends the
// session.
func TestWSSendDuringHandshake(t *testing.T) {
	srv := startTest(t, Config{})
	long := strings.Repeat("a welcome long enough to be compressed. ", 4)
	handler := func(r *Request) error {
		if r.IsWSHandshake() {
			if err := r.WSSend(WSFrame{Type: WSText, Payload: []byte("welcome")}); err != nil {
				return err
			}
			if err := r.WSSend(WSFrame{Type: WSText, Payload: []byte(long)}); err != nil {
				return err
			}
			switch string(r.Header("X-Then")) {
			case "refuse":
				return r.SendErr(403, "no")
			case "close":
				return r.WSSend(WSCloseFrame(4000, "bye"))
			}
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(f)
	}
	wsEcho(t, srv, URIHandler{Handler: handler})
	mustRegister(t, srv, URIHandler{URI: "/deflate", Method: "GET", IsWebSocket: true, WSDeflate: &ws.DeflateConfig{}, Handler: handler})

	for _, tc := range []struct {
		name, path string
		hdrs       []string
	}{
		{"plain", "/ws", nil},
		{"deflate", "/deflate", []string{"Sec-WebSocket-Extensions: permessage-deflate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := wsCaseDial(t, srv, tc.path, tc.hdrs...)
			if tc.name == "deflate" && !c.deflate {
				t.Fatal("permessage-deflate not negotiated")
			}
			c.expect(0, text("welcome"))
			c.expect(1, text(long))
			c.sendFrames(chopWhole, text("echo"))
			c.expect(2, text("echo"))
			c.finish()
		})
	}

	t.Run("refused after sending", func(t *testing.T) {
		rc := dial(t, srv)
		rc.write(req("GET", "/ws", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey,
			"Sec-WebSocket-Version: 13", "X-Then: refuse"))
		resp := rc.response("GET")
		if resp.StatusCode != 403 || bodyOf(resp) != "no" {
			t.Fatalf("refusal = %d %q; want 403 no", resp.StatusCode, bodyOf(resp))
		}
		// Still HTTP, and nothing of the held frames on the wire.
		rc.write(req("GET", "/nothing"))
		if resp := rc.response("GET"); resp.StatusCode != 404 {
			t.Fatalf("next reply %d; want 404", resp.StatusCode)
		}
	})

	t.Run("close during the handshake", func(t *testing.T) {
		c := wsCaseDial(t, srv, "/ws", "X-Then: close")
		c.expect(0, text("welcome"))
		c.expect(1, text(long))
		h, p, err := c.next()
		if err != nil || h.Op != ws.OpClose || !bytes.Equal(p, closeP(4000, "bye")) {
			t.Fatalf("frame = %v %q, %v; want close 4000 bye", h.Op, p, err)
		}
		if !c.closedByPeer(5 * time.Second) {
			t.Fatal("no EOF after the close")
		}
	})

	t.Run("same segment as the handshake", func(t *testing.T) {
		// The handshake and a message in one write: the welcome still
		// comes first, then the echo.
		rc := dial(t, srv)
		c := &wsTestConn{wsClient: &wsClient{rc}, t: t, rng: rand.New(rand.NewPCG(3, 3))}
		c.fp.Config.RejectMask = true
		b := []byte(req("GET", "/ws", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13"))
		b = c.encode(b, text("right behind"))
		c.writeStream(b, chopWhole)
		rc.c.SetReadDeadline(time.Now().Add(wsCaseTimeout))
		resp, err := http.ReadResponse(rc.br, &http.Request{Method: "GET"})
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake = %v, %v; want 101", resp, err)
		}
		c.expect(0, text("welcome"))
		c.expect(1, text(long))
		c.expect(2, text("right behind"))
		c.finish()
	})
}

// TestWSSendRefusesForbiddenFrames: WSSend refuses, with its documented
// error, every frame RFC 6455 forbids a server to send, sends nothing for
// it, and leaves a fragmented message in progress as it was; text is
// validated across the fragments of a message.
func TestWSSendRefusesForbiddenFrames(t *testing.T) {
	srv := startTest(t, Config{})
	type step struct {
		f   WSFrame
		err error
	}
	p := func(s string) []byte { return []byte(s) }
	steps := []step{
		{WSFrame{Type: WSText, Payload: p("bad \xff")}, ErrWSInvalidUTF8},
		{WSFrame{Type: WSText, Payload: p("\xed\xa0\x80")}, ErrWSInvalidUTF8}, // a surrogate
		{WSFrame{Type: WSText, Payload: p("cut \xe2\x82")}, ErrWSInvalidUTF8},
		{WSFrame{Type: WSContinue, Fragmented: true, Payload: p("x")}, ErrWSNoMessage},
		{WSFrame{Type: WSContinue, Payload: p("x")}, ErrWSNoMessage},
		{WSFrame{Type: WSPing, Payload: bytes.Repeat(p("x"), 126)}, ErrWSControlFrame},
		{WSFrame{Type: WSPong, Fragmented: true, Payload: p("x")}, ErrWSControlFrame},
		{WSFrame{Type: WSClose, Payload: p("\x03")}, ErrWSClosePayload},
		{WSFrame{Type: WSClose, Payload: closeP(1005, "")}, ErrWSClosePayload},
		{WSFrame{Type: WSClose, Payload: closeP(1000, "\xff")}, ErrWSClosePayload},
		{WSFrame{Type: 3, Payload: p("x")}, ErrWSOpcode},
		{WSFrame{Type: 0xB}, ErrWSOpcode},
		// A fragmented text message whose code points span fragments.
		{WSFrame{Type: WSText, Fragmented: true, Payload: p("ab\xe2")}, nil},
		{WSFrame{Type: WSBinary, Payload: p("x")}, ErrWSMessageOpen},
		{WSFrame{Type: WSText, Fragmented: true, Payload: p("x")}, ErrWSMessageOpen},
		{WSFrame{Type: WSPing, Payload: p("mid")}, nil}, // control frames may come between fragments
		{WSFrame{Type: WSContinue, Fragmented: true, Payload: p("\x82")}, nil},
		{WSFrame{Type: WSContinue, Fragmented: true, Final: true, Payload: p("\xff")}, ErrWSInvalidUTF8},
		{WSFrame{Type: WSContinue, Fragmented: true, Final: true}, ErrWSInvalidUTF8}, // would end inside a code point
		{WSFrame{Type: WSContinue, Fragmented: true, Final: true, Payload: p("\xac!")}, nil},
		{WSFrame{Type: WSContinue, Fragmented: true, Final: true, Payload: p("x")}, ErrWSNoMessage},
		// Binary is not checked; its fragments follow the same order rules.
		{WSFrame{Type: WSBinary, Fragmented: true, Payload: p("\xff")}, nil},
		{WSFrame{Type: WSContinue, Fragmented: true, Final: true, Payload: p("\xfe")}, nil},
		{WSFrame{Type: WSText, Payload: p("end")}, nil},
	}
	errs := make(chan []error, 1)
	wsEcho(t, srv, URIHandler{Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		var got []error
		for _, s := range steps {
			got = append(got, r.WSSend(s.f))
		}
		errs <- got
		return nil
	}})
	c := wsCaseDial(t, srv, "/ws")
	c.sendFrames(chopWhole, text("go"))
	for i, w := range []wsF{frag(ws.OpText, "ab\xe2"), ctl(ws.OpPing, []byte("mid")), frag(ws.OpContinuation, "\x82"),
		final(ws.OpContinuation, "\xac!"), frag(ws.OpBinary, "\xff"), final(ws.OpContinuation, "\xfe"), text("end")} {
		c.expect(i, w)
	}
	got := <-errs
	for i, s := range steps {
		if got[i] != s.err {
			t.Errorf("step %d: WSSend(%v fragmented=%v final=%v %q) = %v; want %v", i, s.f.Type, s.f.Fragmented, s.f.Final, s.f.Payload, got[i], s.err)
		}
	}
	c.finish()
}

// TestWSSendAsyncChecks: WSSendAsync reports at once what it can know (a
// session that is not a WebSocket, a frame no server may send whatever
// came before), reports what only the loop can see as an EventError, and
// queues frames for a session in its handshake, which leave after the 101.
func TestWSSendAsyncChecks(t *testing.T) {
	events := make(eventRecorder, 16)
	srv := startTest(t, Config{OnEvent: events.onEvent})
	queued := make(chan error, 1)
	ids := make(chan SessionID, 4)
	mustRegister(t, srv, URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error {
		ids <- r.Session().ID()
		return r.SendString("ok")
	}})
	wsEcho(t, srv, URIHandler{Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			id := r.Session().ID()
			ids <- id
			if r.Header("X-Queue") != nil {
				// From another goroutine while the handshake is decided.
				go func() {
					queued <- srv.WSSendAsync(id, WSFrame{Type: WSText, Payload: []byte("queued during the handshake")})
				}()
				if err := <-queued; err != nil {
					return err
				}
				if string(r.Header("X-Queue")) == "refuse" {
					return r.SendErr(403, "")
				}
			}
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(f)
	}})

	// An HTTP session.
	rc := dial(t, srv)
	rc.write(req("GET", "/id"))
	rc.response("GET")
	httpID := <-ids
	if err := srv.WSSendAsync(httpID, WSFrame{Type: WSText, Payload: []byte("x")}); err != ErrNotWebSocket {
		t.Errorf("WSSendAsync(HTTP session) = %v; want %v", err, ErrNotWebSocket)
	}

	// A frame queued during the handshake follows the 101.
	c := wsCaseDial(t, srv, "/ws", "X-Queue: accept")
	id := <-ids
	c.expect(0, text("queued during the handshake"))

	// Frames no server may send are refused at the call.
	for _, tc := range []struct {
		f   WSFrame
		err error
	}{
		{WSFrame{Type: WSText, Payload: []byte("\xc0\xaf")}, ErrWSInvalidUTF8},
		{WSFrame{Type: WSText, Fragmented: true, Payload: []byte("\xff")}, ErrWSInvalidUTF8},
		{WSFrame{Type: WSPing, Payload: make([]byte, 126)}, ErrWSControlFrame},
		{WSFrame{Type: WSClose, Payload: []byte{3}}, ErrWSClosePayload},
		{WSFrame{Type: 7}, ErrWSOpcode},
	} {
		if err := srv.WSSendAsync(id, tc.f); err != tc.err {
			t.Errorf("WSSendAsync(%v %s) = %v; want %v", tc.f.Type, wsShow(tc.f.Payload), err, tc.err)
		}
	}
	// What depends on the message in progress is seen on the loop: the
	// frame is dropped and reported.
	if err := srv.WSSendAsync(id, WSFrame{Type: WSContinue, Fragmented: true, Final: true, Payload: []byte("orphan")}); err != nil {
		t.Fatalf("WSSendAsync(continuation) = %v; want nil (checked on the loop)", err)
	}
	if ev := events.next(t); ev.ID != id || ev.Err != ErrWSNoMessage {
		t.Errorf("EventError = session %v, %v; want session %v, %v", ev.ID, ev.Err, id, ErrWSNoMessage)
	}
	if err := srv.WSSendAsync(id, WSFrame{Type: WSText, Payload: []byte("after")}); err != nil {
		t.Fatal(err)
	}
	c.expect(1, text("after")) // the orphan never left
	c.finish()

	// A frame queued during a handshake that is then refused is dropped
	// and reported.
	rc = dial(t, srv)
	rc.write(req("GET", "/ws", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13", "X-Queue: refuse"))
	if resp := rc.response("GET"); resp.StatusCode != 403 {
		t.Fatalf("refused handshake = %d; want 403", resp.StatusCode)
	}
	refused := <-ids
	for ev := events.next(t); ; ev = events.next(t) {
		if ev.ID == refused && ev.Err == ErrNotWebSocket {
			break
		}
		if !errors.Is(ev.Err, ErrWSRefused) {
			t.Fatalf("EventError = %v; want the refusal, then %v", ev.Err, ErrNotWebSocket)
		}
	}
}
