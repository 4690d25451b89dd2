package httpd

import (
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
)

// roomProbe is a chat room kept by a WebSocket handler alone: members join
// in the handshake (with a session context) and leave in WSOnClose.
type roomProbe struct {
	mu      sync.Mutex
	members map[SessionID]bool
	left    map[SessionID]int // WSOnClose runs per session
	bad     []string          // contract breaches seen by the hooks
	order   []string          // "ws:<id>", "close:<id>", "free:<id>" as they ran
}

type member struct {
	id    SessionID
	freed bool
}

func newRoom() *roomProbe {
	return &roomProbe{members: map[SessionID]bool{}, left: map[SessionID]int{}}
}

func (p *roomProbe) handler(uri string) URIHandler {
	return URIHandler{URI: uri, Method: "GET", IsWebSocket: true,
		Handler: func(r *Request) error {
			if r.IsWSHandshake() {
				if r.Header("X-Refuse") != nil {
					return r.SendErr(403, "")
				}
				m := &member{id: r.Session().ID()}
				r.SetSessCtx(m, func(v any) {
					p.mu.Lock()
					v.(*member).freed = true
					p.order = append(p.order, "free:"+v.(*member).id.String())
					p.mu.Unlock()
				})
				p.mu.Lock()
				p.members[m.id] = true
				p.mu.Unlock()
				return nil
			}
			f, _ := r.WSFrame()
			return r.WSSend(f)
		},
		WSOnClose: func(s *Session) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.order = append(p.order, "ws:"+s.ID().String())
			p.left[s.ID()]++
			m, ok := s.Ctx().(*member)
			switch {
			case !ok:
				p.bad = append(p.bad, "session context gone in WSOnClose")
			case m.freed:
				p.bad = append(p.bad, "session context freed before WSOnClose")
			}
			delete(p.members, s.ID())
		},
	}
}

func (p *roomProbe) onClose(s *Session) {
	p.mu.Lock()
	p.order = append(p.order, "close:"+s.ID().String())
	p.mu.Unlock()
}

func (p *roomProbe) leftCount(id SessionID) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.left[id]
}

// TestWSOnClose: the handler's close hook runs once for every session it
// upgraded, whatever ends it, before Config.OnClose and before the session
// context is freed, and never for a refused handshake or an HTTP session.
func TestWSOnClose(t *testing.T) {
	room := newRoom()
	srv := startTest(t, Config{OnClose: room.onClose})
	mustRegister(t, srv, room.handler("/room"),
		URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString(r.Session().ID().String()) }})
	join := func(t *testing.T) (*wsTestConn, SessionID) {
		t.Helper()
		before := srv.Clients(nil)
		c := wsCaseDial(t, srv, "/room")
		c.sendFrames(chopWhole, text("hi"))
		c.expect(0, text("hi"))
		for _, id := range srv.Clients(nil) {
			found := false
			for _, b := range before {
				found = found || b == id
			}
			if !found && srv.ClientInfo(id) == ClientWebSocket {
				return c, id
			}
		}
		t.Fatal("new member's session not found")
		return nil, 0
	}
	ends := []struct {
		name string
		end  func(t *testing.T, c *wsTestConn, id SessionID)
	}{
		{"closing handshake", func(t *testing.T, c *wsTestConn, _ SessionID) { c.finish() }},
		{"protocol error", func(t *testing.T, c *wsTestConn, _ SessionID) {
			c.writeStream(ws.AppendFrame(nil, ws.OpText, true, 0, []byte("unmasked")), chopWhole)
			c.expectClose(1002)
		}},
		{"handler's close", func(t *testing.T, c *wsTestConn, id SessionID) {
			if err := srv.WSSendAsync(id, WSCloseFrame(4000, "")); err != nil {
				t.Fatal(err)
			}
			c.expectClose(4000)
		}},
		{"TriggerClose", func(t *testing.T, c *wsTestConn, id SessionID) {
			if err := srv.TriggerClose(id); err != nil {
				t.Fatal(err)
			}
			if !c.closedByPeer(5 * time.Second) {
				t.Fatal("not closed")
			}
		}},
		{"client drops the connection", func(t *testing.T, c *wsTestConn, _ SessionID) { c.c.Close() }},
	}
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			c, id := join(t)
			e.end(t, c, id)
			c.c.Close() // the server lingers until the client closes
			waitFor(t, "WSOnClose", 10*time.Second, func() bool { return srv.ClientInfo(id) == ClientInvalid && room.leftCount(id) > 0 })
			if n := room.leftCount(id); n != 1 {
				t.Fatalf("WSOnClose ran %d times; want 1", n)
			}
		})
	}

	// Neither a refused handshake nor an HTTP session gets the hook.
	rc := dial(t, srv)
	rc.write(req("GET", "/room", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: "+wsKey, "Sec-WebSocket-Version: 13", "X-Refuse: 1"))
	if resp := rc.response("GET"); resp.StatusCode != 403 {
		t.Fatalf("refused handshake = %d", resp.StatusCode)
	}
	rc.write(req("GET", "/id"))
	httpID := bodyOf(rc.response("GET"))
	rc.c.Close()

	// Stop closes the last members.
	_, last := join(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	room.mu.Lock()
	defer room.mu.Unlock()
	if n := room.left[last]; n != 1 {
		t.Errorf("WSOnClose at Stop ran %d times; want 1", n)
	}
	if len(room.members) != 0 {
		t.Errorf("room still has %d members after every session closed", len(room.members))
	}
	if len(room.left) != len(ends)+1 {
		t.Errorf("WSOnClose ran for %d sessions; want %d (not for the refused handshake nor %s)", len(room.left), len(ends)+1, httpID)
	}
	for _, b := range room.bad {
		t.Error(b)
	}
	// Per session: the handler's hook, then Config.OnClose, then the free.
	pos := map[string]int{}
	for i, o := range room.order {
		pos[o] = i
	}
	for id := range room.left {
		ws, cl, fr := pos["ws:"+id.String()], pos["close:"+id.String()], pos["free:"+id.String()]
		if !(ws < cl && cl < fr) {
			t.Errorf("session %v: WSOnClose at %d, OnClose at %d, free at %d; want that order", id, ws, cl, fr)
		}
	}
}

// TestWSOnCloseLRUPurge: a WebSocket session closed by LRU purge gets the
// hook too.
func TestWSOnCloseLRUPurge(t *testing.T) {
	room := newRoom()
	srv := startTest(t, Config{EventLoops: 1, MaxOpenSockets: 1, LRUPurgeEnable: true})
	mustRegister(t, srv, room.handler("/room"))
	c := wsCaseDial(t, srv, "/room")
	c.sendFrames(chopWhole, text("hi"))
	c.expect(0, text("hi"))
	id := srv.Clients(nil)[0]
	newcomer := dial(t, srv) // over MaxOpenSockets: the member is purged
	if !c.closedByPeer(10 * time.Second) {
		t.Fatal("member not purged")
	}
	waitFor(t, "WSOnClose", 10*time.Second, func() bool { return room.leftCount(id) == 1 })
	newcomer.c.Close()
	if st := srv.Stats(); st.Purged != 1 {
		t.Errorf("Stats.Purged = %d; want 1", st.Purged)
	}
}
