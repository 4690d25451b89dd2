package demo

import (
	"strconv"
	"sync"

	httpd "github.com/evhttpd/httpd"
)

// chatMaxMembers bounds the /chat room; a client beyond it is refused
// with 503 at the handshake.
const chatMaxMembers = 1024

// chatRoom is the /chat endpoint: every text message a member sends is
// broadcast to every member. A member joins at the handshake, is greeted
// with a frame sent during the handshake (it leaves right after the 101),
// and leaves through the handler's close hook (URIHandler.WSOnClose),
// whatever ended its session, so the room needs no other bookkeeping.
type chatRoom struct {
	mu      sync.Mutex // handlers of members on different loops run at once
	members map[httpd.SessionID]struct{}
}

func registerChat(srv *httpd.Server) error {
	room := &chatRoom{members: map[httpd.SessionID]struct{}{}}
	return srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/chat", Method: "GET", IsWebSocket: true,
		WSMaxMessage: 64 << 10,
		Handler:      room.handle,
		WSOnClose:    room.leave,
	})
}

func (c *chatRoom) handle(r *httpd.Request) error {
	id := r.Session().ID()
	if r.IsWSHandshake() {
		c.mu.Lock()
		full := len(c.members) >= chatMaxMembers
		if !full {
			c.members[id] = struct{}{}
		}
		n := len(c.members)
		c.mu.Unlock()
		if full {
			return r.SendErr(503, "The chat room is full")
		}
		return r.WSSend(httpd.WSFrame{Type: httpd.WSText,
			Payload: []byte("welcome, member " + id.String() + "; " + strconv.Itoa(n) + " here")})
	}
	f, _ := r.WSFrame()
	if f.Type != httpd.WSText {
		return nil
	}
	msg := append([]byte(id.String()+": "), f.Payload...)
	c.mu.Lock()
	ids := make([]httpd.SessionID, 0, len(c.members))
	for m := range c.members {
		ids = append(ids, m)
	}
	c.mu.Unlock()
	srv := r.Server()
	for _, m := range ids {
		// From any loop to any member: the frame is copied and sent by
		// the member's own loop. A member that left meanwhile is stale.
		_ = srv.WSSendAsync(m, httpd.WSFrame{Type: httpd.WSText, Payload: msg})
	}
	return nil
}

func (c *chatRoom) leave(s *httpd.Session) {
	c.mu.Lock()
	delete(c.members, s.ID())
	c.mu.Unlock()
}
