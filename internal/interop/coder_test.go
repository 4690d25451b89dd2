package interop

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestCoder drives /ws with coder/websocket in each of its compression modes.
func TestCoder(t *testing.T) {
	addr := startDemo(t)
	modes := []struct {
		name    string
		mode    websocket.CompressionMode
		deflate bool // whether the response must carry permessage-deflate
	}{
		{"disabled", websocket.CompressionDisabled, false},
		{"context-takeover", websocket.CompressionContextTakeover, true},
		{"no-context-takeover", websocket.CompressionNoContextTakeover, true},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), goClientTimeout)
			defer cancel()
			c := coderDial(ctx, t, addr, m.mode, m.deflate)
			for _, sz := range messageSizes {
				coderEcho(ctx, t, c, websocket.MessageText, []byte(textPayload(sz.n)), "text "+sz.name)
				coderEcho(ctx, t, c, websocket.MessageBinary, randomBytes(sz.n, uint64(sz.n)+1), "binary "+sz.name)
			}

			// Ping waits for its pong, which only a concurrent reader
			// sees: read the echo of a later message meanwhile.
			read := make(chan error, 1)
			go func() {
				typ, got, err := c.Read(ctx)
				if err == nil && (typ != websocket.MessageText || string(got) != "after ping") {
					err = &unexpected{typ.String(), got}
				}
				read <- err
			}()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := c.Write(ctx, websocket.MessageText, []byte("after ping")); err != nil {
				t.Fatalf("Write(after ping): %v", err)
			}
			if err := <-read; err != nil {
				t.Fatalf("Read(after ping): %v", err)
			}

			if err := c.Write(ctx, websocket.MessageText, []byte("Trigger async")); err != nil {
				t.Fatalf("Write(Trigger async): %v", err)
			}
			typ, got, err := c.Read(ctx)
			if err != nil || typ != websocket.MessageText || string(got) != "Async data" {
				t.Fatalf("after Trigger async: Read() = %v, %q, %v; want text %q", typ, got, err, "Async data")
			}

			// Close returns nil only when the server's close frame echoes
			// the status code (RFC 6455 §5.5.1).
			if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("Close(1000, bye): %v", err)
			}
		})
		t.Run(m.name+"-8MiB", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), goClientTimeout)
			defer cancel()
			c := coderDial(ctx, t, addr, m.mode, m.deflate)
			coderEcho(ctx, t, c, websocket.MessageText, []byte(textPayload(bigMessage)), "text 8MiB")
			coderEcho(ctx, t, c, websocket.MessageBinary, randomBytes(bigMessage, 9), "binary 8MiB")
			if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
				t.Fatalf("Close(1000, bye): %v", err)
			}
		})
	}
}

// coderDial opens /ws offering subprotocol chat and the given compression
// mode, and checks what the server accepted.
func coderDial(ctx context.Context, t *testing.T, addr string, mode websocket.CompressionMode, deflate bool) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{
		Subprotocols:    []string{"chat"},
		CompressionMode: mode,
		// Compress every message, the small ones too.
		CompressionThreshold: 1,
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	c.SetReadLimit(16 << 20)

	if got := c.Subprotocol(); got != "chat" {
		t.Errorf("Subprotocol() = %q; want %q", got, "chat")
	}
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if got := strings.Contains(ext, "permessage-deflate"); got != deflate {
		t.Errorf("Sec-WebSocket-Extensions = %q; deflate negotiated %v, want %v", ext, got, deflate)
	}
	return c
}

// coderEcho sends one message and checks that the same type and payload come
// back.
func coderEcho(ctx context.Context, t *testing.T, c *websocket.Conn, typ websocket.MessageType, payload []byte, what string) {
	t.Helper()
	if err := c.Write(ctx, typ, payload); err != nil {
		t.Fatalf("%s: Write: %v", what, err)
	}
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("%s: Read: %v", what, err)
	}
	if gotTyp != typ || !bytes.Equal(got, payload) {
		t.Fatalf("%s: echo = %v, %d bytes (%q); want %v, %d bytes", what, gotTyp, len(got), head(got), typ, len(payload))
	}
}

// unexpected reports a message other than the one a test waited for.
type unexpected struct {
	typ     string
	payload []byte
}

func (u *unexpected) Error() string {
	return "unexpected " + u.typ + " message " + string(head(u.payload))
}
