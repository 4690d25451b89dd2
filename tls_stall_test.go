package httpd

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// stallHandshakes opens n connections that each send one complete
// ClientHello (a fresh one from a Go TLS client) and then go silent: the
// server answers with its first flight and waits for the client's next one,
// which never comes. The connections close when the test ends.
func stallHandshakes(t testing.TB, srv *Server, n int) []*rawClient {
	t.Helper()
	rcs := make([]*rawClient, n)
	for i := range rcs {
		rcs[i] = dial(t, srv)
		rcs[i].write(string(clientHello(t)))
	}
	return rcs
}

// awaitServerFlight waits until the server has answered every staller's
// ClientHello (its first flight begins with a handshake record), so each of
// those handshakes has run its first step and now waits for the client.
func awaitServerFlight(t testing.TB, rcs []*rawClient, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for i, rc := range rcs {
		rc.c.SetReadDeadline(deadline)
		b, err := rc.br.Peek(1)
		if err != nil {
			t.Fatalf("staller %d of %d: no server flight: %v", i, len(rcs), err)
		}
		if b[0] != 22 { // handshake record (RFC 8446 §5.1)
			t.Fatalf("staller %d: server sent record type %d; want 22 (handshake)", i, b[0])
		}
	}
}

// stillOpen reports whether the server has not closed rc: nothing but the
// server's first flight has come and no EOF, within a short wait.
func stillOpen(rc *rawClient) bool {
	return !drainedToClose(rc, 10*time.Millisecond)
}

// TestTLSStalledHandshakesHoldNoWorker: 64 clients that each send a
// complete ClientHello and then go silent, against 2 handshake workers and
// a 30 s handshake timeout: Go's net/http client still completes fresh
// handshakes and requests within 5 s while every staller is held open, all
// of whose handshakes have been answered (so all 64 wait for their peer at
// once). A handshake waiting for its peer holds no worker.
func TestTLSStalledHandshakesHoldNoWorker(t *testing.T) {
	const stalled = 64
	var ev tlsEvents
	srv := startTLS(t, Config{OnEvent: ev.add, TLSHandshakeTimeout: 30 * time.Second,
		TLSHandshakeWorkers: 2, TLSHandshakeQueue: 2 * stalled})
	tlsRoutes(t, srv)
	rcs := stallHandshakes(t, srv, stalled)

	tr := &http.Transport{TLSClientConfig: testPKI().clientConfig(), DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	cl := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	get := func(round int) {
		t.Helper()
		resp, err := cl.Get("https://" + srv.Addr().String() + "/hello")
		if err != nil {
			t.Fatalf("round %d: GET /hello with %d handshakes stalled: %v", round, stalled, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "Hello World!" {
			t.Fatalf("round %d: GET /hello = %d %q", round, resp.StatusCode, body)
		}
	}
	get(0) // may queue behind the stallers' first steps, not behind their silence
	awaitServerFlight(t, rcs, 10*time.Second)
	for round := 1; round <= 3; round++ { // a new handshake each time
		get(round)
	}
	for i, rc := range rcs {
		if !stillOpen(rc) {
			t.Fatalf("staller %d was closed; want every handshake still waiting", i)
		}
	}
	if n := ev.count(EventError, ErrTLSHandshake); n != 0 {
		t.Errorf("%d handshake failures; want none", n)
	}
}

// TestTLSStalledHandshakesTimeOut: handshakes parked waiting for their
// peer still end at TLSHandshakeTimeout counted from accept, each with an
// EventError matching ErrTLSHandshakeTimeout; no goroutine outlives them
// while the server runs; and Stop with parked handshakes, handshakes
// waiting for a worker and sessions before their ClientHello leaves no
// goroutine or descriptor.
func TestTLSStalledHandshakesTimeOut(t *testing.T) {
	const (
		timeout = time.Second
		stalled = 16
	)
	g0, fd0 := serverGoroutines(), fdCount()
	var ev tlsEvents
	srv, err := Start(Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: testLogger(), OnEvent: ev.add,
		TLS: testPKI().tlsConfig(t, false), TLSHandshakeTimeout: timeout, TLSHandshakeWorkers: 1, TLSHandshakeQueue: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	tlsRoutes(t, srv)
	gRunning := serverGoroutines()

	start := time.Now() // before every accept
	rcs := stallHandshakes(t, srv, stalled)
	awaitServerFlight(t, rcs, 10*time.Second)
	for i, rc := range rcs {
		if !drainedToClose(rc, timeout+10*time.Second) {
			t.Fatalf("staller %d not closed", i)
		}
		if d := time.Since(start); d < timeout {
			t.Fatalf("staller %d closed after %v; want no sooner than %v", i, d, timeout)
		}
		rc.c.Close()
	}
	waitFor(t, "timeout events", 5*time.Second, func() bool {
		return ev.count(EventError, ErrTLSHandshakeTimeout) == stalled
	})
	waitFor(t, "every session closed", 5*time.Second, func() bool { return srv.Stats().Sessions == 0 })
	checkNoServerLeaks(t, gRunning, -1) // the handshake goroutines ended with their handshakes

	// Stop while handshakes are parked, others queue for the one worker
	// (sent at once, their first steps run one by one) and a few sessions
	// have not sent a ClientHello.
	rcs = stallHandshakes(t, srv, stalled)
	awaitServerFlight(t, rcs[:1], 10*time.Second)
	for i := 0; i < 3; i++ {
		rcs = append(rcs, dial(t, srv))
	}
	waitFor(t, "the sessions", 5*time.Second, func() bool { return srv.Stats().Sessions == len(rcs) })
	srv.Stop()
	for _, rc := range rcs {
		rc.c.Close()
	}
	checkNoServerLeaks(t, g0, fd0)
}

// TestTLSHandshakeQueueBoundsParked: TLSHandshakeWorkers +
// TLSHandshakeQueue bounds the handshakes in progress, parked ones
// included: with 1 + 3 places held by stalled clients, a fifth ClientHello
// is refused (closed, EventError matching ErrTLSHandshakeBusy); once a
// staller leaves, its place frees and a good client is served.
func TestTLSHandshakeQueueBoundsParked(t *testing.T) {
	var ev tlsEvents
	srv := startTLS(t, Config{OnEvent: ev.add, TLSHandshakeTimeout: 30 * time.Second,
		TLSHandshakeWorkers: 1, TLSHandshakeQueue: 3})
	tlsRoutes(t, srv)
	rcs := stallHandshakes(t, srv, 4)
	awaitServerFlight(t, rcs, 10*time.Second)

	extra := stallHandshakes(t, srv, 1)[0]
	if !drainedToClose(extra, 10*time.Second) {
		t.Fatal("a fifth handshake was not refused")
	}
	waitFor(t, "the busy event", 5*time.Second, func() bool { return ev.count(EventError, ErrTLSHandshakeBusy) == 1 })

	rcs[0].c.Close()
	// The place frees once the server has seen the close and the parked
	// goroutine has ended: a bounded number of tries, each refused at once
	// until then.
	var err error
	for try := 0; try < 100; try++ {
		var c *tls.Conn
		if c, err = tlsDial(srv, nil, 0); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no handshake after a staller left: %v", err)
	}
	for i, rc := range rcs[1:] {
		if !stillOpen(rc) {
			t.Fatalf("staller %d was closed; want still waiting", i+1)
		}
	}
}

// TestTLSStallMeasure times a good client's handshake (TCP connect to
// handshake done, the median of many) with no handshake stalled, then with
// EVHTTPD_TLS_STALL_MEASURE stalled handshakes open (each answered by the
// server and waiting for its peer), then with none again, at the default
// worker and queue sizes; it logs the medians and the ratio. It is a
// measurement, not part of the normal suite:
//
//	EVHTTPD_TLS_STALL_MEASURE=1000 go test -count=1 -run TestTLSStallMeasure -v .
func TestTLSStallMeasure(t *testing.T) {
	var stalled int
	if _, err := fmt.Sscan(os.Getenv("EVHTTPD_TLS_STALL_MEASURE"), &stalled); err != nil || stalled <= 0 {
		t.Skip("set EVHTTPD_TLS_STALL_MEASURE to the number of stalled handshakes, e.g. 1000")
	}
	const samples = 300
	srv := startTLS(t, Config{TLSHandshakeTimeout: 10 * time.Minute, TLSHandshakeQueue: max(DefaultTLSHandshakeQueue, stalled)})
	addr := srv.Addr().String()
	cfg := testPKI().clientConfig()
	median := func(what string) time.Duration {
		ds := make([]time.Duration, samples)
		for i := range ds {
			start := time.Now()
			raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = c.HandshakeContext(ctx)
			ds[i] = time.Since(start)
			cancel()
			c.Close()
			if err != nil {
				t.Fatalf("%s: handshake %d: %v", what, i, err)
			}
		}
		slices.Sort(ds)
		t.Logf("%-28s median %v, p90 %v, max %v", what, ds[len(ds)/2], ds[len(ds)*9/10], ds[len(ds)-1])
		return ds[len(ds)/2]
	}
	median("warm-up")
	before := median("0 stalled")
	var ms0, ms runtime.MemStats
	g0 := runtime.NumGoroutine()
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	rcs := stallHandshakes(t, srv, stalled)
	awaitServerFlight(t, rcs, time.Minute)
	g := runtime.NumGoroutine()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	loaded := median(fmt.Sprintf("%d stalled", stalled))
	for _, rc := range rcs {
		if !stillOpen(rc) {
			t.Fatal("a staller was closed during the measurement")
		}
	}
	t.Logf("%d stalled: %+d goroutines, %+d KiB of stacks, %+d KiB of heap", stalled, g-g0,
		(int64(ms.StackInuse)-int64(ms0.StackInuse))>>10, (int64(ms.HeapAlloc)-int64(ms0.HeapAlloc))>>10)
	var wg sync.WaitGroup
	for _, rc := range rcs {
		wg.Add(1)
		go func() { defer wg.Done(); rc.c.Close() }()
	}
	wg.Wait()
	waitFor(t, "the stallers gone", 30*time.Second, func() bool { return srv.Stats().Sessions == 0 })
	after := median("0 stalled, again")
	t.Logf("ratio %d stalled / 0 stalled: %.2f (against the first baseline %.2f, the second %.2f)", stalled,
		float64(loaded)/float64(before+after)*2, float64(loaded)/float64(before), float64(loaded)/float64(after))
}
