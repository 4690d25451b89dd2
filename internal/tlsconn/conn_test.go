package tlsconn

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// versions are the protocol versions a client offers in the tests.
var versions = []struct {
	name string
	max  uint16
}{{"TLS1.3", tls.VersionTLS13}, {"TLS1.2", tls.VersionTLS12}}

// TestHandshakeAndRecords: a crypto/tls client completes a full handshake
// with a Conn (whole flights, and its bytes offered to Recv one at a
// time), Host.HandshakeDone runs once, the connection state is the
// negotiated one, records go both ways, output sent before the handshake
// ended reaches the client first, and the pool ends with every slot free
// and no handshake in progress.
func TestHandshakeAndRecords(t *testing.T) {
	for _, v := range versions {
		for _, piece := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/piece=%d", v.name, piece), func(t *testing.T) {
				pool := NewPool(2, 4)
				h := newHarness(t, serverConfig(nil), pool, time.Minute)
				h.piece = piece
				if !h.conn.Handshaking() {
					t.Fatal("Handshaking() = false before the ClientHello")
				}
				if err := h.send("early "); err != nil {
					t.Fatalf("Send before the handshake: %v", err)
				}
				tc := h.client(clientConfig(serverName, v.max))
				h.handshake(tc)

				if h.conn.Handshaking() {
					t.Error("Handshaking() = true after HandshakeDone")
				}
				cs, ok := h.conn.ConnectionState()
				if !ok || cs.Version != v.max || cs.NegotiatedProtocol != "http/1.1" || cs.ServerName != serverName {
					t.Errorf("ConnectionState() = version %x, ALPN %q, SNI %q, %v; want %x, http/1.1, %s, true",
						cs.Version, cs.NegotiatedProtocol, cs.ServerName, ok, v.max, serverName)
				}

				if _, err := tc.Write([]byte("ping")); err != nil {
					t.Fatal(err)
				}
				h.await("plaintext ping", func() bool { return string(h.plain) == "ping" })
				if err := h.send("pong"); err != nil {
					t.Fatalf("Send: %v", err)
				}
				if got := readFull(t, h, tc, len("early pong")); got != "early pong" {
					t.Errorf("client read %q; want %q", got, "early pong")
				}
				if n := h.dones.Load(); n != 1 {
					t.Errorf("HandshakeDone ran %d times; want 1", n)
				}
				awaitPool(t, pool, "idle", idle(2))
			})
		}
	}
}

// TestRecordsSplitAtEveryOffset: after the handshake, the client's
// records (two messages, two records) are offered to Recv cut at every
// offset, the unused rest offered again with the bytes after it, and byte
// by byte: the plaintext and the bytes used never change.
func TestRecordsSplitAtEveryOffset(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			h := newHarness(t, serverConfig(nil), NewPool(1, 0), time.Minute)
			tc := h.client(clientConfig(serverName, v.max))
			h.handshake(tc)
			h.stopLoop() // from here the test is the loop

			const want = "GET / HTTP/1.1\r\n\r\nGET /second HTTP/1.1\r\n\r\n"
			records := func() []byte {
				h.mu.Lock()
				h.up = nil
				h.mu.Unlock()
				for _, m := range []string{want[:18], want[18:]} {
					if _, err := tc.Write([]byte(m)); err != nil {
						t.Fatal(err)
					}
				}
				h.mu.Lock()
				defer h.mu.Unlock()
				return bytes.Clone(h.up)
			}
			first := records()
			n := len(first)
			if got, err := feed(h.conn, first, n); got != want || err != nil {
				t.Fatalf("whole: plaintext %q, %v; want %q", got, err, want)
			}
			for cut := 0; cut <= n; cut++ {
				if got, err := feed(h.conn, records(), cut); got != want || err != nil {
					t.Fatalf("cut at %d of %d: plaintext %q, %v; want %q", cut, n, got, err, want)
				}
			}
			if got, err := feed(h.conn, records(), 1, 1); got != want || err != nil {
				t.Fatalf("byte by byte: plaintext %q, %v; want %q", got, err, want)
			}
		})
	}
}

// feed offers wire to c the way a loop does: the first piece ends at
// cuts[0] (then each following piece is cuts[1] bytes long, when given),
// and whatever Recv leaves is offered again ahead of the next piece. It
// returns the plaintext, after checking that Recv used every byte.
func feed(c *Conn, wire []byte, cuts ...int) (string, error) {
	var plain []byte
	queued, end := 0, cuts[0] // wire[queued:end] is what the socket holds
	for {
		n, out, err := c.Recv(wire[queued:end], plain)
		plain = out
		queued += n
		if err != nil {
			return string(plain), err
		}
		if end == len(wire) {
			if queued != end {
				return string(plain), fmt.Errorf("Recv left %d bytes of the last piece", end-queued)
			}
			return string(plain), nil
		}
		step := len(wire)
		if len(cuts) > 1 {
			step = cuts[1]
		}
		end = min(end+step, len(wire))
	}
}

// TestRecvStep: a message far larger than recvStep is released in steps
// of about recvStep; between them Pending reports the rest, which Recv
// releases with no more input.
func TestRecvStep(t *testing.T) {
	h := newHarness(t, serverConfig(nil), NewPool(1, 0), time.Minute)
	tc := h.client(clientConfig(serverName, 0))
	h.handshake(tc)
	h.stopLoop()

	big := bytes.Repeat([]byte("0123456789abcdef"), 3*recvStep/16+100)
	h.mu.Lock()
	h.up = nil
	h.mu.Unlock()
	if _, err := tc.Write(big); err != nil {
		t.Fatal(err)
	}
	wire := h.up
	var plain []byte
	steps := 0
	for len(wire) > 0 || h.conn.Pending() > 0 {
		before := len(plain)
		n, out, err := h.conn.Recv(wire, plain)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		wire, plain = wire[n:], out
		got := len(plain) - before
		if got > recvStep+16<<10 {
			t.Fatalf("one Recv released %d bytes; want at most recvStep plus one record", got)
		}
		if len(plain) < len(big) && (got < recvStep || h.conn.Pending() != 1) {
			t.Fatalf("Recv %d released %d bytes (%d of %d so far), then Pending() = %d; want at least recvStep, then 1",
				steps, got, len(plain), len(big), h.conn.Pending())
		}
		if steps++; steps > 100 {
			t.Fatal("Recv makes no progress")
		}
	}
	if !bytes.Equal(plain, big) {
		t.Fatalf("plaintext of %d bytes differs from the %d sent", len(plain), len(big))
	}
}

// TestHandshakeFailure: a client that rejects the certificate, a plain
// HTTP request and junk each fail the handshake: Recv returns an error
// matching ErrHandshake with the reason, Pending reports it, Handshaking
// turns false, and the pool frees the place. The HTTP client gets a 400
// it can read.
func TestHandshakeFailure(t *testing.T) {
	t.Run("untrusted", func(t *testing.T) {
		pool := NewPool(1, 1)
		h := newHarness(t, serverConfig(nil), pool, time.Minute)
		tc := h.client(&tls.Config{ServerName: serverName, RootCAs: x509.NewCertPool()})
		if err := tc.Handshake(); err == nil {
			t.Fatal("client accepted an untrusted certificate")
		}
		h.await("the failure", func() bool { return h.err != nil })
		var op *net.OpError
		if !errors.Is(h.err, ErrHandshake) || !errors.As(h.err, &op) || op.Op != "remote error" {
			t.Errorf("Recv error %v; want ErrHandshake with the client's alert", h.err)
		}
		checkFailed(t, h, pool, 1)
	})
	for _, tt := range []struct {
		name, input, reply string
	}{
		{"http", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", plainOnTLSReply},
		{"junk", "\x00\x01garbage\r\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pool := NewPool(1, 1)
			h := newHarness(t, serverConfig(nil), pool, time.Minute)
			_, _ = clientEnd{h}.Write([]byte(tt.input))
			h.await("the failure", func() bool { return h.err != nil })
			var rh tls.RecordHeaderError
			if !errors.Is(h.err, ErrHandshake) || !errors.As(h.err, &rh) {
				t.Errorf("Recv error %v; want ErrHandshake with a tls.RecordHeaderError", h.err)
			}
			if got := readAll(t, h); got != tt.reply {
				t.Errorf("server wrote %q; want %q", got, tt.reply)
			}
			checkFailed(t, h, pool, 1)
		})
	}
}

// checkFailed checks the state a failed handshake leaves.
func checkFailed(t *testing.T, h *harness, pool *Pool, workers int) {
	t.Helper()
	h.stopLoop()
	if h.conn.Handshaking() || h.conn.Pending() != 1 {
		t.Errorf("after a failure: Handshaking() = %v, Pending() = %d; want false, 1", h.conn.Handshaking(), h.conn.Pending())
	}
	if _, err := h.conn.Send(nil, []byte("x")); !errors.Is(err, ErrHandshake) {
		t.Errorf("Send after a failure: %v; want ErrHandshake", err)
	}
	if _, ok := h.conn.ConnectionState(); ok {
		t.Error("ConnectionState reports a failed connection")
	}
	if h.dones.Load() != 0 {
		t.Error("HandshakeDone ran for a failed handshake")
	}
	awaitPool(t, pool, "idle", idle(workers))
}

// readAll returns what the server wrote before it closed.
func readAll(t *testing.T, h *harness) string {
	t.Helper()
	guard := time.AfterFunc(10*time.Second, func() { _ = clientEnd{h}.Close() })
	defer guard.Stop()
	b, _ := io.ReadAll(clientEnd{h})
	return string(b)
}

// TestHandshakeTimeout: a handshake that does not end within the timeout
// fails with ErrHandshakeTimeout, wherever it waits: before its
// ClientHello is complete (no goroutine), parked waiting for its peer
// (the goroutine ends), and admitted but waiting for its first slot (it
// leaves the line without ever getting a goroutine). The Host is woken so
// the loop learns it, and the pool frees every place.
func TestHandshakeTimeout(t *testing.T) {
	const timeout = 50 * time.Millisecond
	expectTimeout := func(t *testing.T, h *harness) {
		t.Helper()
		h.await("the timeout", func() bool { return h.err != nil })
		if !errors.Is(h.err, ErrHandshake) || !errors.Is(h.err, ErrHandshakeTimeout) {
			t.Errorf("Recv error %v; want ErrHandshake and ErrHandshakeTimeout", h.err)
		}
		if h.wakes.Load() == 0 {
			t.Error("the Host was not woken")
		}
	}

	t.Run("before-hello", func(t *testing.T) {
		pool := NewPool(1, 0)
		h := newHarness(t, serverConfig(nil), pool, timeout)
		hello := captureHello(t, serverName)
		_, _ = clientEnd{h}.Write(hello[:len(hello)-1])
		expectTimeout(t, h)
		if s := pool.state(); s.inProgress != 0 {
			t.Errorf("an incomplete ClientHello took a place: %d in progress", s.inProgress)
		}
	})

	// The next two must time out at a given point of the handshake, which
	// a loaded machine may not reach within a short timeout: each tries
	// timeouts 4 times longer, up to about 13 s, until it does.
	t.Run("parked", func(t *testing.T) {
		pool := NewPool(1, 0)
		for d := timeout; ; d *= 4 {
			h := newHarness(t, serverConfig(nil), pool, d)
			h.stall()
			h.await("the end of the handshake", func() bool { return h.err != nil })
			h.mu.Lock()
			answered := h.answered() // the server waited for the client
			h.mu.Unlock()
			if answered || d > 3*time.Second {
				if !answered {
					t.Fatalf("no server flight within %v", d)
				}
				expectTimeout(t, h)
				break
			}
		}
		awaitPool(t, pool, "idle", idle(1))
	})

	t.Run("queued", func(t *testing.T) {
		pool := NewPool(1, 1)
		cfg, _, _ := blockSlot(t, pool)

		hello := captureHello(t, serverName)
		for d := timeout; ; d *= 4 {
			h := newHarness(t, cfg, pool, d)
			h.mu.Lock() // the loop's turn: admitted, it is in line behind the blocker
			_, _, err := h.conn.Recv(hello, nil)
			h.mu.Unlock()
			if err == nil {
				expectTimeout(t, h)
				pool.mu.Lock()
				started := h.conn.started
				pool.mu.Unlock()
				if started {
					t.Error("a handshake that never got a slot had a goroutine")
				}
				break
			}
			if !errors.Is(err, ErrHandshakeTimeout) || d > 3*time.Second {
				t.Fatalf("Recv(ClientHello) with %v to go: %v; want it admitted", d, err)
			}
		}
		if s := pool.state(); s.inProgress != 1 || len(s.line) != 0 || s.free != 0 {
			t.Errorf("after the queued one timed out: free %d, in progress %d, line %d; want 0, 1, 0", s.free, s.inProgress, len(s.line))
		}
	})
}

// TestParkedHandshakesHoldNoWorker: with one worker slot, three
// handshakes parked waiting for their peer hold their places but no slot,
// and a fourth client completes its handshake meanwhile. Runnable
// handshakes wait for the slot in one FIFO line: a parked one whose peer
// sent more, then a newly admitted one (no goroutine until its turn), are
// served in that order once the holder parks: the new one starts only
// after the woken one has ended. Closing the parked ones frees their
// places; the pool ends idle.
func TestParkedHandshakesHoldNoWorker(t *testing.T) {
	gate := make(chan struct{})
	openGate := sync.OnceFunc(func() { close(gate) })
	defer openGate()
	pool := NewPool(1, 8)
	var first *harness
	var firstAtLateStart atomic.Int32 // first's state when the new one began computing
	cfg := serverConfig(gate, func() { firstAtLateStart.Store(first.conn.state.Load()) })

	var parked []*harness
	for i := 0; i < 3; i++ {
		h := newHarness(t, cfg, pool, time.Minute)
		h.stall()
		h.await("the server's first flight", h.answered)
		parked = append(parked, h)
	}
	awaitPool(t, pool, "three parked, the slot free", func(s poolState) bool { return s.free == 1 && s.inProgress == 3 })

	fresh := newHarness(t, cfg, pool, time.Minute)
	fresh.handshake(fresh.client(clientConfig(serverName, 0)))
	// HandshakeDone comes before its goroutine gives the slot back: wait
	// for that too, or the blocker's state below (free 0, 4 in progress)
	// could be the fresh one still ending with the blocker not admitted.
	awaitPool(t, pool, "the fresh handshake ended", func(s poolState) bool { return s.free == 1 && s.inProgress == 3 })

	// The blocker holds the only slot in GetCertificate.
	blocker := newHarness(t, cfg, pool, time.Minute)
	btc := blocker.client(clientConfig(blockName, 0))
	go func() { _ = btc.Handshake() }()
	awaitPool(t, pool, "the blocker holding the slot", func(s poolState) bool { return s.free == 0 && s.inProgress == 4 })

	// The first parked one's peer goes on: its goroutine lines up.
	first = parked[0]
	first.release()
	awaitPool(t, pool, "the woken handshake in line", func(s poolState) bool { return len(s.line) == 1 && s.line[0] == first.conn })
	// A new ClientHello is admitted behind it, with no goroutine.
	late := newHarness(t, cfg, pool, time.Minute)
	ltc := late.client(clientConfig(otherName, 0))
	go func() { _ = ltc.Handshake() }()
	s := awaitPool(t, pool, "the new handshake in line", func(s poolState) bool { return len(s.line) == 2 })
	if s.line[0] != first.conn || s.line[1] != late.conn || s.inProgress != 5 {
		t.Fatalf("line %v, %d in progress; want the woken handshake, then the new one, 5 in progress", s.line, s.inProgress)
	}
	pool.mu.Lock()
	lateStarted := late.conn.started
	pool.mu.Unlock()
	if lateStarted {
		t.Error("a handshake waiting for its first slot has a goroutine")
	}
	select {
	case <-first.doneOnce:
		t.Fatal("the woken handshake finished without a slot")
	default:
	}

	// The blocker computes on and parks for its peer: the slot passes
	// down the line in order.
	openGate()
	first.awaitHandshakeDone()
	late.awaitHandshakeDone()
	blocker.awaitHandshakeDone()
	if st := state(firstAtLateStart.Load()); st != established {
		t.Errorf("the new handshake started while the one ahead of it in line was in state %d; want %d (established)", st, established)
	}

	awaitPool(t, pool, "two parked left", func(s poolState) bool { return s.free == 1 && s.inProgress == 2 && len(s.line) == 0 })
	for _, h := range parked[1:] {
		if !h.conn.Handshaking() {
			t.Fatal("a parked handshake ended")
		}
		h.stopLoop()
		h.closeConn()
	}
	awaitPool(t, pool, "idle", idle(1))
}

// TestHandshakeBusy: once every place is taken, a complete ClientHello is
// refused at once with ErrHandshakeBusy, and takes no place.
func TestHandshakeBusy(t *testing.T) {
	pool := NewPool(1, 0)
	cfg, _, _ := blockSlot(t, pool)

	h := newHarness(t, cfg, pool, time.Minute)
	h.stopLoop()
	hello := captureHello(t, serverName)
	n, _, err := h.conn.Recv(hello, nil)
	if n != len(hello) || !errors.Is(err, ErrHandshake) || !errors.Is(err, ErrHandshakeBusy) {
		t.Errorf("Recv(ClientHello) = %d, %v; want %d, ErrHandshake and ErrHandshakeBusy", n, err, len(hello))
	}
	if s := pool.state(); s.inProgress != 1 || len(s.line) != 0 {
		t.Errorf("a refused handshake holds a place: %d in progress, line %d", s.inProgress, len(s.line))
	}
}

// TestCloseNotify: Close after the handshake sends a close_notify alert
// (RFC 8446 §6.1), which the client reads as EOF; a close_notify from the
// client ends the input without an error, and bytes after it are consumed
// and ignored.
func TestCloseNotify(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name+"/server", func(t *testing.T) {
			h := newHarness(t, serverConfig(nil), NewPool(1, 0), time.Minute)
			tc := h.client(clientConfig(serverName, v.max))
			h.handshake(tc)
			h.stopLoop()
			if w := h.closeConn(); len(w) == 0 {
				t.Fatal("Close wrote nothing; want a close_notify record")
			}
			// crypto/tls reports io.EOF only for a close_notify.
			if _, err := tc.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("client read after close_notify: %v; want EOF", err)
			}
		})
		t.Run(v.name+"/client", func(t *testing.T) {
			h := newHarness(t, serverConfig(nil), NewPool(1, 0), time.Minute)
			tc := h.client(clientConfig(serverName, v.max))
			h.handshake(tc)
			h.stopLoop()
			h.mu.Lock()
			h.up = nil
			h.mu.Unlock()
			if _, err := tc.Write([]byte("last")); err != nil {
				t.Fatal(err)
			}
			if err := tc.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			wire := append(h.up, "trailing junk after close_notify"...)
			n, plain, err := h.conn.Recv(wire, nil)
			if n != len(wire) || string(plain) != "last" || err != nil {
				t.Errorf("Recv(record, close_notify, junk) = %d, %q, %v; want %d, \"last\", nil", n, plain, err, len(wire))
			}
			n, plain, err = h.conn.Recv([]byte("more"), nil)
			if n != 4 || len(plain) != 0 || err != nil {
				t.Errorf("Recv after close_notify = %d, %q, %v; want 4, \"\", nil", n, plain, err)
			}
		})
	}
}

// TestCloseDuringHandshake: closing a Conn before its ClientHello, while
// its handshake waits in line for a slot, or while it is parked ends the
// handshake: nothing is written, the goroutine (if any) ends, and the
// pool is idle again.
func TestCloseDuringHandshake(t *testing.T) {
	pool := NewPool(1, 4)
	cfg, blocker, openGate := blockSlot(t, pool)

	before := newHarness(t, cfg, pool, time.Minute)
	queued := newHarness(t, cfg, pool, time.Minute)
	_, _ = clientEnd{queued}.Write(captureHello(t, serverName))
	awaitPool(t, pool, "one in line", func(s poolState) bool { return len(s.line) == 1 })
	for name, h := range map[string]*harness{"before the ClientHello": before, "in line": queued} {
		h.stopLoop()
		if w := h.closeConn(); len(w) != 0 {
			t.Errorf("Close %s wrote % x; want nothing", name, w)
		}
		if h.conn.Handshaking() {
			t.Errorf("Handshaking() after Close %s", name)
		}
	}
	if s := pool.state(); s.inProgress != 1 || len(s.line) != 0 {
		t.Errorf("after Close: %d in progress, line %d; want 1 (the blocker), 0", s.inProgress, len(s.line))
	}
	blocker.stopLoop()
	blocker.closeConn()
	openGate()
	awaitPool(t, pool, "idle", idle(1))

	parked := newHarness(t, serverConfig(nil), pool, time.Minute)
	parked.stall()
	parked.await("the server's first flight", parked.answered)
	awaitPool(t, pool, "one parked", func(s poolState) bool { return s.free == 1 && s.inProgress == 1 })
	parked.stopLoop()
	if w := parked.closeConn(); len(w) != 0 {
		t.Errorf("Close while parked wrote % x; want nothing", w)
	}
	awaitPool(t, pool, "idle", idle(1))
}

// TestEarlyOutputCap: before the handshake ended Send keeps up to
// maxEarlyOutput bytes and refuses more with ErrEarlyOutput.
func TestEarlyOutputCap(t *testing.T) {
	h := newHarness(t, serverConfig(nil), NewPool(1, 0), time.Minute)
	h.stopLoop()
	if err := h.send(strings.Repeat("a", maxEarlyOutput)); err != nil {
		t.Fatalf("Send of maxEarlyOutput bytes: %v", err)
	}
	if err := h.send("b"); !errors.Is(err, ErrEarlyOutput) {
		t.Errorf("Send past maxEarlyOutput: %v; want ErrEarlyOutput", err)
	}
	if len(h.down) != 0 {
		t.Errorf("Send before the handshake wrote %d bytes", len(h.down))
	}
}

// TestHelloReady: a first record is ready only once complete, at every
// cut of a real ClientHello; a first byte that cannot start a handshake
// record is ready at once (crypto/tls fails on it).
func TestHelloReady(t *testing.T) {
	hello := captureHello(t, serverName)
	for cut := 0; cut <= len(hello); cut++ {
		if got, want := HelloReady(hello[:cut]), cut == len(hello); got != want {
			t.Fatalf("HelloReady(ClientHello[:%d of %d]) = %v; want %v", cut, len(hello), got, want)
		}
	}
	if !HelloReady([]byte("G")) {
		t.Error(`HelloReady("G") = false; want true`)
	}
}
