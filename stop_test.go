package httpd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stopProbe records session opens, frees and events, and flags any free or
// event that arrives after Stop returned.
type stopProbe struct {
	frees   freeLog
	mu      sync.Mutex
	opened  []SessionID
	events  []EventKind
	stopped atomic.Bool
	late    atomic.Int64
}

func (p *stopProbe) config(cfg Config) Config {
	cfg.OnOpen = func(s *Session) error {
		p.mu.Lock()
		p.opened = append(p.opened, s.ID())
		p.mu.Unlock()
		s.SetCtx(s.ID(), func(v any) {
			if p.stopped.Load() {
				p.late.Add(1)
			}
			p.frees.add(v.(SessionID))
		})
		return nil
	}
	cfg.OnEvent = func(e Event) {
		if p.stopped.Load() {
			p.late.Add(1)
		}
		p.mu.Lock()
		p.events = append(p.events, e.Kind)
		p.mu.Unlock()
	}
	return cfg
}

// check verifies that every opened session was freed exactly once and that
// STOP was the last event.
func (p *stopProbe) check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range p.opened {
		if n := p.frees.count(id); n != 1 {
			t.Errorf("session %v freed %d times; want 1", id, n)
		}
	}
	if n := len(p.events); n == 0 || p.events[n-1] != EventStop {
		t.Errorf("last event = %v; want STOP", p.events[max(0, n-1):])
	}
	if n := p.late.Load(); n != 0 {
		t.Errorf("%d callbacks after Stop returned", n)
	}
}

func TestStopWithRequestsInFlight(t *testing.T) {
	g0, fd0 := serverGoroutines(), fdCount()
	var p stopProbe
	srv, err := Start(p.config(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(),
		BlockingPrebuffer: -1})) // /recv waits in Recv, not on the loop
	if err != nil {
		t.Fatal(err)
	}
	streaming, inRecv := make(chan struct{}, 1), make(chan struct{}, 1)
	recvErr := make(chan error, 1)
	mustRegister(t, srv,
		URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString(r.Session().ID().String()) }},
		// A blocking handler streaming a reply until its session goes away.
		URIHandler{URI: "/stream", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			chunk := make([]byte, 1024)
			deadline := time.Now().Add(20 * time.Second)
			for i := 0; time.Now().Before(deadline); i++ {
				if err := r.SendChunk(chunk); err != nil {
					return err
				}
				if i == 0 {
					streaming <- struct{}{}
				}
				time.Sleep(5 * time.Millisecond)
			}
			return errors.New("stream not interrupted by Stop")
		}},
		// A blocking handler waiting in Recv for body bytes that never come.
		URIHandler{URI: "/recv", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			buf := make([]byte, 64)
			inRecv <- struct{}{}
			for {
				_, err := r.Recv(buf)
				if err != nil {
					recvErr <- err
					return err
				}
			}
		}},
	)
	var clients []*rawClient
	open := func() *rawClient {
		rc := dial(t, srv)
		clients = append(clients, rc)
		return rc
	}
	open().write(req("GET", "/id")) // a reply in flight or done
	idle := open()
	idle.write(req("GET", "/id"))
	idle.response("GET")
	open().write("GET /id HTTP/1.1\r\nHost") // half a head
	open().write(req("GET", "/stream"))
	<-streaming
	open().write("POST /recv HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	<-inRecv
	waitFor(t, "5 sessions", 5*time.Second, func() bool { return srv.Stats().Sessions == 5 })

	// Stop from three goroutines at once.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = srv.Stop() }(i)
	}
	wg.Wait()
	p.stopped.Store(true)
	for i, err := range errs {
		if err != nil {
			t.Errorf("Stop #%d: %v", i, err)
		}
	}
	select {
	case err := <-recvErr:
		if err == nil {
			t.Error("Recv returned nil at Stop")
		}
	default:
		t.Error("the handler blocked in Recv did not return before Stop returned")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop after Stop: %v", err)
	}
	if err := srv.RegisterURIHandler(URIHandler{URI: "/late", Method: "GET", Handler: sendString("x")}); !errors.Is(err, ErrServerStopped) {
		t.Errorf("RegisterURIHandler after Stop = %v; want ErrServerStopped", err)
	}
	if err := srv.QueueWork(1, func(*Session) {}); err == nil {
		t.Error("QueueWork after Stop succeeded")
	}
	for _, rc := range clients {
		if !rc.drainedToEOF(5 * time.Second) {
			t.Error("a client was not closed by Stop")
		}
		rc.c.Close()
	}
	time.Sleep(50 * time.Millisecond) // room for any stray callback
	p.check(t)
	if s := srv.Stats(); s.Sessions != 0 {
		t.Errorf("Sessions after Stop = %d", s.Sessions)
	}
	checkNoServerLeaks(t, g0, fd0)
}

func TestShutdownGraceful(t *testing.T) {
	g0, fd0 := serverGoroutines(), fdCount()
	var p stopProbe
	srv, err := Start(p.config(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(),
		BlockingPrebuffer: -1})) // /recv waits in Recv, not on the loop
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}, 1), make(chan struct{})
	mustRegister(t, srv,
		URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString(r.Session().ID().String()) }},
		URIHandler{URI: "/slow", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			started <- struct{}{}
			<-release
			return r.SendString("done")
		}},
	)
	busy, idle := dial(t, srv), dial(t, srv)
	idle.write(req("GET", "/id"))
	if resp := idle.response("GET"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("idle client setup: %d close=%v", resp.StatusCode, resp.Close)
	}
	busy.write(req("GET", "/slow"))
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(ctx) }()
	if !idle.closedByPeer(5 * time.Second) {
		t.Error("idle session not closed by Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	resp := busy.response("GET")
	if resp.StatusCode != 200 || bodyOf(resp) != "done" || !resp.Close {
		t.Errorf("in-flight reply %d %q close=%v; want 200 done with Connection: close", resp.StatusCode, bodyOf(resp), resp.Close)
	}
	if !busy.closedByPeer(5 * time.Second) {
		t.Error("busy session not closed after its reply")
	}
	busy.c.Close()
	idle.c.Close()
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	p.stopped.Store(true)
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop after Shutdown: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	p.check(t)
	checkNoServerLeaks(t, g0, fd0)
}

// TestShutdownDeadline: a request that outlives the context is cut off by
// the Stop that Shutdown ends with.
func TestShutdownDeadline(t *testing.T) {
	var p stopProbe
	srv, err := Start(p.config(Config{Addr: "127.0.0.1:0", EventLoops: 1, Logger: testLogger(),
		BlockingPrebuffer: -1})) // /recv waits in Recv, not on the loop
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	mustRegister(t, srv, URIHandler{URI: "/recv", Method: "POST", Blocking: true, Handler: func(r *Request) error {
		started <- struct{}{}
		_, err := r.Recv(make([]byte, 10))
		return err
	}})
	rc := dial(t, srv)
	rc.write("POST /recv HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	srv.Shutdown(ctx)
	p.stopped.Store(true)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown took %v past a 200ms context", took)
	}
	if !rc.closedByPeer(5 * time.Second) {
		t.Error("session not closed")
	}
	time.Sleep(50 * time.Millisecond)
	p.check(t)
}

// drainedToEOF reads and discards until the server closes the connection
// and reports whether it did within the timeout.
func (rc *rawClient) drainedToEOF(timeout time.Duration) bool {
	rc.c.SetReadDeadline(time.Now().Add(timeout))
	_, err := io.Copy(io.Discard, rc.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// serverGoroutines counts goroutines, leaving out the idle workers of the
// process-wide goroutine pool gnet hands enrollments to (ants keeps them for
// up to 10 s after use; they belong to no server).
func serverGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if len(g) > 0 && !bytes.Contains(g, []byte("panjf2000/ants/")) {
			count++
		}
	}
	return count
}

// checkNoServerLeaks is checkNoLeaks with serverGoroutines.
func checkNoServerLeaks(t testing.TB, goroutines, fds int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, f := serverGoroutines(), fdCount()
		if g <= goroutines && (fds < 0 || f <= fds) {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("leak: goroutines %d (before %d), fds %d (before %d)\n%s", g, goroutines, f, fds, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
