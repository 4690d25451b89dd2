package httpd

import (
	"errors"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// eventRecorder collects a server's EventError events.
type eventRecorder chan Event

func (e eventRecorder) onEvent(ev Event) {
	if ev.Kind == EventError {
		select {
		case e <- ev:
		default:
		}
	}
}

// next returns the next error event, failing the test after a while.
func (e eventRecorder) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no EventError")
	}
	return Event{}
}

// TestWSHandshakeRefusalEvents: every refused opening handshake is
// answered with the status of its rule and emits an EventError carrying
// that status and the reason (codec/ws's *HandshakeError, or ErrWSRefused
// when the handler refused it).
func TestWSHandshakeRefusalEvents(t *testing.T) {
	events := make(eventRecorder, 16)
	srv := startTest(t, Config{OnEvent: events.onEvent})
	wsEcho(t, srv, URIHandler{Handler: func(r *Request) error {
		if r.IsWSHandshake() {
			switch string(r.Header("X-Refuse")) {
			case "reply":
				return r.SendErr(403, "")
			case "error":
				return errors.New("handler failed")
			}
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(f)
	}})
	mustRegister(t, srv, URIHandler{URI: "/picky", Method: "GET", IsWebSocket: true,
		WSCheckOrigin: func(*Request) bool { return false }, Handler: func(*Request) error { return nil }})
	up := []string{"Upgrade: websocket", "Connection: Upgrade"}
	key := "Sec-WebSocket-Key: " + wsKey
	v13 := "Sec-WebSocket-Version: 13"
	cases := []struct {
		name   string
		proto  string // request line version
		path   string
		hdrs   []string
		status int
		err    error
	}{
		{"HTTP/1.0", "HTTP/1.0", "/ws", append(up, key, v13), 400, ws.ErrHandshakeHTTPVersion},
		{"no Upgrade", "", "/ws", []string{"Connection: Upgrade", key, v13}, 400, ws.ErrHandshakeUpgrade},
		{"no Connection token", "", "/ws", []string{"Upgrade: websocket", "Connection: keep-alive", key, v13}, 400, ws.ErrHandshakeConnection},
		{"version 8", "", "/ws", append(up, key, "Sec-WebSocket-Version: 8"), 426, ws.ErrHandshakeVersion},
		{"no version", "", "/ws", append(up, key), 426, ws.ErrHandshakeVersion},
		{"no key", "", "/ws", append(up, v13), 400, ws.ErrHandshakeNoKey},
		{"two keys", "", "/ws", append(up, key, key, v13), 400, ws.ErrHandshakeKeys},
		{"bad key", "", "/ws", append(up, "Sec-WebSocket-Key: AAAA", v13), 400, ws.ErrHandshakeBadKey},
		{"foreign origin", "", "/ws", append(up, key, v13, "Origin: http://evil.example"), 403, ws.ErrHandshakeOrigin},
		{"WSCheckOrigin", "", "/picky", append(up, key, v13), 403, ws.ErrHandshakeOrigin},
		{"handler replies", "", "/ws", append(up, key, v13, "X-Refuse: reply"), 403, ErrWSRefused},
		{"handler fails", "", "/ws", append(up, key, v13, "X-Refuse: error"), 500, ErrWSRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dial(t, srv)
			msg := req("GET", tc.path, tc.hdrs...)
			if tc.proto != "" {
				msg = "GET " + tc.path + " " + tc.proto + msg[len("GET "+tc.path+" HTTP/1.1"):]
			}
			rc.write(msg)
			resp := rc.response("GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.status)
			}
			ev := events.next(t)
			if ev.Status != tc.status || !errors.Is(ev.Err, tc.err) || ev.ID == 0 {
				t.Fatalf("EventError = status %d, err %v, session %v; want status %d, %v", ev.Status, ev.Err, ev.ID, tc.status, tc.err)
			}
			if tc.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Error("426 without Sec-WebSocket-Version: 13")
			}
		})
	}
	// A body on a handshake (declared, so the request is well framed).
	t.Run("body", func(t *testing.T) {
		rc := dial(t, srv)
		rc.write(req("GET", "/ws", append(up, key, v13, "Content-Length: 2")...) + "xy")
		if resp := rc.response("GET"); resp.StatusCode != 400 {
			t.Fatalf("status %d; want 400", resp.StatusCode)
		}
		if ev := events.next(t); ev.Status != 400 || !errors.Is(ev.Err, ws.ErrHandshakeBody) {
			t.Fatalf("EventError = %d %v; want 400 %v", ev.Status, ev.Err, ws.ErrHandshakeBody)
		}
	})
	// An accepted handshake emits none.
	c, resp := wsDial(t, srv, "/ws")
	if resp.StatusCode != 101 {
		t.Fatalf("handshake %d", resp.StatusCode)
	}
	c.send(ws.OpText, true, []byte("ok"))
	if _, p := c.read(); string(p) != "ok" {
		t.Fatalf("echo %q", p)
	}
	select {
	case ev := <-events:
		t.Fatalf("EventError %v after an accepted handshake", ev.Err)
	default:
	}
}
