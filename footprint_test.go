package httpd

import (
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/sessions"
)

// TestIdleFootprint: an idle keep-alive session holds its Session struct
// and a slab slot, and no request state (parser, decoder, body, staging
// buffer, deadlines). The
// budget is 512 bytes of slab and parser state per idle session.
func TestIdleFootprint(t *testing.T) {
	size := int(unsafe.Sizeof(Session{})) + sessions.SlotBytes
	t.Logf("idle session state: Session %d B + slot %d B = %d B", unsafe.Sizeof(Session{}), sessions.SlotBytes, size)
	if size > 512 {
		t.Errorf("idle session state %d B; budget 512 B", size)
	}
	srv := startTest(t, Config{})
	mustRegister(t, srv, URIHandler{URI: "/x", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }})
	rc := dial(t, srv)
	rc.write("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	if got := bodyOf(rc.response("POST")); got != "abc" {
		t.Fatalf("reply %q", got)
	}
	rc.write(req("POST", "/x", "Content-Length: 2") + "hi")
	rc.response("POST")
	ids := srv.Clients(nil)
	if len(ids) != 1 {
		t.Fatalf("Clients = %v", ids)
	}
	done := make(chan string, 1)
	if err := srv.QueueWork(ids[0], func(s *Session) {
		switch {
		case s.reqState != nil:
			done <- "request state held (parser, decoder, buffers or deadlines)"
		case s.ws != nil:
			done <- "WebSocket state on an HTTP session"
		default:
			done <- ""
		}
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-done:
		if msg != "" {
			t.Errorf("idle session: %s", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued work did not run")
	}
}

// TestSessionAddrs: the addresses a session reports are the client's and
// the listener's, in their usual text form (IPv4 not shown as IPv6).
func TestSessionAddrs(t *testing.T) {
	srv := startTest(t, Config{})
	got := make(chan [2]string, 1)
	mustRegister(t, srv, URIHandler{URI: "/", Method: "GET", Handler: func(r *Request) error {
		got <- [2]string{r.Session().RemoteAddr().String(), r.Session().LocalAddr().String()}
		return r.SendString("x")
	}})
	rc := dial(t, srv)
	rc.write(req("GET", "/"))
	rc.response("GET")
	select {
	case a := <-got:
		if a[0] != rc.c.LocalAddr().String() || a[1] != rc.c.RemoteAddr().String() {
			t.Errorf("session addrs remote=%s local=%s; client sees local=%s remote=%s", a[0], a[1], rc.c.LocalAddr(), rc.c.RemoteAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not run")
	}
}

// TestRequestAddrs: Request.RemoteAddr, LocalAddr and RemoteAddrPort give
// the client's and the listener's addresses, in a loop handler and in a
// Blocking one, for every request of a keep-alive session; RemoteAddrPort
// allocates nothing.
func TestRequestAddrs(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	got := make(chan [4]string, 4)
	h := func(r *Request) error {
		allocs := "-"
		if !raceEnabled && !r.blocking {
			allocs = strconv.Itoa(int(testing.AllocsPerRun(10, func() { _ = r.RemoteAddrPort() })))
		}
		got <- [4]string{r.RemoteAddr().String(), r.LocalAddr().String(), r.RemoteAddrPort().String(), allocs}
		return r.SendString("x")
	}
	mustRegister(t, srv, URIHandler{URI: "/loop", Method: "GET", Handler: h},
		URIHandler{URI: "/blocking", Method: "GET", Handler: h, Blocking: true})
	rc := dial(t, srv)
	for _, path := range []string{"/loop", "/blocking", "/loop", "/blocking"} {
		rc.write(req("GET", path))
		if resp := rc.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("%s -> %d", path, resp.StatusCode)
		}
		a := <-got
		client, server := rc.c.LocalAddr().String(), rc.c.RemoteAddr().String()
		if a[0] != client || a[1] != server || a[2] != client {
			t.Errorf("%s: remote %s, local %s, remote AddrPort %s; client sees local %s, remote %s", path, a[0], a[1], a[2], client, server)
		}
		if a[3] != "-" && a[3] != "0" {
			t.Errorf("%s: RemoteAddrPort made %s allocations; want 0", path, a[3])
		}
	}
}

// TestWSIdleFootprint: an upgraded session that finished its messages
// (whole, fragmented, split across writes, compressed) holds its Session,
// its small wsConn and flate state if negotiated, and no request state,
// receive state or buffer.
func TestWSIdleFootprint(t *testing.T) {
	t.Logf("idle WebSocket session: Session %d B + wsConn %d B + slot %d B", unsafe.Sizeof(Session{}), unsafe.Sizeof(wsConn{}), sessions.SlotBytes)
	srv := wsCaseServer(t)
	for _, path := range []string{"/echo", "/deflate"} {
		t.Run(path, func(t *testing.T) {
			// The previous subtest's session may still be closing; work
			// queued for it would never run.
			waitFor(t, "no session left", 10*time.Second, func() bool { return srv.Stats().Sessions == 0 })
			c := wsCaseDial(t, srv, path)
			c.sendFrames(chopWhole, text("hello"))
			c.expect(0, text("hello"))
			c.sendFrames(chopByte, frag(ws.OpText, "ab"), ctl(ws.OpPing, []byte("p")), final(ws.OpContinuation, "cd"))
			c.expect(1, ctl(ws.OpPong, []byte("p")))
			c.expect(2, text("abcd"))
			ids := srv.Clients(nil)
			done := make(chan string, len(ids))
			for _, id := range ids {
				if err := srv.QueueWork(id, func(s *Session) {
					switch {
					case s.ws == nil:
						done <- ""
					case s.reqState != nil:
						done <- "request state held"
					case s.ws.in != nil:
						done <- "receive state held"
					default:
						done <- ""
					}
				}); err != nil {
					t.Fatal(err)
				}
			}
			for range ids {
				select {
				case msg := <-done:
					if msg != "" {
						t.Errorf("idle WebSocket session: %s", msg)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("queued work did not run")
				}
			}
			c.finish()
		})
	}
}
