package bridgeinterop

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
)

// wsPayload is a message of n bytes that deflate shrinks but not to
// nothing: text-like runs with random bytes among them.
func wsPayload(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	words := []string{"alpha ", "beta ", "gamma ", "delta ", "evhttpd ", "bridge "}
	for i := 0; i < n; {
		if rng.IntN(8) == 0 {
			b[i] = byte(rng.Uint32())
			i++
			continue
		}
		i += copy(b[i:], words[rng.IntN(len(words))])
	}
	return b
}

const wsBig = 8 << 20

// TestGorillaServer runs gorilla/websocket's Upgrader through the bridge's
// Hijack, over TCP and TLS, with permessage-deflate: echo of a text
// message, an 8 MiB binary message and a burst of small ones, against
// gorilla's own client.
func TestGorillaServer(t *testing.T) {
	up := gorilla.Upgrader{EnableCompression: true, CheckOrigin: func(*http.Request) bool { return true }}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("Upgrade: %v", err)
			return
		}
		defer c.Close()
		c.SetReadLimit(16 << 20)
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			s := startBridge(t, secure, "/ws", h)
			url := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
			d := gorilla.Dialer{EnableCompression: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, HandshakeTimeout: 10 * time.Second}
			c, res, err := d.Dial(url, nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if ext := res.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Errorf("extensions %q", ext)
			}
			c.SetReadLimit(16 << 20)
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			check := func(mt int, msg []byte) {
				t.Helper()
				if err := c.WriteMessage(mt, msg); err != nil {
					t.Fatal(err)
				}
				gt, got, err := c.ReadMessage()
				if err != nil || gt != mt || !bytes.Equal(got, msg) {
					t.Fatalf("echo of %d bytes: type %d, %d bytes, %v", len(msg), gt, len(got), err)
				}
			}
			check(gorilla.TextMessage, []byte("hello through the bridge"))
			check(gorilla.BinaryMessage, wsPayload(wsBig, 1))
			for i := 0; i < 100; i++ {
				check(gorilla.TextMessage, []byte(fmt.Sprintf("message %d", i)))
			}
			c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(5*time.Second))
		})
	}
}

// TestCoderServer runs coder/websocket's Accept through the bridge's
// Hijack, over TCP and TLS, with context-takeover compression: echo of a
// text message and an 8 MiB message against coder's own client.
func TestCoderServer(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: coder.CompressionContextTakeover})
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(16 << 20)
		ctx := r.Context()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			s := startBridge(t, secure, "/ws", h)
			url := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, res, err := coder.Dial(ctx, url, &coder.DialOptions{CompressionMode: coder.CompressionContextTakeover,
				HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.CloseNow()
			if ext := res.Header.Get("Sec-Websocket-Extensions"); !strings.Contains(ext, "permessage-deflate") {
				t.Errorf("extensions %q", ext)
			}
			c.SetReadLimit(16 << 20)
			for _, m := range []struct {
				typ coder.MessageType
				msg []byte
			}{{coder.MessageText, []byte("hello coder")}, {coder.MessageBinary, wsPayload(wsBig, 2)}, {coder.MessageText, []byte("after the big one")}} {
				if err := c.Write(ctx, m.typ, m.msg); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.Read(ctx)
				if err != nil || typ != m.typ || !bytes.Equal(got, m.msg) {
					t.Fatalf("echo of %d bytes: %v, %d bytes, %v", len(m.msg), typ, len(got), err)
				}
			}
			if err := c.Close(coder.StatusNormalClosure, "bye"); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}
