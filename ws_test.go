package httpd

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// wsClient is a minimal RFC 6455 client over a raw connection, built from
// the codec; the interop module tests against independent clients.
type wsClient struct {
	*rawClient
}

func wsDial(t testing.TB, srv *Server, path string, extra ...string) (*wsClient, *http.Response) {
	t.Helper()
	rc := dial(t, srv)
	hdrs := append([]string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: " + wsKey, "Sec-WebSocket-Version: 13"}, extra...)
	rc.write(req("GET", path, hdrs...))
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatalf("handshake reply: %v", err)
	}
	return &wsClient{rc}, resp
}

func (c *wsClient) send(op ws.Opcode, fin bool, payload []byte) {
	c.t.Helper()
	c.write(string(ws.AppendMaskedFrame(nil, op, fin, 0, [4]byte{1, 2, 3, 4}, payload)))
}

// read returns the next frame from the server.
func (c *wsClient) read() (ws.Header, []byte) {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var p ws.FrameParser
	p.Config.RejectMask = true
	for {
		b, err := c.br.ReadByte()
		if err != nil {
			c.t.Fatalf("reading frame: %v", err)
		}
		_, h, err := p.ParseHeader([]byte{b})
		if err == ws.ErrNeedMore {
			continue
		}
		if err != nil {
			c.t.Fatalf("bad frame from server: %v", err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			c.t.Fatalf("reading payload: %v", err)
		}
		return h, payload
	}
}

func wsEcho(t testing.TB, srv *Server, hh URIHandler) {
	hh.URI, hh.Method, hh.IsWebSocket = "/ws", "GET", true
	if hh.Handler == nil {
		hh.Handler = func(r *Request) error {
			if r.IsWSHandshake() {
				return nil
			}
			f, _ := r.WSFrame()
			return r.WSSend(f)
		}
	}
	mustRegister(t, srv, hh)
}

func TestWSEchoSmoke(t *testing.T) {
	srv := startTest(t, Config{})
	wsEcho(t, srv, URIHandler{Subprotocols: []string{"chat"}})
	c, resp := wsDial(t, srv, "/ws", "Sec-WebSocket-Protocol: superchat, chat")
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		resp.Header.Get("Sec-WebSocket-Protocol") != "chat" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	c.send(ws.OpText, true, []byte("hello"))
	if h, p := c.read(); h.Op != ws.OpText || string(p) != "hello" {
		t.Fatalf("echo = %v %q", h.Op, p)
	}
	// Fragmented with an interleaved ping.
	c.send(ws.OpBinary, false, []byte("ab"))
	c.send(ws.OpPing, true, []byte("p"))
	c.send(ws.OpContinuation, true, []byte("cd"))
	if h, p := c.read(); h.Op != ws.OpPong || string(p) != "p" {
		t.Fatalf("pong = %v %q", h.Op, p)
	}
	if h, p := c.read(); h.Op != ws.OpBinary || string(p) != "abcd" {
		t.Fatalf("reassembled = %v %q", h.Op, p)
	}
	// Close is echoed.
	c.send(ws.OpClose, true, binary.BigEndian.AppendUint16(nil, 1000))
	if h, p := c.read(); h.Op != ws.OpClose || !bytes.Equal(p, []byte{0x03, 0xe8}) {
		t.Fatalf("close echo = %v %x", h.Op, p)
	}
	if !c.closedByPeer(3 * time.Second) {
		t.Error("not closed after the close handshake")
	}
}

func TestWSProtocolErrors(t *testing.T) {
	srv := startTest(t, Config{})
	wsEcho(t, srv, URIHandler{WSMaxMessage: 1000})
	cases := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"unmasked", ws.AppendFrame(nil, ws.OpText, true, 0, []byte("x")), 1002},
		{"rsv1 without extension", ws.AppendMaskedFrame(nil, ws.OpText, true, 4, [4]byte{1, 2, 3, 4}, []byte("x")), 1002},
		{"reserved opcode", ws.AppendMaskedFrame(nil, 3, true, 0, [4]byte{1, 2, 3, 4}, []byte("x")), 1002},
		{"continuation without start", ws.AppendMaskedFrame(nil, ws.OpContinuation, true, 0, [4]byte{1, 2, 3, 4}, []byte("x")), 1002},
		{"invalid utf-8", ws.AppendMaskedFrame(nil, ws.OpText, true, 0, [4]byte{1, 2, 3, 4}, []byte{0xc0, 0xaf}), 1007},
		{"too big", ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, [4]byte{1, 2, 3, 4}, make([]byte, 1001)), 1009},
		{"close code 1005", ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, [4]byte{1, 2, 3, 4}, []byte{0x03, 0xed}), 1002},
		{"close 1 byte", ws.AppendMaskedFrame(nil, ws.OpClose, true, 0, [4]byte{1, 2, 3, 4}, []byte{0x03}), 1002},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, resp := wsDial(t, srv, "/ws")
			if resp.StatusCode != 101 {
				t.Fatalf("handshake %d", resp.StatusCode)
			}
			c.write(string(tt.frame))
			h, p := c.read()
			if h.Op != ws.OpClose || len(p) < 2 || binary.BigEndian.Uint16(p) != tt.code {
				t.Fatalf("got %v %x; want close %d", h.Op, p, tt.code)
			}
		})
	}
}

func TestWSHandshakeRefusals(t *testing.T) {
	srv := startTest(t, Config{})
	wsEcho(t, srv, URIHandler{})
	base := []string{"Upgrade: websocket", "Connection: Upgrade"}
	cases := []struct {
		name   string
		hdrs   []string
		status int
	}{
		{"version 8", append(base, "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 8"), 426},
		{"no version", append(base, "Sec-WebSocket-Key: "+wsKey), 426},
		{"no key", append(base, "Sec-WebSocket-Version: 13"), 400},
		{"short key", append(base, "Sec-WebSocket-Key: AAAA", "Sec-WebSocket-Version: 13"), 400},
		{"two keys", append(base, "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13"), 400},
		{"no upgrade", []string{"Connection: Upgrade", "Sec-WebSocket-Key: " + wsKey, "Sec-WebSocket-Version: 13"}, 400},
		{"foreign origin", append(base, "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13", "Origin: http://evil.example"), 403},
		{"same origin", append(base, "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13", "Origin: http://test"), 101},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rc := dial(t, srv)
			rc.write(req("GET", "/ws", tt.hdrs...))
			resp := rc.response("GET")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Error("426 without Sec-WebSocket-Version: 13")
			}
		})
	}
}
