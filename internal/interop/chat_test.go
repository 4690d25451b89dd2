package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestChatRoom drives the demo's /chat with gorilla/websocket: each member
// is greeted right after the 101 (a frame sent during the handshake), a
// message reaches every member, and a member that left is dropped from the
// room by the handler's close hook (the others keep chatting; nothing is
// sent to the one gone).
func TestChatRoom(t *testing.T) {
	addr := startDemo(t)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/chat", nil)
		if err != nil {
			t.Fatalf("Dial /chat: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	read := func(c *websocket.Conn, what string) string {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, b, err := c.ReadMessage()
		if err != nil || typ != websocket.TextMessage {
			t.Fatalf("%s: %v (type %d)", what, err, typ)
		}
		return string(b)
	}
	a := dial()
	if got := read(a, "a's greeting"); !strings.HasPrefix(got, "welcome, member ") || !strings.HasSuffix(got, "; 1 here") {
		t.Fatalf("a's greeting %q", got)
	}
	b := dial()
	if got := read(b, "b's greeting"); !strings.HasSuffix(got, "; 2 here") {
		t.Fatalf("b's greeting %q", got)
	}
	if err := a.WriteMessage(websocket.TextMessage, []byte("hello room")); err != nil {
		t.Fatal(err)
	}
	ma, mb := read(a, "a's copy"), read(b, "b's copy")
	if ma != mb || !strings.HasSuffix(ma, ": hello room") {
		t.Fatalf("broadcast: a got %q, b got %q", ma, mb)
	}
	// b leaves; the room forgets it and the next member counts one less.
	b.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	b.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial()
		got := read(c, "greeting")
		c.Close()
		if strings.HasSuffix(got, "; 2 here") {
			break // a and this one: b is gone
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still counted after leaving: %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if got := read(a, "a's copy after b left"); !strings.HasSuffix(got, ": still here") {
		t.Fatalf("after b left: %q", got)
	}
}
