package httpd

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/internal/reuse"
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
	// A worker calls wg.Done in its last deferred call, so Stop may return
	// while one is still on its way out: wait for the stacks to go.
	buf := make([]byte, 1<<20)
	gone := time.Now().Add(5 * time.Second)
	for {
		st := buf[:runtime.Stack(buf, true)]
		if !bytes.Contains(st, []byte("workerPool).run")) {
			break
		}
		if time.Now().After(gone) {
			t.Fatalf("a worker goroutine outlived Stop by 5 s:\n%s", st)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBlockingPrebufferedBodyHanded: a prebuffered body of at least
// takeMin goes to the worker in the input's own buffer (handBody); the
// handler reads it whole and intact, a request pipelined behind it in the
// same write is served next, the budget counts the handed bytes while the
// request runs, and a Recv after the handler returned fails instead of
// reading the buffer, which the engine reuses.
func TestBlockingPrebufferedBodyHanded(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	type result struct {
		sum     [32]byte
		n       int
		held    int64
		lateErr error
	}
	// Only an engine that lends its buffer hands the body over; others
	// feed the pipe, which holds at most pipeCap.
	e := os.Getenv("EVHTTPD_ENGINE")
	lends := e == "" || e == "gnet"
	results := make(chan result, 4)
	late := make(chan *Request, 4)
	mustRegister(t, srv, URIHandler{URI: "/up", Method: "POST", Blocking: true, Handler: func(r *Request) error {
		h := sha256.New()
		buf := make([]byte, 8<<10)
		n := 0
		for {
			k, err := r.Recv(buf)
			h.Write(buf[:k])
			n += k
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		var res result
		copy(res.sum[:], h.Sum(nil))
		res.n, res.held = n, srv.Stats().Buffered
		// The loop brings the budget up to date at the end of the callback
		// that handed the body over, which may come after the handler has
		// read it: wait (bounded) for the count while the body is held.
		for end := time.Now().Add(10 * time.Second); lends && n >= 300<<10 && res.held < int64(n) && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
			res.held = srv.Stats().Buffered
		}
		results <- res
		late <- r
		return r.SendString(strconv.Itoa(n))
	}})
	body := make([]byte, 300<<10)
	for i := range body {
		body[i] = byte(i*31 + i>>9)
	}
	want := sha256.Sum256(body)
	c := dial(t, srv)
	// The whole body, then a second request, in one write: the body is
	// prebuffered and the second request follows it in the same buffer.
	c.write(req("POST", "/up", "Content-Length: "+strconv.Itoa(len(body))) + string(body) +
		req("POST", "/up", "Content-Length: 5") + "hello")
	for i, wantN := range []int{len(body), 5} {
		resp := c.response("POST")
		if got := bodyOf(resp); resp.StatusCode != 200 || got != strconv.Itoa(wantN) {
			t.Fatalf("request %d -> %d %q; want 200 %d", i, resp.StatusCode, got, wantN)
		}
		res := <-results
		if res.n != wantN {
			t.Fatalf("request %d: handler read %d bytes; want %d", i, res.n, wantN)
		}
		if i == 0 {
			if res.sum != want {
				t.Fatal("the handed body differs from the one sent")
			}
			if lends && res.held < int64(len(body)) {
				t.Errorf("the budget counted %d bytes while the handler held the %d-byte body", res.held, len(body))
			}
		}
		r := <-late
		waitFor(t, "the request's end on the loop", 10*time.Second, func() bool { return srv.Stats().Buffered < int64(len(body)) })
		if k, err := r.Recv(make([]byte, 16)); k != 0 || !errors.Is(err, ErrReplyDone) {
			t.Errorf("request %d: Recv after the handler returned = %d, %v; want ErrReplyDone", i, k, err)
		}
	}
}

// TestBlockingPipelinedOneProc: on one P the loop drains what a worker
// hands back right after yielding to it when a pipelined request waits
// (yieldToWorkers), so a pipeline of Blocking requests is served in
// order, whole, in one callback's rounds and across callbacks (more
// requests than maxYieldRounds), while another connection is served too.
func TestBlockingPipelinedOneProc(t *testing.T) {
	srv := startOneProc(t)
	mustRegister(t, srv, URIHandler{URI: "/n", Method: MethodAny, Blocking: true, Handler: func(r *Request) error {
		body, err := io.ReadAll(recvReader{r})
		if err != nil {
			return err
		}
		i, _ := r.QueryValue("i")
		return r.SendString(string(i) + ":" + string(body))
	}})
	const n = 3*maxYieldRounds + 5
	var pipe strings.Builder
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			pipe.WriteString(req("POST", "/n?i="+strconv.Itoa(i), "Content-Length: 4") + "body")
		} else {
			pipe.WriteString(req("GET", "/n?i="+strconv.Itoa(i)))
		}
	}
	a, b := dial(t, srv), dial(t, srv)
	a.write(pipe.String())
	b.write(req("GET", "/n?i=b"))
	if resp := b.response("GET"); bodyOf(resp) != "b:" {
		t.Errorf("the other connection got %q", bodyOf(resp))
	}
	for i := 0; i < n; i++ {
		want := strconv.Itoa(i) + ":"
		if i%3 == 0 {
			want += "body"
		}
		if got := bodyOf(a.response("GET")); got != want {
			t.Fatalf("pipelined reply %d = %q; want %q", i, got, want)
		}
	}
}

// TestBlockingPipelinedBatched: on the one-P path the replies of pipelined
// Blocking requests are held back and leave together (holdOut). Every
// reply still arrives whole and in order, whatever comes between them: a
// loop handler's reply, a reply larger than holdMax, a streamed (chunked)
// one, a request that ends the session; the other connection is served.
func TestBlockingPipelinedBatched(t *testing.T) {
	srv := startOneProc(t)
	big := strings.Repeat("x", holdMax+1000)
	mustRegister(t, srv,
		URIHandler{URI: "/b", Method: "GET", Blocking: true, Handler: func(r *Request) error {
			i, _ := r.QueryValue("i")
			switch string(i) {
			case "big":
				return r.SendString(big)
			case "stream":
				for _, p := range []string{"a", "b", "c"} {
					if err := r.SendChunk([]byte(p)); err != nil {
						return err
					}
					if err := r.Flush(); err != nil {
						return err
					}
				}
				return r.SendChunk(nil)
			}
			return r.SendString("b" + string(i))
		}},
		URIHandler{URI: "/l", Method: "GET", Handler: func(r *Request) error {
			return r.SendString("loop")
		}})
	want := []string{}
	var pipe strings.Builder
	add := func(path, body string, hdr ...string) {
		pipe.WriteString(req("GET", path, hdr...))
		want = append(want, body)
	}
	for round := 0; round < 3; round++ {
		for i := 0; i < 8; i++ {
			add("/b?i="+strconv.Itoa(i), "b"+strconv.Itoa(i))
		}
		add("/l", "loop")
		add("/b?i=big", big)
		add("/b?i=stream", "abc")
	}
	add("/b?i=last", "blast", "Connection: close")
	a, b := dial(t, srv), dial(t, srv)
	a.write(pipe.String())
	b.write(req("GET", "/b?i=other"))
	if got := bodyOf(b.response("GET")); got != "bother" {
		t.Errorf("the other connection got %q", got)
	}
	for i, w := range want {
		resp := a.response("GET")
		if got := bodyOf(resp); resp.StatusCode != 200 || got != w {
			t.Fatalf("pipelined reply %d: %d, %d bytes; want 200 and %d bytes (%.20q)", i, resp.StatusCode, len(got), len(w), w)
		}
	}
	if !a.closedByPeer(5 * time.Second) {
		t.Error("the session stayed open after Connection: close")
	}
	srv.Stop() // the loop is done: its count can be read
	// Whether a reply is held depends on the worker finishing within the
	// loop's yield; TestBlockingPipelinedRandom, with many more requests,
	// asserts that batching happens.
	t.Logf("%d replies held back", srv.loops[0].holds)
}

// TestBlockingPipelinedRandom drives the batching of pipelined Blocking
// replies (holdOut) with random pipelines on the one-P path: Blocking
// replies small, larger than holdMax and streamed, loop handler replies,
// request bodies, sent whole or in random pieces, some ending with
// Connection: close. Every reply arrives whole and in order, and a session
// told to close closes after its last reply. Seeded: the same pipelines on
// every run.
func TestBlockingPipelinedRandom(t *testing.T) {
	for _, reused := range []bool{false, true} {
		name := "new requests"
		if reused {
			name = "reused requests" // internal/reuse, as the nethttp bridge asks
		}
		t.Run(name, func(t *testing.T) { blockingPipelinedRandom(t, reused) })
	}
}

func blockingPipelinedRandom(t *testing.T, reused bool) {
	srv := startOneProc(t)
	big := strings.Repeat("y", holdMax+3000)
	bh := URIHandler{URI: "/b", Method: MethodAny, Blocking: true}
	if reused {
		reuse.Mark(&bh)
	}
	seen := map[*Request]bool{}
	var seenMu sync.Mutex
	bh.Handler = func(r *Request) error {
		seenMu.Lock()
		seen[r] = true
		seenMu.Unlock()
		body, err := io.ReadAll(recvReader{r})
		if err != nil {
			return err
		}
		k, _ := r.QueryValue("k")
		switch string(k) {
		case "big":
			return r.SendString(big)
		case "stream":
			for i := 0; i < 3; i++ {
				if err := r.SendChunk([]byte(strconv.Itoa(i))); err != nil {
					return err
				}
			}
			return r.SendChunk(nil)
		}
		return r.SendString("b" + string(k) + ":" + string(body))
	}
	mustRegister(t, srv, bh,
		URIHandler{URI: "/l", Method: "GET", Handler: func(r *Request) error {
			k, _ := r.QueryValue("k")
			return r.SendString("l" + string(k))
		}})
	rng := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 30; round++ {
		var pipe strings.Builder
		var want []string
		n := 1 + rng.IntN(40)
		closing := rng.IntN(3) == 0
		for i := 0; i < n; i++ {
			k := strconv.Itoa(i)
			var hdr []string
			if closing && i == n-1 {
				hdr = append(hdr, "Connection: close")
			}
			switch rng.IntN(6) {
			case 0:
				pipe.WriteString(req("GET", "/l?k="+k, hdr...))
				want = append(want, "l"+k)
			case 1:
				pipe.WriteString(req("GET", "/b?k=big", hdr...))
				want = append(want, big)
			case 2:
				pipe.WriteString(req("GET", "/b?k=stream", hdr...))
				want = append(want, "012")
			case 3:
				body := strings.Repeat("z", rng.IntN(3000))
				pipe.WriteString(req("POST", "/b?k="+k, append(hdr, "Content-Length: "+strconv.Itoa(len(body)))...) + body)
				want = append(want, "b"+k+":"+body)
			default:
				pipe.WriteString(req("GET", "/b?k="+k, hdr...))
				want = append(want, "b"+k+":")
			}
		}
		c := dial(t, srv)
		if rng.IntN(2) == 0 {
			c.write(pipe.String())
		} else {
			c.writeSplit(pipe.String(), 1+rng.IntN(500))
		}
		for i, w := range want {
			resp := c.response("GET")
			if got := bodyOf(resp); resp.StatusCode != 200 || got != w {
				t.Fatalf("round %d, reply %d of %d: %d, %d bytes; want 200 and %d bytes (%.20q)", round, i, n, resp.StatusCode, len(got), len(w), w)
			}
		}
		if closing && !c.closedByPeer(5*time.Second) {
			t.Fatalf("round %d: the session stayed open after Connection: close", round)
		}
		c.c.Close()
	}
	srv.Stop() // the loop is done: its count can be read
	if srv.loops[0].holds == 0 {
		t.Error("no reply was held back for a batch")
	}
	lp := srv.loops[0]
	t.Logf("%d Blocking requests in %d distinct Requests, %d reuses", lp.brNew+lp.brReused, len(seen), lp.brReused)
	switch {
	case reused && lp.brReused == 0:
		t.Error("no Blocking request was reused")
	case !reused && lp.brReused != 0:
		t.Errorf("%d requests of an unmarked handler were reused", lp.brReused)
	}
}

// startOneProc starts a one-loop test server that takes the one-P path
// (yieldToWorkers' rounds) whatever GOMAXPROCS the tests run with.
func startOneProc(t *testing.T) *Server {
	t.Helper()
	saved := oneProc
	oneProc = func() bool { return true }
	srv := startTest(t, Config{EventLoops: 1})
	oneProc = saved
	if !srv.oneProc {
		t.Fatal("the server does not run its one-P path")
	}
	return srv
}

// TestBlockingReuseEndings: a reusable (internal/reuse) Blocking request
// is reused only when it ended whole and the session goes on: one pinned
// by reuse.Pin, and one whose handler returned before its body arrived
// (the server then skips the body as it comes) never come back for a
// later request, and every reply is right.
func TestBlockingReuseEndings(t *testing.T) {
	// No prebuffering: a body may still be on its way when the handler runs.
	srv := startTest(t, Config{EventLoops: 1, BlockingPrebuffer: -1})
	var mu sync.Mutex
	kept := map[*Request]string{} // requests that must not be reused, kept from the GC too
	ordinary := 0
	bh := URIHandler{URI: "/r", Method: MethodAny, Blocking: true, Handler: func(r *Request) error {
		k, _ := r.QueryValue("k")
		mu.Lock()
		defer mu.Unlock()
		if why, ok := kept[r]; ok {
			t.Errorf("request %q reused a Request that %s", k, why)
		}
		switch string(k) {
		case "pin":
			reuse.Pin(r)
			kept[r] = "was pinned"
		case "early":
			kept[r] = "returned before its body arrived"
		default:
			ordinary++
			body, err := io.ReadAll(recvReader{r})
			if err != nil {
				return err
			}
			return r.SendString(string(k) + ":" + string(body))
		}
		return r.SendString(string(k))
	}}
	reuse.Mark(&bh)
	mustRegister(t, srv, bh)
	c := dial(t, srv)
	check := func(k, body, want string) {
		t.Helper()
		if body == "" {
			c.write(req("GET", "/r?k="+k))
		} else {
			c.write(req("POST", "/r?k="+k, "Content-Length: "+strconv.Itoa(len(body))) + body)
		}
		resp := c.response("GET")
		if got := bodyOf(resp); got != want {
			t.Fatalf("%s: %d %q; want %q", k, resp.StatusCode, got, want)
		}
	}
	for round := 0; round < 20; round++ {
		check("a", "", "a:")
		check("pin", "", "pin")
		check("b", "xyz", "b:xyz")
		// The head alone; the reply; then the body, which is skipped.
		c.write(req("POST", "/r?k=early", "Content-Length: 100"))
		if got := bodyOf(c.response("POST")); got != "early" {
			t.Fatalf("early: %q", got)
		}
		c.write(strings.Repeat("u", 100))
		check("c", "", "c:")
	}
	srv.Stop()
	lp := srv.loops[0]
	t.Logf("%d allocated, %d reused, %d requests kept from reuse", lp.brNew, lp.brReused, len(kept))
	if lp.brReused == 0 {
		t.Error("nothing was reused")
	}
	if ordinary != 60 {
		t.Errorf("%d ordinary requests ran; want 60", ordinary)
	}
}
