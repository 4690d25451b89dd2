package httpd

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// loopOf returns the index of the event loop that owns session id.
func loopOf(t *testing.T, srv *Server, id SessionID) int {
	t.Helper()
	ch := make(chan int, 1)
	if err := srv.QueueWork(id, func(s *Session) { ch <- s.lp.idx }); err != nil {
		t.Fatalf("QueueWork(%v): %v", id, err)
	}
	select {
	case i := <-ch:
		return i
	case <-time.After(5 * time.Second):
		t.Fatalf("queued work on %v did not run", id)
	}
	return -1
}

// openTouched opens n sessions that each completed a request, then touches
// them again in the given order (the first is the least recently used).
func openTouched(t *testing.T, srv *Server, n int, order []int) ([]*rawClient, []SessionID) {
	t.Helper()
	cs := make([]*rawClient, n)
	ids := make([]SessionID, n)
	for i := range cs {
		cs[i] = dial(t, srv)
		ids[i] = cs[i].sessionID()
	}
	for _, i := range order {
		if got := cs[i].sessionID(); got != ids[i] {
			t.Fatalf("session %d answers as %v; want %v", i, got, ids[i])
		}
		// Stamps are monotonic nanoseconds of the loops' clocks; keep them
		// apart on coarse clocks.
		time.Sleep(2 * time.Millisecond)
	}
	return cs, ids
}

func TestLRUPurgeClosesLeastRecentlyUsed(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2, MaxOpenSockets: 4, LRUPurgeEnable: true}, &frees)
	cs, ids := openTouched(t, srv, 4, []int{2, 0, 3, 1})
	n := dial(t, srv)
	nid := n.sessionID()
	if !cs[2].closedByPeer(5 * time.Second) {
		t.Fatal("least recently used session (2) not closed")
	}
	waitFor(t, "free of the purged session", 5*time.Second, func() bool { return frees.count(ids[2]) == 1 })
	for _, i := range []int{0, 1, 3} {
		if got := cs[i].sessionID(); got != ids[i] {
			t.Errorf("session %d answers as %v; want %v", i, got, ids[i])
		}
		if c := frees.count(ids[i]); c != 0 {
			t.Errorf("session %d freed %d times while open", i, c)
		}
	}
	if got := n.sessionID(); got != nid {
		t.Errorf("newcomer answers as %v; want %v", got, nid)
	}
	if st := srv.Stats(); st.Purged != 1 || st.Rejected != 0 {
		t.Errorf("Stats = %+v; want Purged 1, Rejected 0", st)
	}
	srv.Stop()
	for i, id := range append(ids, nid) {
		if c := frees.count(id); c != 1 {
			t.Errorf("session %d (%v) freed %d times; want 1", i, id, c)
		}
	}
}

// TestLRUPurgeSparesYoungSessions: a session with no request yet that is
// younger than LRUGrace is never chosen, even when its stamp is the oldest.
func TestLRUPurgeSparesYoungSessions(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2, MaxOpenSockets: 4, LRUPurgeEnable: true, LRUGrace: time.Minute}, &frees)
	young := dial(t, srv)
	// Make sure the young session is open before the others.
	waitFor(t, "young session open", 5*time.Second, func() bool { return srv.Stats().Sessions == 1 })
	cs, ids := openTouched(t, srv, 3, []int{0, 1, 2})
	n := dial(t, srv)
	n.sessionID()
	if !cs[0].closedByPeer(5 * time.Second) {
		t.Fatal("least recently used session with a request not closed")
	}
	waitFor(t, "free of the purged session", 5*time.Second, func() bool { return frees.count(ids[0]) == 1 })
	// The young session is still open and serves its first request.
	young.sessionID()
	if st := srv.Stats(); st.Purged != 1 {
		t.Errorf("Purged = %d; want 1", st.Purged)
	}
}

// TestLRUPurgeSparesPendingWork: a session with queued work not yet run is
// never chosen. Its loop is held busy so the work stays queued while a
// newcomer opens on the other loop.
func TestLRUPurgeSparesPendingWork(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2, MaxOpenSockets: 4, LRUPurgeEnable: true, LRUGrace: time.Minute}, &frees)
	cs, ids := openTouched(t, srv, 4, []int{1, 0, 2, 3})
	loops := make([]int, 4)
	for i, id := range ids {
		loops[i] = loopOf(t, srv, id)
	}
	// The acceptor deals connections to the loops round robin: the fifth
	// goes where the first and third went.
	if loops[0] != loops[2] || loops[1] != loops[3] || loops[0] == loops[1] {
		t.Fatalf("session loops %v: not dealt round robin over 2 loops", loops)
	}
	started, release := make(chan struct{}), make(chan struct{})
	var once bool
	defer func() {
		if !once {
			close(release)
		}
	}()
	// Hold session 1's loop, then queue work for session 1 behind it.
	if err := srv.QueueWork(ids[1], func(*Session) { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	<-started
	ran := make(chan struct{})
	if err := srv.QueueWork(ids[1], func(*Session) { close(ran) }); err != nil {
		t.Fatal(err)
	}
	n := dial(t, srv)
	nid := n.sessionID() // served on session 0's loop
	if !cs[0].closedByPeer(5 * time.Second) {
		t.Fatal("session 0 (least recently used without pending work) not closed")
	}
	waitFor(t, "free of the purged session", 5*time.Second, func() bool { return frees.count(ids[0]) == 1 })
	once = true
	close(release)
	<-ran
	if got := cs[1].sessionID(); got != ids[1] {
		t.Errorf("session with pending work answers as %v; want %v", got, ids[1])
	}
	if c := frees.count(ids[1]); c != 0 {
		t.Errorf("session with pending work freed %d times", c)
	}
	if got := n.sessionID(); got != nid {
		t.Errorf("newcomer answers as %v; want %v", got, nid)
	}
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestMaxOpenSocketsRejects503(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2, MaxOpenSockets: 4, LingerTimeout: 2 * time.Second}, &frees)
	cs, ids := openTouched(t, srv, 4, nil)
	extra := dial(t, srv)
	resp := extra.response("GET")
	// net/http reports "Connection: close" as resp.Close and drops the field.
	if resp.StatusCode != 503 || !resp.Close {
		t.Fatalf("fifth client got %d close=%v; want 503 with Connection: close", resp.StatusCode, resp.Close)
	}
	// The rejected client keeps its socket open and idle: the server must
	// not spin on it while it lingers.
	wall0, cpu0 := time.Now(), cpuTime(t)
	time.Sleep(300 * time.Millisecond)
	wall, cpu := time.Since(wall0), cpuTime(t)-cpu0
	if cpu > wall/4 {
		t.Errorf("CPU time %v over %v of wall time with a rejected client lingering: the server spins", cpu, wall)
	}
	if !extra.closedByPeer(5 * time.Second) {
		t.Error("rejected client not closed")
	}
	for i, c := range cs {
		if got := c.sessionID(); got != ids[i] {
			t.Errorf("session %d answers as %v; want %v", i, got, ids[i])
		}
	}
	if st := srv.Stats(); st.Rejected != 1 || st.Purged != 0 || st.Sessions != 4 {
		t.Errorf("Stats = %+v; want Rejected 1, Purged 0, Sessions 4", st)
	}
	// Room again after one closes.
	cs[0].c.Close()
	waitFor(t, "free of the closed session", 5*time.Second, func() bool { return frees.count(ids[0]) == 1 })
	dial(t, srv).sessionID()
}

// TestLRUPurgeFloodSparesServedClients: a flood of connections that never
// send a request, each within LRUGrace, evicts its own members once they
// fill half the table, never the keep-alive clients being served.
func TestLRUPurgeFloodSparesServedClients(t *testing.T) {
	var frees freeLog
	const max = 8
	srv := idServer(t, Config{EventLoops: 2, MaxOpenSockets: max, LRUPurgeEnable: true, LRUGrace: time.Minute}, &frees)
	cs, ids := openTouched(t, srv, 3, []int{0, 1, 2})
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", srv.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatalf("flood dial %d: %v", i, err)
		}
		flood = append(flood, c)
		// Keep the served clients served throughout the flood.
		k := i % len(cs)
		if got := cs[k].sessionID(); got != ids[k] {
			t.Fatalf("after %d flood connections, client %d answers as %v; want %v", i+1, k, got, ids[k])
		}
	}
	for i, id := range ids {
		if n := frees.count(id); n != 0 {
			t.Errorf("served client %d freed %d times", i, n)
		}
	}
	st := srv.Stats()
	if st.Purged < 100-max || st.Rejected != 0 {
		t.Errorf("Stats = %+v; want at least %d purged, none rejected", st, 100-max)
	}
	// A newcomer that sends its request at once is still served.
	if n := dial(t, srv); n.sessionID() == 0 {
		t.Error("newcomer not served")
	}
}
