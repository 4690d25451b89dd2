package httpd

import (
	"bufio"
	"io"
	"math/rand"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chaosLedger counts, per session ID, contexts given and freed.
type chaosLedger struct {
	mu      sync.Mutex
	opens   map[SessionID]int
	frees   map[SessionID]int
	stopped atomic.Bool
	late    atomic.Int64 // frees after Stop returned
	wrong   atomic.Int64 // queued work that ran on another session
}

// TestChaosLifecycles runs random client lifecycles against two loops with
// a small session cap, then stops the server and checks that every session
// context was freed exactly once, nothing ran after Stop and nothing leaked.
func TestChaosLifecycles(t *testing.T) {
	total := 2000
	if testing.Short() {
		total = 400
	}
	const workers = 6
	g0, fd0 := serverGoroutines(), fdCount()
	led := &chaosLedger{opens: map[SessionID]int{}, frees: map[SessionID]int{}}
	srv, err := Start(Config{
		Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(),
		MaxOpenSockets: 12, LRUPurgeEnable: true, LRUGrace: 50 * time.Millisecond,
		IdleTimeout: 200 * time.Millisecond, LingerTimeout: 300 * time.Millisecond,
		RecvWaitTimeout: time.Second, TimerResolution: 10 * time.Millisecond,
		BlockingWorkers: 4,
		OnOpen: func(s *Session) error {
			id := s.ID()
			led.mu.Lock()
			led.opens[id]++
			led.mu.Unlock()
			s.SetCtx(id, func(v any) {
				if led.stopped.Load() {
					led.late.Add(1)
				}
				led.mu.Lock()
				led.frees[v.(SessionID)]++
				led.mu.Unlock()
			})
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mustRegister(t, srv,
		URIHandler{URI: "/id", Method: "GET", Handler: func(r *Request) error { return r.SendString(r.Session().ID().String()) }},
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/panic", Method: "GET", Handler: func(r *Request) error { panic("chaos") }},
		URIHandler{URI: "/block", Method: "POST", Blocking: true, Handler: func(r *Request) error {
			b, err := io.ReadAll(recvReader{r})
			if err != nil {
				return err
			}
			return r.Send(b)
		}},
	)
	addr := srv.Addr().String()
	deadline := time.Now().Add(40 * time.Second)
	var next atomic.Int64
	var served atomic.Int64
	var bg sync.WaitGroup

	type conn struct {
		c  net.Conn
		br *bufio.Reader
	}
	dialc := func() *conn {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			return nil
		}
		c.SetDeadline(time.Now().Add(3 * time.Second))
		return &conn{c, bufio.NewReader(c)}
	}
	// get sends one request and reads its reply; ok false on any failure
	// (the session may have been purged: that is part of the game).
	get := func(cn *conn, method, raw string) (string, bool) {
		if _, err := io.WriteString(cn.c, raw); err != nil {
			return "", false
		}
		resp, err := http.ReadResponse(cn.br, &http.Request{Method: method})
		if err != nil {
			return "", false
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			return "", false
		}
		served.Add(1)
		return string(b), true
	}
	toEOF := func(cn *conn) { io.Copy(io.Discard, cn.br) }
	sessionOf := func(s string) (SessionID, bool) {
		var slot, gen uint64
		for i := 0; i < len(s); i++ {
			if s[i] == ':' {
				for _, c := range s[:i] {
					slot = slot*10 + uint64(c-'0')
				}
				for _, c := range s[i+1:] {
					gen = gen*10 + uint64(c-'0')
				}
				return SessionID(gen<<32 | slot), true
			}
		}
		return 0, false
	}

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w) + 1))
			var held []*conn
			defer func() {
				for _, cn := range held {
					cn.c.Close()
				}
			}()
			for next.Add(1) <= int64(total) && time.Now().Before(deadline) {
				cn := dialc()
				if cn == nil {
					continue
				}
				switch k := rng.Intn(20); {
				case k < 4: // normal request
					get(cn, "GET", req("GET", "/id"))
				case k < 6: // pipelined, a body in the middle
					io.WriteString(cn.c, req("GET", "/id")+req("POST", "/echo", "Content-Length: 3")+"abc"+req("POST", "/block", "Content-Length: 2")+"xy")
					for i, m := range []string{"GET", "POST", "POST"} {
						resp, err := http.ReadResponse(cn.br, &http.Request{Method: m})
						if err != nil {
							break
						}
						io.Copy(io.Discard, resp.Body)
						if i == 2 {
							served.Add(1)
						}
					}
				case k < 8: // reset mid-request
					io.WriteString(cn.c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
					if tc, ok := cn.c.(*net.TCPConn); ok {
						tc.SetLinger(0)
					}
				case k < 10: // half-close mid-request
					io.WriteString(cn.c, "POST /block HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc")
					if tc, ok := cn.c.(*net.TCPConn); ok {
						tc.CloseWrite()
					}
					toEOF(cn)
				case k < 11: // idle until the idle timeout
					if _, ok := get(cn, "GET", req("GET", "/id")); ok {
						toEOF(cn)
					}
				case k < 14: // queued work from other goroutines
					if s, ok := get(cn, "GET", req("GET", "/id")); ok {
						if id, ok := sessionOf(s); ok {
							for g := 0; g < 2; g++ {
								bg.Add(1)
								go func() {
									defer bg.Done()
									for i := 0; i < 20; i++ {
										if srv.QueueWork(id, func(s *Session) {
											if s.ID() != id {
												led.wrong.Add(1)
											}
										}) != nil {
											return
										}
									}
								}()
							}
						}
					}
					if rng.Intn(2) == 0 {
						get(cn, "GET", req("GET", "/id"))
					}
				case k < 15: // TriggerClose from another goroutine
					if s, ok := get(cn, "GET", req("GET", "/id")); ok {
						if id, ok := sessionOf(s); ok {
							srv.TriggerClose(id)
							toEOF(cn)
						}
					}
				case k < 16: // panicking handler
					io.WriteString(cn.c, req("GET", "/panic"))
					toEOF(cn)
				default: // hold the session open: pushes the count over the cap
					if _, ok := get(cn, "GET", req("GET", "/id")); ok {
						cn.c.SetDeadline(time.Time{})
						held = append(held, cn)
						if len(held) > 12 {
							held[0].c.Close()
							held = held[1:]
						}
						continue
					}
				}
				cn.c.Close()
			}
		}(w)
	}
	wg.Wait()
	bg.Wait()
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	led.stopped.Store(true)
	st := srv.Stats()
	time.Sleep(50 * time.Millisecond)

	led.mu.Lock()
	bad := 0
	for id, n := range led.opens {
		if n != 1 || led.frees[id] != 1 {
			bad++
			if bad <= 10 {
				t.Errorf("session %v: opened %d, freed %d times; want 1, 1", id, n, led.frees[id])
			}
		}
	}
	for id, n := range led.frees {
		if led.opens[id] == 0 {
			t.Errorf("session %v freed %d times but never opened", id, n)
		}
	}
	opened := len(led.opens)
	led.mu.Unlock()
	if n := led.late.Load(); n != 0 {
		t.Errorf("%d free callbacks after Stop returned", n)
	}
	if n := led.wrong.Load(); n != 0 {
		t.Errorf("%d queued items ran on another session", n)
	}
	if served.Load() < int64(total)/10 {
		t.Errorf("only %d requests served over %d lifecycles", served.Load(), total)
	}
	t.Logf("%d sessions, %d requests served, stats %+v", opened, served.Load(), st)
	checkNoServerLeaks(t, g0, fd0)
}
