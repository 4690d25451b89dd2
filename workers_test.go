package httpd

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// goroutineID returns the calling goroutine's number, from its stack
// header ("goroutine 42 [running]:").
func goroutineID() int {
	var b [64]byte
	s := b[:runtime.Stack(b[:], false)]
	s = bytes.TrimPrefix(s, []byte("goroutine "))
	id, _ := strconv.Atoi(string(s[:bytes.IndexByte(s, ' ')]))
	return id
}

// TestBlockingWorkersParked: a worker that finished a Blocking request
// serves the next one (sequential requests run on a handful of goroutines,
// not one each); at most idleWorkers stay parked after a burst; Stop ends
// them, so no worker goroutine outlives the server.
func TestBlockingWorkersParked(t *testing.T) {
	srv, err := Start(Config{Addr: "127.0.0.1:0", EventLoops: 1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.Stop()
		}
	}()
	var mu sync.Mutex
	ids := map[int]int{}
	gate := make(chan struct{})
	mustRegister(t, srv,
		URIHandler{URI: "/id", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			mu.Lock()
			ids[goroutineID()]++
			mu.Unlock()
			return r.SendString("ok")
		}},
		URIHandler{URI: "/hold", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			<-gate
			return r.SendString("held")
		}})

	c := dial(t, srv)
	const n = 50
	for i := 0; i < n; i++ {
		c.write(req("GET", "/id"))
		if resp := c.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("request %d -> %d", i, resp.StatusCode)
		}
	}
	// A worker parks right after handing its reply over, so the next
	// request may on occasion find it not yet parked and start another.
	mu.Lock()
	distinct := len(ids)
	mu.Unlock()
	if distinct > n/2 {
		t.Errorf("%d sequential Blocking requests ran on %d goroutines; want them reused", n, distinct)
	}
	t.Logf("%d sequential Blocking requests ran on %d goroutines", n, distinct)

	// A burst of idleWorkers+8 concurrent requests: all run, then at most
	// idleWorkers workers stay.
	const burst = idleWorkers + 8
	var clients []*rawClient
	for i := 0; i < burst; i++ {
		cl := dial(t, srv)
		cl.write(req("GET", "/hold"))
		clients = append(clients, cl)
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.pool.busy.Load() < burst {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d held requests running", srv.pool.busy.Load(), burst)
		}
		time.Sleep(time.Millisecond)
	}
	close(gate)
	for _, cl := range clients {
		if resp := cl.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("held request -> %d", resp.StatusCode)
		}
	}
	for {
		srv.pool.mu.Lock()
		parked := len(srv.pool.idle)
		srv.pool.mu.Unlock()
		if parked == idleWorkers {
			break
		}
		if parked > idleWorkers || time.Now().After(deadline) {
			t.Fatalf("%d workers parked after a burst of %d; want %d", parked, burst, idleWorkers)
		}
		time.Sleep(time.Millisecond)
	}

	c.c.Close()
	for _, cl := range clients {
		cl.c.Close()
	}
	srv.Stop()
	stopped = true
	// Stop waited for the workers; gnet's own pool keeps goroutines of its
	// own for a while, so the check is on worker stacks, not a count.
	buf := make([]byte, 1<<20)
	if st := buf[:runtime.Stack(buf, true)]; bytes.Contains(st, []byte("workerPool).run")) {
		t.Fatalf("a worker goroutine outlived Stop:\n%s", st)
	}
}
