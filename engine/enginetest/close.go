package enginetest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// readAllEOF reads until EOF (or error) with a deadline and returns what
// arrived and whether the end was a clean EOF.
func readAllEOF(t *testing.T, c net.Conn) ([]byte, bool) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	return b, err == nil
}

// TestCloseInCallbacks closes from inside OnTraffic, OnTimer, OnWake and
// OnOpen: the peer reads what was written before Close, then EOF; OnClose
// runs once with a nil error and never inside the callback (1 loop, so the
// nesting counter sees every callback).
func testCloseInCallbacks(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(h *echo, wake func(c engine.Conn))
		trigger func(t *testing.T, e engine.Engine, c net.Conn)
		want    string
	}{
		{
			name: "OnTraffic",
			setup: func(h *echo, _ func(engine.Conn)) {
				h.onTraffic = func(c engine.Conn) bool {
					c.Write([]byte("bye:"))
					c.Write(c.Peek())
					c.Discard(c.InboundBuffered())
					c.Close()
					c.Close() // idempotent
					return true
				}
			},
			trigger: func(t *testing.T, _ engine.Engine, c net.Conn) { c.Write([]byte("hello")) },
			want:    "bye:hello",
		},
		{
			name: "OnOpen",
			setup: func(h *echo, _ func(engine.Conn)) {
				h.onOpen = func(c engine.Conn) {
					c.Write([]byte("go away"))
					c.Close()
				}
			},
			want: "go away",
		},
		{
			name: "OnTimer",
			setup: func(h *echo, _ func(engine.Conn)) {
				h.onOpen = func(c engine.Conn) { c.SetTimer(20 * time.Millisecond) }
				h.onTimer = func(c engine.Conn) {
					c.Write([]byte("timeout"))
					c.Close()
				}
			},
			want: "timeout",
		},
		{
			name: "OnWake",
			setup: func(h *echo, wake func(engine.Conn)) {
				h.onOpen = wake
			},
			want: "woken",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newEcho()
			var (
				mu      sync.Mutex
				waiting []engine.Conn
				engp    atomic.Pointer[engine.Engine]
			)
			// For OnWake: OnOpen parks the conn; OnWake closes the parked ones.
			park := func(c engine.Conn) {
				mu.Lock()
				waiting = append(waiting, c)
				mu.Unlock()
				go (*engp.Load()).Wake(c.Loop())
			}
			h.onWake = func(int) {
				mu.Lock()
				ws := waiting
				waiting = nil
				mu.Unlock()
				for _, c := range ws {
					c.Write([]byte("woken"))
					c.Close()
				}
			}
			tc.setup(h, park)
			eng := startEngine(t, engine.Config{Loops: 1, TimerResolution: 5 * time.Millisecond}, h)
			engp.Store(&eng)
			defer stopEngine(t, eng)
			c, err := net.Dial("tcp", eng.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tc.trigger != nil {
				tc.trigger(t, eng, c)
			}
			got, eof := readAllEOF(t, c)
			if string(got) != tc.want || !eof {
				t.Errorf("peer read %q (EOF %v); want %q then EOF", got, eof, tc.want)
			}
			waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
			h.mu.Lock()
			for c, err := range h.closeErr {
				if err != nil {
					t.Errorf("OnClose(%v) err = %v; want nil for a local close", c.RemoteAddr(), err)
				}
			}
			h.mu.Unlock()
			if n := h.nested.Load(); n != 0 {
				t.Errorf("%d callbacks ran inside another", n)
			}
			h.verifyClosed(t)
		})
	}
}

// TestCloseOther closes conn B from inside conn A's OnTraffic: B's OnClose
// runs after A's callback returned, and B's peer sees EOF.
func testCloseOther(t *testing.T) {
	h := newEcho()
	var (
		mu    sync.Mutex
		conns []engine.Conn
	)
	h.onOpen = func(c engine.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	h.onTraffic = func(c engine.Conn) bool {
		if string(c.Peek()) != "kill" {
			return false
		}
		c.Discard(4)
		mu.Lock()
		defer mu.Unlock()
		for _, o := range conns {
			if o != c {
				o.Close()
				if h.numClosed() != 0 {
					t.Errorf("OnClose ran inside Close")
				}
			}
		}
		c.Write([]byte("done"))
		return true
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	a, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor(t, "both open", func() bool { return h.numOpened() == 2 })
	a.Write([]byte("kill"))
	got := make([]byte, 4)
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(a, got); err != nil || string(got) != "done" {
		t.Fatalf("A read %q, %v; want done", got, err)
	}
	if rest, eof := readAllEOF(t, b); len(rest) != 0 || !eof {
		t.Errorf("B read %q (EOF %v); want EOF", rest, eof)
	}
	waitFor(t, "B closed", func() bool { return h.numClosed() == 1 })
	if n := h.nested.Load(); n != 0 {
		t.Errorf("%d callbacks ran inside another", n)
	}
}

// TestCloseWrite queues more output than the socket takes, then CloseWrite:
// the peer reads every byte, then EOF, while the server still reads.
func testCloseWrite(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	h := newEcho()
	var (
		mu       sync.Mutex
		queued   int
		shutErr  error
		received bytes.Buffer
		afterErr error
	)
	h.onOpen = func(c engine.Conn) {
		c.Write(big)
		mu.Lock()
		queued = c.OutboundBuffered()
		shutErr = c.CloseWrite()
		afterErr = c.Write([]byte("late"))
		mu.Unlock()
	}
	h.onTraffic = func(c engine.Conn) bool {
		mu.Lock()
		received.Write(c.Peek())
		mu.Unlock()
		c.Discard(c.InboundBuffered())
		return true
	}
	e := startEngine(t, engine.Config{Loops: 1, TimerResolution: 5 * time.Millisecond}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, eof := readAllEOF(t, c)
	if !bytes.Equal(got, big) || !eof {
		t.Fatalf("peer read %d bytes (EOF %v); want %d then EOF", len(got), eof, len(big))
	}
	mu.Lock()
	if queued == 0 {
		t.Logf("the socket took all %d bytes at once; the drained-later path was not exercised", len(big))
	}
	if shutErr != nil {
		t.Errorf("CloseWrite = %v; want nil", shutErr)
	}
	if !errors.Is(afterErr, engine.ErrWriteShut) {
		t.Errorf("Write after CloseWrite = %v; want engine.ErrWriteShut", afterErr)
	}
	mu.Unlock()
	// The read side is still open.
	if _, err := c.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "server read after CloseWrite", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return received.String() == "still here"
	})
	c.Close()
	waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
	h.mu.Lock()
	for _, err := range h.closeErr {
		if err == nil {
			t.Errorf("OnClose err = nil after the peer closed; want the peer's EOF")
		}
	}
	h.mu.Unlock()
	h.verifyClosed(t)
}

// TestCloseWriteImmediate: nothing queued, so SHUT_WR happens at once.
func testCloseWriteImmediate(t *testing.T) {
	h := newEcho()
	h.onOpen = func(c engine.Conn) {
		c.Write([]byte("hi"))
		if err := c.CloseWrite(); err != nil {
			t.Errorf("CloseWrite = %v", err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Errorf("second CloseWrite = %v; want nil", err)
		}
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, eof := readAllEOF(t, c); string(got) != "hi" || !eof {
		t.Errorf("peer read %q (EOF %v); want \"hi\" then EOF", got, eof)
	}
}

// TestPeerClose: the peer closes; OnClose reports a non-nil error, and the
// closed engine.Conn refuses further use.
func testPeerClose(t *testing.T) {
	h := newEcho()
	var after error
	h.onClose = func(c engine.Conn, _ error) {
		after = c.Write([]byte("x"))
		c.Close()
		c.SetTimer(time.Second)
		if c.Peek() != nil || c.InboundBuffered() != 0 || c.OutboundBuffered() != 0 {
			t.Errorf("closed engine.Conn still reports buffers")
		}
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "open", func() bool { return h.numOpened() == 1 })
	c.Close()
	waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
	h.mu.Lock()
	for _, err := range h.closeErr {
		if err == nil {
			t.Errorf("OnClose err = nil; want the peer's EOF")
		}
	}
	h.mu.Unlock()
	if !errors.Is(after, engine.ErrClosed) {
		t.Errorf("Write in OnClose = %v; want engine.ErrClosed", after)
	}
	h.verifyClosed(t)
}

func testConnAddrs(t *testing.T) {
	h := newEcho()
	var local, remote net.Addr
	var fd int
	h.onOpen = func(c engine.Conn) {
		local, remote, fd = c.LocalAddr(), c.RemoteAddr(), c.Fd()
		c.Close()
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
	stopEngine(t, e)
	if local.String() != e.Addr().String() || remote.String() != c.LocalAddr().String() {
		t.Errorf("LocalAddr, RemoteAddr = %v, %v; want %v, %v", local, remote, e.Addr(), c.LocalAddr())
	}
	if fd <= 2 {
		t.Errorf("Fd() = %d; want a socket descriptor", fd)
	}
}

func testStartInvalidConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  engine.Config
	}{
		{"negative loops", engine.Config{Loops: -1}},
		{"too many loops", engine.Config{Loops: 1 << 20}},
		{"options of another type", engine.Config{Options: struct{}{}}},
		{"public ctrl", engine.Config{CtrlAddr: "0.0.0.0:0"}},
		{"ctrl hostname", engine.Config{CtrlAddr: "localhost:0"}},
		{"ctrl no port", engine.Config{CtrlAddr: "127.0.0.1"}},
		{"tiny resolution", engine.Config{TimerResolution: time.Microsecond}},
		{"tick below resolution", engine.Config{TimerResolution: time.Second, TickInterval: time.Millisecond}},
		{"negative backoff", engine.Config{AcceptBackoffMax: -1}},
		{"backoff max below min", engine.Config{AcceptBackoffMin: time.Second, AcceptBackoffMax: time.Millisecond}},
		{"too many slots", engine.Config{TimerSlots: 1 << 21}},
		{"negative keep-alive", engine.Config{TCPKeepAlive: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr = "127.0.0.1:0"
			tc.cfg = config(tc.cfg)
			e, err := engine.Start(tc.cfg, newEcho())
			if err == nil {
				stopEngine(t, e)
				t.Fatalf("engine.Start(%+v) = nil error; want engine.ErrConfig", tc.cfg)
			}
			if !errors.Is(err, engine.ErrConfig) {
				t.Errorf("engine.Start(%+v) = %v; want engine.ErrConfig", tc.cfg, err)
			}
		})
	}
	if _, err := engine.Start(engine.Config{Backend: "no such backend"}, newEcho()); !errors.Is(err, engine.ErrConfig) {
		t.Errorf("Start(unknown backend) = %v; want ErrConfig", err)
	}
	if _, err := engine.Start(config(engine.Config{}), nil); !errors.Is(err, engine.ErrNoHandler) {
		t.Errorf("engine.Start(nil handler) = %v; want engine.ErrNoHandler", err)
	}
	// A busy address is an error too, and leaks nothing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := engine.Start(config(engine.Config{Addr: ln.Addr().String()}), newEcho()); err == nil {
		t.Errorf("Start on a busy address = nil error")
	}
}

// TestListenerAndCtrlPort: a caller-provided listener and a fixed control
// port are used as given.
func testListenerAndCtrlPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	h := newEcho()
	e := startEngine(t, engine.Config{Listener: ln, Loops: 2, CtrlAddr: net.JoinHostPort("127.0.0.1", itoa(port))}, h)
	if e.Addr().String() != ln.Addr().String() {
		t.Errorf("Addr() = %v; want %v", e.Addr(), ln.Addr())
	}
	if got := e.CtrlAddr().(*net.UDPAddr).Port; got != port {
		t.Errorf("CtrlAddr port = %d; want %d", got, port)
	}
	if err := echoClient(e.Addr().String(), 1, 3); err != nil {
		t.Error(err)
	}
	stopEngine(t, e)
	// StopAccepting closed the caller's listener.
	if _, err := ln.Accept(); err == nil {
		t.Errorf("listener still accepting after Stop")
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// testReset: Reset closes abortively. Output the engine and the kernel
// still hold is dropped and the peer sees a reset, not an orderly end;
// OnClose runs once with a nil error (a local close).
func testReset(t *testing.T) {
	big := bytes.Repeat([]byte("r"), 4<<20)
	h := newEcho()
	h.onOpen = func(c engine.Conn) {
		c.Write(big)
		c.Reset()
		c.Reset() // idempotent
	}
	e := startEngine(t, engine.Config{Loops: 1}, h)
	defer stopEngine(t, e)
	c, err := net.Dial("tcp", e.Addr().String())
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		// The reset overtook the client's own connect: Dial reports it.
	case err != nil:
		t.Fatal(err)
	default:
		defer c.Close()
		waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := io.Copy(io.Discard, c)
		if err == nil || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("peer read %d bytes, then %v; want a connection reset", n, err)
		}
		if n >= int64(len(big)) {
			t.Errorf("peer read all %d bytes; want the queued output dropped", n)
		}
	}
	waitFor(t, "OnClose", func() bool { return h.numClosed() == 1 })
	h.mu.Lock()
	for _, err := range h.closeErr {
		if err != nil {
			t.Errorf("OnClose err = %v; want nil for Reset", err)
		}
	}
	h.mu.Unlock()
	h.verifyClosed(t)
}
