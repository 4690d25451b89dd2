package httpd

import (
	"bytes"
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
