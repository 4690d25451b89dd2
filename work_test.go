package httpd

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// idServer starts a server whose GET /id answers the session's ID, and
// whose every session gets a context freed through frees (counted per ID).
func idServer(t *testing.T, cfg Config, frees *freeLog) *Server {
	t.Helper()
	if frees != nil {
		cfg.OnOpen = func(s *Session) error {
			id := s.ID()
			s.SetCtx(id, func(v any) { frees.add(v.(SessionID)) })
			return nil
		}
	}
	srv := startTest(t, cfg)
	mustRegister(t, srv, URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error {
		var b [20]byte
		return r.Send(strconv.AppendUint(b[:0], uint64(r.Session().ID()), 10))
	}})
	return srv
}

// freeLog counts free callbacks per session ID.
type freeLog struct {
	mu sync.Mutex
	n  map[SessionID]int
}

func (f *freeLog) add(id SessionID) {
	f.mu.Lock()
	if f.n == nil {
		f.n = map[SessionID]int{}
	}
	f.n[id]++
	f.mu.Unlock()
}

func (f *freeLog) count(id SessionID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n[id]
}

// sessionID asks the server for the client's session ID.
func (rc *rawClient) sessionID() SessionID {
	rc.t.Helper()
	rc.write(req("GET", "/id"))
	resp := rc.response("GET")
	v, err := strconv.ParseUint(bodyOf(resp), 10, 64)
	if err != nil || resp.StatusCode != 200 {
		rc.t.Fatalf("GET /id = %d %q", resp.StatusCode, bodyOf(resp))
	}
	return SessionID(v)
}

// queueWork retries QueueWork while the loop's queue is full.
func queueWork(srv *Server, id SessionID, fn func(*Session)) error {
	for {
		err := srv.QueueWork(id, fn)
		if !errors.Is(err, ErrQueueFull) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// workState is touched only by queued work on one session's loop: the plain
// fields make the race detector report any two items of one session that
// run concurrently.
type workState struct {
	id   SessionID
	runs int
	last []int // last sequence number seen per producer
	bad  []string
}

func TestQueueWorkOrderAndExactlyOnce(t *testing.T) {
	srv := idServer(t, Config{EventLoops: 2}, nil)
	const sessions, producers, items = 4, 8, 2000
	states := make([]*workState, sessions)
	ids := make([]SessionID, sessions)
	for i := range states {
		ids[i] = dial(t, srv).sessionID()
		states[i] = &workState{id: ids[i], last: make([]int, producers)}
		for p := range states[i].last {
			states[i].last[p] = -1
		}
	}
	// Junk, empty and oversized datagrams on the control port while the
	// producers run: the loops must drop them and keep serving the queues.
	ctl, err := net.Dial("udp", srv.CtrlAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	stopJunk := make(chan struct{})
	junkDone := make(chan struct{})
	go func() {
		defer close(junkDone)
		big := make([]byte, 65507) // the largest IPv4 UDP payload
		for i := range big {
			big[i] = byte(i)
		}
		for i := 0; ; i++ {
			select {
			case <-stopJunk:
				return
			default:
			}
			switch i % 3 {
			case 0:
				ctl.Write([]byte("junk datagram " + strconv.Itoa(i)))
			case 1:
				ctl.Write(nil)
			case 2:
				ctl.Write(big)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()

	var ran atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < items; i++ {
				k := (p + i) % sessions
				st, seq := states[k], i
				err := queueWork(srv, ids[k], func(s *Session) {
					st.runs++
					if s.ID() != st.id {
						st.bad = append(st.bad, "work for "+st.id.String()+" ran on "+s.ID().String())
					}
					if seq <= st.last[p] {
						st.bad = append(st.bad, "producer "+strconv.Itoa(p)+": item "+strconv.Itoa(seq)+" after "+strconv.Itoa(st.last[p]))
					}
					st.last[p] = seq
					ran.Add(1)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}(p)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("QueueWork: %v", err)
	}
	waitFor(t, "all queued work", 20*time.Second, func() bool { return ran.Load() == producers*items })
	close(stopJunk)
	<-junkDone
	// Read each session's state on its own loop, after everything queued.
	for k, st := range states {
		done := make(chan struct{})
		var runs int
		var bad []string
		var last []int
		if err := queueWork(srv, ids[k], func(*Session) {
			runs, bad, last = st.runs, st.bad, append([]int(nil), st.last...)
			close(done)
		}); err != nil {
			t.Fatal(err)
		}
		<-done
		for _, b := range bad {
			t.Error(b)
		}
		if want := producers * items / sessions; runs != want {
			t.Errorf("session %d ran %d items; want %d", k, runs, want)
		}
		for p, l := range last {
			if l < 0 {
				t.Errorf("session %d saw nothing from producer %d", k, p)
			}
		}
	}
	if got := srv.eng.Stats().DoorbellsDropped; got == 0 {
		t.Errorf("DoorbellsDropped = 0 after junk datagrams")
	}
	if s := srv.Stats(); s.StaleWork != 0 {
		t.Errorf("StaleWork = %d; want 0", s.StaleWork)
	}
	// The sessions still serve requests.
	rc := dial(t, srv)
	if rc.sessionID() == 0 {
		t.Error("zero session ID")
	}
}

// TestControlPortJunkDropped sends each bad datagram alone and waits for
// the engine to count it dropped; work queued afterwards still runs.
func TestControlPortJunkDropped(t *testing.T) {
	srv := idServer(t, Config{EventLoops: 2}, nil)
	id := dial(t, srv).sessionID()
	ctl, err := net.Dial("udp", srv.CtrlAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	big := make([]byte, 64<<10-29) // 64 KiB on the wire with IP and UDP headers
	for _, d := range [][]byte{[]byte("junk"), big, make([]byte, 32), []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12")} {
		before := srv.eng.Stats().DoorbellsDropped
		if _, err := ctl.Write(d); err != nil {
			t.Fatalf("write %d-byte datagram: %v", len(d), err)
		}
		waitFor(t, "the datagram to be dropped", 5*time.Second, func() bool { return srv.eng.Stats().DoorbellsDropped > before })
	}
	ctl.Write(nil) // empty: must do no harm either way
	var order []int
	done := make(chan struct{})
	for i := 0; i < 100; i++ {
		i := i
		if err := queueWork(srv, id, func(*Session) {
			order = append(order, i)
			if i == 99 {
				close(done)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("queued work did not run")
	}
	for i, v := range order {
		if v != i {
			t.Fatalf("work order = %v; want 0..99", order)
		}
	}
}

func TestQueueWorkStaleID(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 1}, &frees)
	a := dial(t, srv)
	oldID := a.sessionID()
	a.c.Close()
	waitFor(t, "free of the closed session", 5*time.Second, func() bool { return frees.count(oldID) == 1 })

	ran := make(chan SessionID, 4)
	fn := func(s *Session) { ran <- s.ID() }
	if err := srv.QueueWork(oldID, fn); !errors.Is(err, ErrStaleSession) {
		t.Errorf("QueueWork(closed) = %v; want ErrStaleSession", err)
	}
	if err := srv.TriggerClose(oldID); !errors.Is(err, ErrStaleSession) {
		t.Errorf("TriggerClose(closed) = %v; want ErrStaleSession", err)
	}

	// The slab reuses the freed slot for the next session (LIFO free list):
	// the old ID must still be stale and must not reach the newcomer.
	b := dial(t, srv)
	newID := b.sessionID()
	if newID.Slot() != oldID.Slot() {
		t.Fatalf("new session slot %d; want the reused slot %d", newID.Slot(), oldID.Slot())
	}
	if newID == oldID {
		t.Fatalf("reused slot got the same ID %v", newID)
	}
	if err := srv.QueueWork(oldID, fn); !errors.Is(err, ErrStaleSession) {
		t.Errorf("QueueWork(reused slot, old ID) = %v; want ErrStaleSession", err)
	}
	if err := srv.TriggerClose(oldID); !errors.Is(err, ErrStaleSession) {
		t.Errorf("TriggerClose(reused slot, old ID) = %v; want ErrStaleSession", err)
	}
	if k := srv.ClientInfo(oldID); k != ClientInvalid {
		t.Errorf("ClientInfo(old ID) = %v; want invalid", k)
	}
	// A round trip through the loop orders after anything the stale calls
	// could have queued.
	if err := srv.QueueWork(newID, fn); err != nil {
		t.Fatal(err)
	}
	if got := <-ran; got != newID {
		t.Errorf("work ran on %v; want %v", got, newID)
	}
	select {
	case got := <-ran:
		t.Errorf("stale work ran on %v", got)
	default:
	}
	if got := b.sessionID(); got != newID {
		t.Errorf("newer session answers as %v; want %v", got, newID)
	}
	if n := frees.count(newID); n != 0 {
		t.Errorf("newer session freed %d times while open", n)
	}
}

func TestTriggerClose(t *testing.T) {
	var frees freeLog
	srv := idServer(t, Config{EventLoops: 2}, &frees)
	a, b := dial(t, srv), dial(t, srv)
	ida, idb := a.sessionID(), b.sessionID()
	if err := srv.TriggerClose(ida); err != nil {
		t.Fatalf("TriggerClose = %v", err)
	}
	if !a.closedByPeer(5 * time.Second) {
		t.Fatal("session not closed by TriggerClose")
	}
	waitFor(t, "free callback", 5*time.Second, func() bool { return frees.count(ida) == 1 })
	if err := srv.TriggerClose(ida); !errors.Is(err, ErrStaleSession) {
		t.Errorf("second TriggerClose = %v; want ErrStaleSession", err)
	}
	if got := b.sessionID(); got != idb {
		t.Errorf("other session answers as %v; want %v", got, idb)
	}
	srv.Stop()
	if n := frees.count(ida); n != 1 {
		t.Errorf("free callbacks of the closed session = %d; want 1", n)
	}
	if n := frees.count(idb); n != 1 {
		t.Errorf("free callbacks of the other session after Stop = %d; want 1", n)
	}
}

// TestQueuedWorkOnClosedSession: items queued before their session closed
// are dropped, counted in Stats().StaleWork, and never run.
func TestQueuedWorkOnClosedSession(t *testing.T) {
	srv := idServer(t, Config{EventLoops: 2}, nil)
	rc := dial(t, srv)
	id := rc.sessionID()
	const n = 100
	var ranLate atomic.Int64
	queued := make(chan error, 1)
	// The first item runs on the loop: it queues n more for its own session,
	// which is still open, then closes the session before they can run.
	if err := srv.QueueWork(id, func(s *Session) {
		var err error
		for i := 0; i < n && err == nil; i++ {
			err = srv.QueueWork(id, func(*Session) { ranLate.Add(1) })
		}
		queued <- err
		s.Close()
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-queued; err != nil {
		t.Fatalf("QueueWork from the loop: %v", err)
	}
	if !rc.closedByPeer(5 * time.Second) {
		t.Fatal("session not closed")
	}
	waitFor(t, "stale work count", 5*time.Second, func() bool { return srv.Stats().StaleWork == n })
	if got := ranLate.Load(); got != 0 {
		t.Errorf("%d items ran on a closed session", got)
	}
	if err := srv.QueueWork(id, func(*Session) { ranLate.Add(1) }); !errors.Is(err, ErrStaleSession) {
		t.Errorf("QueueWork after close = %v; want ErrStaleSession", err)
	}
}
