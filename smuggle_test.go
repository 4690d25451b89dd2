package httpd

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestUnreadBodyNeverParsed checks every path that answers a request
// without reading its body (refused WebSocket handshakes, 404, 405, 501,
// 413, 417, error handlers, 503 from a full worker pool, handlers that
// return without reading) against a body that holds a complete request:
// the body is drained or the session closed, and its bytes never become a
// second request (request smuggling: a front end sees one request where
// the server would see two).
func TestUnreadBodyNeverParsed(t *testing.T) {
	const smuggled = "GET /SMUGGLED HTTP/1.1\r\nHost: test\r\n\r\n"
	var hits atomic.Int64
	hold := make(chan struct{})
	holding := make(chan struct{}, 1)
	smuggledH := URIHandler{URI: "/SMUGGLED", Method: "GET", Handler: func(r *Request) error {
		hits.Add(1)
		return r.SendString("smuggled")
	}}
	probeH := URIHandler{URI: "/probe", Method: "GET", Handler: sendString("probe")}
	// busy has one worker, held, so its blocking requests get 503.
	busy := startTest(t, Config{BlockingWorkers: 1, EventLoops: 1})
	t.Cleanup(func() { close(hold) }) // before Stop, which waits for the worker
	mustRegister(t, busy, smuggledH, probeH,
		URIHandler{URI: "/hold", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			holding <- struct{}{}
			<-hold
			return r.SendString("held")
		}},
		URIHandler{URI: "/busy", Method: "POST", Blocking: true, Handler: sendString("busy")},
	)
	srv := startTest(t, Config{EventLoops: 1})
	mustRegister(t, srv, smuggledH, probeH,
		URIHandler{URI: "/ws", Method: "GET", IsWebSocket: true, Handler: func(r *Request) error { return nil }},
		URIHandler{URI: "/ws-refuse", Method: "GET", IsWebSocket: true, Handler: func(r *Request) error {
			if r.IsWSHandshake() {
				return r.SendErr(403, "")
			}
			return nil
		}},
		URIHandler{URI: "/ws-origin", Method: "GET", IsWebSocket: true, Handler: func(r *Request) error { return nil },
			WSCheckOrigin: func(*Request) bool { return false }},
		URIHandler{URI: "/get-only", Method: "GET", Handler: sendString("get")},
		URIHandler{URI: "/small", Method: "POST", Handler: sendString("small"), MaxBodySize: 8},
		URIHandler{URI: "/noread", Method: "POST", Blocking: true, Handler: sendString("noread")},
		URIHandler{URI: "/noread-err", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			_ = r.SendErr(400, "")
			return nil
		}},
	)
	if err := srv.RegisterErrHandler(404, func(r *Request, status int) error {
		return r.SendErr(404, "custom not found")
	}); err != nil {
		t.Fatal(err)
	}
	// Hold the only worker, so /busy is refused with 503.
	holder := dial(t, busy)
	holder.write(req("GET", "/hold"))
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		t.Fatal("the holding handler did not start")
	}

	wsHead := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	paths := []struct {
		name, method, target, headers string
		status                        int
	}{
		{"ws body", "GET", "/ws", wsHead + "Sec-WebSocket-Version: 13\r\n", 400},
		{"ws version", "GET", "/ws", wsHead + "Sec-WebSocket-Version: 8\r\n", 400},
		{"ws bad key", "GET", "/ws", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n", 400},
		{"ws no upgrade", "GET", "/ws", "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", 400},
		{"ws handler refuses", "GET", "/ws-refuse", wsHead + "Sec-WebSocket-Version: 13\r\n", 400},
		{"ws origin", "GET", "/ws-origin", wsHead + "Sec-WebSocket-Version: 13\r\nOrigin: http://evil.example\r\n", 400},
		{"ws POST", "POST", "/ws", wsHead + "Sec-WebSocket-Version: 13\r\n", 400},
		{"404 custom", "POST", "/nothing", "", 404},
		{"405", "POST", "/get-only", "", 405},
		{"501", "BREW", "/get-only", "", 501},
		{"413", "POST", "/small", "", 413},
		{"417", "POST", "/probe", "Expect: 103-early\r\n", 417},
		{"blocking no read", "POST", "/noread", "", 200},
		{"blocking error reply", "POST", "/noread-err", "", 400},
		{"503 pool full", "POST", "/busy", "", 503},
	}
	framings := []struct {
		name string
		head func(body string) string
		body func(body string) string
	}{
		{"content-length",
			func(b string) string { return fmt.Sprintf("Content-Length: %d\r\n", len(b)) },
			func(b string) string { return b }},
		{"chunked",
			func(string) string { return "Transfer-Encoding: chunked\r\n" },
			func(b string) string { return fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(b), b) }},
		{"chunked tail",
			// The complete request is in the chunk data after a first chunk,
			// and the last chunk is sent apart.
			func(string) string { return "Transfer-Encoding: chunked\r\n" },
			func(b string) string { return fmt.Sprintf("1\r\nx\r\n%x\r\n%s\r\n0\r\n\r\n", len(b), b) }},
	}
	for _, p := range paths {
		for _, f := range framings {
			for _, split := range []bool{false, true} {
				name := p.name + "/" + f.name
				if split {
					name += "/byte-by-byte"
				}
				t.Run(name, func(t *testing.T) {
					before := hits.Load()
					target := srv
					if p.status == 503 {
						target = busy
					}
					rc := dial(t, target)
					msg := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\n%s%s\r\n%s",
						p.method, p.target, p.headers, f.head(smuggled), f.body(smuggled))
					if split {
						rc.writeSplit(msg, 1)
					} else {
						rc.write(msg)
					}
					// A follow-up request: answered if the session stayed
					// open, never mistaken for the body.
					_, _ = io.WriteString(rc.c, req("GET", "/probe"))
					statuses := readAll(t, rc, 10*time.Second)
					if hits.Load() != before {
						t.Fatalf("the body was parsed as a request; replies %v", statuses)
					}
					if len(statuses) == 0 {
						t.Fatalf("no reply; want %d", p.status)
					}
					if p.status != 400 && statuses[0] != p.status || p.status == 400 && statuses[0]/100 != 4 {
						t.Fatalf("first reply %d; want %d (replies %v)", statuses[0], p.status, statuses)
					}
					switch {
					case len(statuses) == 1: // closed after the reply
					case len(statuses) == 2 && statuses[1] == 200: // drained, then the probe
					default:
						t.Fatalf("replies %v; want %d then at most the probe's 200", statuses, p.status)
					}
				})
			}
		}
	}
}

// readAll reads replies until the server closes the connection or nothing
// more arrives for a while, returning their statuses.
func readAll(t *testing.T, rc *rawClient, wait time.Duration) []int {
	t.Helper()
	var statuses []int
	br := bufio.NewReader(rc.c)
	for {
		d := wait
		if len(statuses) > 0 {
			d = 2 * time.Second
		}
		rc.c.SetReadDeadline(time.Now().Add(d))
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && len(statuses) == 0 {
				t.Fatalf("no reply within %v", d)
			}
			return statuses
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		// The probe's reply is the last one the client can expect.
		if err != nil || string(body) == "probe" || strings.EqualFold(resp.Header.Get("Connection"), "close") {
			return statuses
		}
		if len(statuses) >= 4 {
			return statuses
		}
	}
}
