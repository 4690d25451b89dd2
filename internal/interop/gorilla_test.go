package interop

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestGorilla drives /ws with gorilla/websocket, with and without
// permessage-deflate offered by the client.
func TestGorilla(t *testing.T) {
	addr := startDemo(t)
	for _, compress := range []bool{false, true} {
		name := "plain"
		if compress {
			name = "deflate"
		}
		t.Run(name, func(t *testing.T) {
			c, deadline := gorillaDial(t, addr, compress)
			for _, sz := range messageSizes {
				text := textPayload(sz.n)
				gorillaEcho(t, c, websocket.TextMessage, []byte(text), "text "+sz.name)
				gorillaEcho(t, c, websocket.BinaryMessage, randomBytes(sz.n, uint64(sz.n)), "binary "+sz.name)
			}

			// RFC 6455 §5.5.2: the server answers a ping with a pong carrying
			// the same application data. The pong handler runs inside
			// ReadMessage, so the echo of a message sent after the ping
			// arrives only after it.
			pong := make(chan string, 1)
			c.SetPongHandler(func(data string) error {
				select {
				case pong <- data:
				default:
				}
				return nil
			})
			if err := c.WriteControl(websocket.PingMessage, []byte("are you there"), deadline); err != nil {
				t.Fatalf("WriteControl(ping): %v", err)
			}
			gorillaEcho(t, c, websocket.TextMessage, []byte("after ping"), "after ping")
			select {
			case got := <-pong:
				if got != "are you there" {
					t.Errorf("pong payload = %q; want %q", got, "are you there")
				}
			default:
				t.Errorf("no pong before the echo of a message sent after the ping")
			}

			if err := c.WriteMessage(websocket.TextMessage, []byte("Trigger async")); err != nil {
				t.Fatalf("WriteMessage(Trigger async): %v", err)
			}
			typ, got, err := c.ReadMessage()
			if err != nil || typ != websocket.TextMessage || string(got) != "Async data" {
				t.Fatalf("after Trigger async: ReadMessage() = %d, %q, %v; want text %q", typ, got, err, "Async data")
			}

			gorillaClose(t, c, deadline)
		})
		t.Run(name+"-8MiB", func(t *testing.T) {
			c, deadline := gorillaDial(t, addr, compress)
			gorillaEcho(t, c, websocket.TextMessage, []byte(textPayload(bigMessage)), "text 8MiB")
			gorillaEcho(t, c, websocket.BinaryMessage, randomBytes(bigMessage, 8), "binary 8MiB")
			gorillaClose(t, c, deadline)
		})
	}
}

// gorillaDial opens /ws offering subprotocol chat and, if compress is set,
// permessage-deflate, and checks what the server accepted. Reads and writes
// on the connection fail at the returned deadline instead of hanging.
func gorillaDial(t *testing.T, addr string, compress bool) (*websocket.Conn, time.Time) {
	t.Helper()
	deadline := time.Now().Add(goClientTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	d := websocket.Dialer{
		Subprotocols:      []string{"chat"},
		EnableCompression: compress,
		HandshakeTimeout:  10 * time.Second,
	}
	c, resp, err := d.DialContext(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(deadline)
	_ = c.SetWriteDeadline(deadline)
	c.SetReadLimit(16 << 20)

	if got := c.Subprotocol(); got != "chat" {
		t.Errorf("Subprotocol() = %q; want %q", got, "chat")
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if got := strings.Contains(ext, "permessage-deflate"); got != compress {
		t.Errorf("Sec-WebSocket-Extensions = %q; deflate negotiated %v, want %v", ext, got, compress)
	}
	return c, deadline
}

// gorillaClose sends a close frame with 1000 and a reason and checks that
// the server answers with a close frame echoing the code (RFC 6455 §5.5.1).
func gorillaClose(t *testing.T, c *websocket.Conn, deadline time.Time) {
	t.Helper()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
		t.Fatalf("WriteControl(close): %v", err)
	}
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("after close: ReadMessage() error = %v; want close frame with code 1000", err)
	}
}

// gorillaEcho sends one message and checks that the same type and payload
// come back.
func gorillaEcho(t *testing.T, c *websocket.Conn, typ int, payload []byte, what string) {
	t.Helper()
	if err := c.WriteMessage(typ, payload); err != nil {
		t.Fatalf("%s: WriteMessage: %v", what, err)
	}
	gotTyp, got, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("%s: ReadMessage: %v", what, err)
	}
	if gotTyp != typ || !bytes.Equal(got, payload) {
		t.Fatalf("%s: echo = type %d, %d bytes (%q); want type %d, %d bytes", what, gotTyp, len(got), head(got), typ, len(payload))
	}
}

// head returns at most the first 40 bytes of b, for failure messages.
func head(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
