package main

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWSPeersEcho dials every WebSocket server with gorilla's client over a
// real socket and checks that a text and a binary message come back
// unchanged, with and without permessage-deflate.
func TestWSPeersEcho(t *testing.T) {
	text := "hello, echo"
	bin := bytes.Repeat([]byte("0123456789abcdef"), 64) // 1 KiB, compressible
	for _, server := range strings.Split(names(), ", ") {
		if !strings.HasPrefix(server, "ws-") {
			continue
		}
		for _, deflate := range []bool{false, true} {
			name := server
			if deflate {
				name += "/deflate"
			}
			t.Run(name, func(t *testing.T) {
				skipRacyPeer(t, server)
				addr := freeAddr(t)
				stop, err := servers[server](config{addr: addr, loops: 1, deflate: deflate})
				if deflate && errors.Is(err, errNoDeflate) {
					t.Skipf("%s: %v", server, err)
				}
				if err != nil {
					t.Fatalf("start %s: %v", server, err)
				}
				defer func() {
					if err := stop(); err != nil {
						t.Errorf("%s: stop = %v; want nil", server, err)
					}
				}()
				if err := waitListening(addr, 5*time.Second); err != nil {
					t.Fatal(err)
				}
				d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, EnableCompression: deflate}
				conn, resp, err := d.Dial("ws://"+addr+"/ws", nil)
				if err != nil {
					t.Fatalf("%s: dial: %v", server, err)
				}
				defer conn.Close()
				ext := resp.Header.Get("Sec-WebSocket-Extensions")
				if got := strings.Contains(ext, "permessage-deflate"); got != deflate {
					t.Errorf("%s: Sec-WebSocket-Extensions = %q; want permessage-deflate %v", server, ext, deflate)
				}
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				for _, m := range []struct {
					typ int
					p   []byte
				}{{websocket.TextMessage, []byte(text)}, {websocket.BinaryMessage, bin}} {
					if err := conn.WriteMessage(m.typ, m.p); err != nil {
						t.Fatalf("%s: write: %v", server, err)
					}
					typ, got, err := conn.ReadMessage()
					if err != nil {
						t.Fatalf("%s: read: %v", server, err)
					}
					if typ != m.typ || !bytes.Equal(got, m.p) {
						t.Errorf("%s: echo of %d-byte type %d = %d bytes type %d; want the same", server, len(m.p), m.typ, len(got), typ)
					}
				}
				// A request for any other path is not upgraded.
				r, err := http.Get("http://" + addr + "/nope")
				if err == nil {
					r.Body.Close()
					if r.StatusCode == http.StatusSwitchingProtocols {
						t.Errorf("%s: GET /nope = 101; want a refusal", server)
					}
				}
			})
		}
	}
}

// skipRacyPeer skips the nbio servers under the race detector: nbio v1.6.7's
// listener goroutine writes a connection's remote address
// (nbhttp/engine.go:340) that its poller goroutine then reads
// (processor.go:230) with no synchronisation the detector can see, so every
// nbio test fails there before reaching this module's code.
func skipRacyPeer(t *testing.T, server string) {
	t.Helper()
	if raceEnabled && (server == "nbio" || server == "ws-nbio") {
		t.Skipf("%s: data race inside nbio v1.6.7 (listener vs poller on RemoteAddr)", server)
	}
}
