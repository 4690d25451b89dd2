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
// handshake done) with no handshake stalled and with
// EVHTTPD_TLS_STALL_MEASURE stalled handshakes open (each answered by the
// server and waiting for its peer), at the default worker and queue sizes.
// The two phases alternate over several rounds, the stallers opened afresh
// for each, so drift of a shared machine's load hits both alike; it logs
// the ratio of the medians over all rounds and the range of the rounds'
// ratios. It is a measurement, not part of the normal suite:
//
//	EVHTTPD_TLS_STALL_MEASURE=1000 go test -count=1 -run TestTLSStallMeasure -v .
func TestTLSStallMeasure(t *testing.T) {
	var stalled int
	if _, err := fmt.Sscan(os.Getenv("EVHTTPD_TLS_STALL_MEASURE"), &stalled); err != nil || stalled <= 0 {
		t.Skip("set EVHTTPD_TLS_STALL_MEASURE to the number of stalled handshakes, e.g. 1000")
	}
	const (
		rounds  = 5
		samples = 100 // per phase and round
	)
	srv := startTLS(t, Config{TLSHandshakeTimeout: 10 * time.Minute, TLSHandshakeQueue: max(DefaultTLSHandshakeQueue, stalled)})
	addr := srv.Addr().String()
	cfg := testPKI().clientConfig()
	handshakes := func(what string, ds []time.Duration) []time.Duration {
		for i := 0; i < samples; i++ {
			start := time.Now()
			raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			c := tls.Client(raw, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err = c.HandshakeContext(ctx)
			ds = append(ds, time.Since(start))
			cancel()
			c.Close()
			if err != nil {
				t.Fatalf("%s: handshake %d: %v", what, i, err)
			}
		}
		return ds
	}
	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	// stall opens the stallers without the test's cleanups (thousands over
	// the rounds) and waits until the server has answered each.
	stall := func() []net.Conn {
		cs := make([]net.Conn, 0, stalled)
		for len(cs) < stalled {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
			if _, err := c.Write(clientHello(t)); err != nil {
				t.Fatal(err)
			}
		}
		var b [1]byte
		for i, c := range cs {
			c.SetReadDeadline(time.Now().Add(time.Minute))
			if _, err := io.ReadFull(c, b[:]); err != nil || b[0] != 22 {
				t.Fatalf("staller %d: no server flight: %v", i, err)
			}
		}
		return cs
	}
	handshakes("warm-up", nil)
	var idle, loaded []time.Duration
	ratios := make([]float64, 0, rounds)
	var g, stacks, heap int64
	for r := 0; r < rounds; r++ {
		i0 := handshakes("0 stalled", nil)
		var ms0, ms runtime.MemStats
		g0 := runtime.NumGoroutine()
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		cs := stall()
		g += int64(runtime.NumGoroutine() - g0)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		stacks += int64(ms.StackInuse) - int64(ms0.StackInuse)
		heap += int64(ms.HeapAlloc) - int64(ms0.HeapAlloc)
		l := handshakes(fmt.Sprintf("%d stalled", stalled), nil)
		for i, c := range cs {
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := io.Copy(io.Discard, c); !isTimeout(err) {
				t.Fatalf("staller %d closed during the measurement (%v)", i, err)
			}
			c.Close()
		}
		waitFor(t, "the stallers gone", time.Minute, func() bool { return srv.Stats().Sessions == 0 })
		t.Logf("round %d: median %v with 0 stalled, %v with %d stalled", r, median(i0), median(l), stalled)
		ratios = append(ratios, float64(median(l))/float64(median(i0)))
		idle, loaded = append(idle, i0...), append(loaded, l...)
	}
	slices.Sort(ratios)
	t.Logf("%d stalled handshakes: %+d goroutines, %+d KiB of stacks, %+d KiB of heap (server and test clients)",
		stalled, g/rounds, stacks/rounds>>10, heap/rounds>>10)
	t.Logf("handshake median %v with 0 stalled, %v with %d stalled: ratio %.2f (rounds' ratios %.2f..%.2f, median %.2f)",
		median(idle), median(loaded), stalled, float64(median(loaded))/float64(median(idle)),
		ratios[0], ratios[len(ratios)-1], ratios[len(ratios)/2])
}
