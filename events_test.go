package httpd

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventLog records events and per-session hook calls.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	fds    map[SessionID]int
	opens  map[SessionID]int
	closes map[SessionID]int
}

func (l *eventLog) config(cfg Config) Config {
	l.fds, l.opens, l.closes = map[SessionID]int{}, map[SessionID]int{}, map[SessionID]int{}
	open := cfg.OnOpen
	cfg.OnOpen = func(s *Session) error {
		l.mu.Lock()
		l.opens[s.ID()]++
		l.fds[s.ID()] = s.Fd()
		l.mu.Unlock()
		if open != nil {
			return open(s)
		}
		return nil
	}
	cfg.OnClose = func(s *Session) {
		l.mu.Lock()
		l.closes[s.ID()]++
		l.mu.Unlock()
	}
	cfg.OnEvent = func(e Event) {
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
	}
	return cfg
}

// of returns the kinds of events about id, and the ON_DATA lengths.
func (l *eventLog) of(t *testing.T, id SessionID) (kinds []EventKind, data []int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.ID != id {
			continue
		}
		if e.Fd != l.fds[id] {
			t.Errorf("%v event for %v has fd %d; want %d", e.Kind, id, e.Fd, l.fds[id])
		}
		kinds = append(kinds, e.Kind)
		if e.Kind == EventOnData {
			data = append(data, e.Len)
		}
	}
	return kinds, data
}

func (l *eventLog) has(id SessionID, k EventKind) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.ID == id && e.Kind == k {
			return true
		}
	}
	return false
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// compact drops repeats of a kind that may come in several events.
func compact(kinds []EventKind) []EventKind {
	var out []EventKind
	for _, k := range kinds {
		if len(out) > 0 && out[len(out)-1] == k && (k == EventOnData || k == EventSentData) {
			continue
		}
		out = append(out, k)
	}
	return out
}

func TestEvents(t *testing.T) {
	var l eventLog
	var refuse atomic.Bool
	srv := startTest(t, l.config(Config{EventLoops: 2, OnOpen: func(s *Session) error {
		if refuse.Load() {
			return errors.New("refused by the open hook")
		}
		return nil
	}}))
	mustRegister(t, srv,
		URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString(r.Session().ID().String()) }},
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/bid", Method: "GET", Blocking: true, Handler: func(r *Request) error { return r.SendString("b") }},
	)

	// A request whose body arrives in three writes, then a close.
	rc := dial(t, srv)
	rc.write(req("GET", "/id"))
	id := sessionIDFromBody(t, bodyOf(rc.response("GET")))
	rc.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
	time.Sleep(30 * time.Millisecond)
	rc.write("cdef")
	time.Sleep(30 * time.Millisecond)
	rc.write("ghij")
	if got := bodyOf(rc.response("POST")); got != "abcdefghij" {
		t.Fatalf("echo = %q", got)
	}
	rc.write(req("POST", "/echo", "Transfer-Encoding: chunked") + "3\r\nabc\r\n0\r\n\r\n")
	rc.response("POST")
	rc.c.Close()
	waitFor(t, "DISCONNECTED", 5*time.Second, func() bool { return l.has(id, EventDisconnected) })
	kinds, data := l.of(t, id)
	want := []EventKind{EventOnConnected,
		EventOnHeader, EventHeadersSent, EventSentData, // GET /id
		EventOnHeader, EventOnData, EventHeadersSent, EventSentData, // POST, 10 bytes
		EventOnHeader, EventOnData, EventHeadersSent, EventSentData, // chunked POST, 3 bytes
		EventDisconnected}
	if got := compact(kinds); !equalKinds(got, want) {
		t.Errorf("events = %v; want %v", got, want)
	}
	if sum(data) != 13 || data[len(data)-1] != 3 {
		t.Errorf("ON_DATA lengths %v; want pieces summing to 10, then 3", data)
	}

	// A blocking handler's session gets the same kinds.
	b := dial(t, srv)
	b.write(req("GET", "/id"))
	bid := sessionIDFromBody(t, bodyOf(b.response("GET")))
	b.write(req("GET", "/bid"))
	b.response("GET")
	b.c.Close()
	waitFor(t, "DISCONNECTED", 5*time.Second, func() bool { return l.has(bid, EventDisconnected) })
	if kinds, _ := l.of(t, bid); !containsKinds(kinds, EventOnHeader, EventHeadersSent, EventSentData, EventDisconnected) {
		t.Errorf("blocking session events = %v", kinds)
	}

	// A bad request: ERROR with its status.
	bad := dial(t, srv)
	bad.write(req("GET", "/id"))
	badID := sessionIDFromBody(t, bodyOf(bad.response("GET")))
	bad.write("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp := bad.response("GET"); resp.StatusCode != 400 {
		t.Fatalf("bad request -> %d", resp.StatusCode)
	}
	waitFor(t, "ERROR", 5*time.Second, func() bool { return l.has(badID, EventError) })
	l.mu.Lock()
	for _, e := range l.events {
		if e.ID == badID && e.Kind == EventError && (e.Status != 400 || e.Err == nil) {
			t.Errorf("ERROR event status %d err %v; want 400 and an error", e.Status, e.Err)
		}
	}
	l.mu.Unlock()

	// An open hook error closes the session at once.
	refuse.Store(true)
	r := dial(t, srv)
	if !r.closedByPeer(5 * time.Second) {
		t.Error("session refused by OnOpen not closed")
	}
	refuse.Store(false)

	srv.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.events); l.events[0].Kind != EventStart || l.events[n-1].Kind != EventStop {
		t.Errorf("first and last events %v, %v; want START, STOP", l.events[0].Kind, l.events[n-1].Kind)
	}
	for _, e := range []Event{l.events[0], l.events[len(l.events)-1]} {
		if e.ID != 0 || e.Fd != -1 {
			t.Errorf("%v event ID %v fd %d; want 0, -1", e.Kind, e.ID, e.Fd)
		}
	}
	if len(l.opens) != 4 {
		t.Errorf("%d sessions opened; want 4", len(l.opens))
	}
	for sid, n := range l.opens {
		if n != 1 || l.closes[sid] != 1 {
			t.Errorf("session %v: OnOpen %d, OnClose %d times; want 1, 1", sid, n, l.closes[sid])
		}
	}
	connected, disconnected := 0, 0
	for _, e := range l.events {
		switch e.Kind {
		case EventOnConnected:
			connected++
		case EventDisconnected:
			disconnected++
		}
	}
	if connected != 4 || disconnected != 4 {
		t.Errorf("ON_CONNECTED %d, DISCONNECTED %d; want 4, 4", connected, disconnected)
	}
}

// sessionIDFromBody parses SessionID.String ("slot:gen").
func sessionIDFromBody(t *testing.T, s string) SessionID {
	t.Helper()
	var slot, gen uint64
	if n, err := fmt.Sscanf(s, "%d:%d", &slot, &gen); n != 2 || err != nil {
		t.Fatalf("session ID %q: %v", s, err)
	}
	return SessionID(gen<<32 | slot)
}

func equalKinds(a, b []EventKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsKinds(have []EventKind, want ...EventKind) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}
