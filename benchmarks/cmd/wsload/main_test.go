package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evhttpd/httpd/codec/ws"
	"github.com/gorilla/websocket"
)

// echoServer is a gorilla echo on any path, over a loopback listener.
func echoServer(t *testing.T, compress bool) string {
	t.Helper()
	up := websocket.Upgrader{EnableCompression: compress}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(typ, p); err != nil {
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func TestEcho(t *testing.T) {
	type point struct {
		engine  string
		depth   int
		size    int
		deflate bool
	}
	var points []point
	for _, engine := range engines() {
		for _, depth := range []int{1, 4} {
			for _, p := range []point{{size: 64}, {size: 1024}, {size: 70000}, {size: 1024, deflate: true}} {
				p.engine, p.depth = engine, depth
				points = append(points, p)
			}
		}
	}
	for _, tt := range points {
		name := tt.engine + "/depth" + strconv.Itoa(tt.depth) + "/size" + strconv.Itoa(tt.size)
		if tt.deflate {
			name += "/deflate"
		}
		t.Run(name, func(t *testing.T) {
			o := options{addr: echoServer(t, tt.deflate), path: "/ws", conns: 4, size: tt.size,
				duration: 200 * time.Millisecond, deflate: tt.deflate, dialers: 2,
				timeout: 10 * time.Second, maxSamples: 100, engine: tt.engine, depth: tt.depth}
			if runtime.GOOS == "linux" {
				o.pid = os.Getpid()
			}
			r, err := run(o)
			if err != nil {
				t.Fatalf("run(%+v) = %v", o, err)
			}
			if r.Errors != 0 || r.Messages == 0 || r.MsgPerSec <= 0 || r.P50us <= 0 || r.P99us < r.P50us {
				t.Errorf("run(%+v) = %+v; want messages, no errors, 0 < p50 <= p99", o, r)
			}
			if r.Negotiated != tt.deflate {
				t.Errorf("deflate negotiated = %v; want %v", r.Negotiated, tt.deflate)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("RSS from /proc is Linux-only")
	}
	// -gc signals the measured process; here that is the test itself,
	// which counts the signals instead of dying of them.
	usr1 := make(chan os.Signal, 4)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	o := options{addr: echoServer(t, false), path: "/ws", conns: 20, idle: true, gc: true, pid: os.Getpid(),
		dialers: 4, timeout: 10 * time.Second, settle: 10 * time.Millisecond}
	r, err := run(o)
	if err != nil {
		t.Fatalf("run(idle) = %v", err)
	}
	if r.Mode != "idle" || r.RSSBefore <= 0 || r.RSSAfter <= 0 || r.RSSBeforeGC <= 0 || r.RSSAfterGC <= 0 || r.Conns != 20 {
		t.Errorf("run(idle) = %+v; want RSS readings, raw and after GC, for 20 connections", r)
	}
	for i := range 2 {
		select {
		case <-usr1:
		case <-time.After(5 * time.Second):
			t.Fatalf("SIGUSR1 %d of 2 not received", i+1)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, o := range []options{
		{addr: "127.0.0.1:1", conns: 0, dialers: 1},
		{addr: "127.0.0.1:1", conns: 1, dialers: 1, idle: true},
		{addr: "127.0.0.1:1", conns: 1, dialers: 1, depth: -1},
		{addr: "127.0.0.1:1", conns: 1, dialers: 1, engine: "threads"},
		{addr: "127.0.0.1:1", conns: 1, dialers: 1, loops: -1},
	} {
		if _, err := run(o); err == nil {
			t.Errorf("run(%+v) = nil; want an error", o)
		}
	}
	// A server that refuses the upgrade.
	s := httptest.NewServer(http.NotFoundHandler())
	defer s.Close()
	o := options{addr: strings.TrimPrefix(s.URL, "http://"), path: "/ws", conns: 1, dialers: 1,
		duration: time.Millisecond, timeout: 5 * time.Second, maxSamples: 1}
	if _, err := run(o); err == nil {
		t.Errorf("run(against a 404 server) = nil; want an error")
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1000, 2000, 3000, 4000}
	for _, tt := range []struct {
		q    float64
		want float64
	}{{0.5, 2}, {0.99, 4}, {0, 1}} {
		if got := percentile(d, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v; want %v", d, tt.q, got, tt.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v; want 0", got)
	}
}

// rawEcho says how rawEchoServer answers each client message.
type rawEcho struct {
	split  bool // write each echo in pieces, pausing between them
	ping   bool // send a ping frame before each echo
	delta  int  // add this many bytes to the echo (-1: one byte short)
	silent bool // never answer
}

// rawEchoServer is a hand-written WebSocket echo over a loopback listener
// whose replies can be split across writes, preceded by pings or of the
// wrong length. Its goroutines end when the test's connections close.
func rawEchoServer(t *testing.T, cfg rawEcho) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serveRawEcho(c, cfg)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func serveRawEcho(c net.Conn, cfg rawEcho) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	accept := ws.AcceptKey(nil, []byte(req.Header.Get("Sec-WebSocket-Key")))
	if _, err := io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+string(accept)+"\r\n\r\n"); err != nil {
		return
	}
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		n := int(h[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(br, e[:]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint16(e[:]))
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(br, e[:]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint64(e[:]))
		}
		var key [4]byte
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		ws.Mask(key, 0, p)
		if cfg.silent {
			continue
		}
		if cfg.delta < 0 {
			p = p[:len(p)+cfg.delta]
		} else {
			p = append(p, make([]byte, cfg.delta)...)
		}
		var out []byte
		if cfg.ping {
			out = ws.AppendFrame(out, ws.OpPing, true, 0, []byte("abc"))
		}
		out = ws.AppendFrame(out, ws.Opcode(h[0]&0x0f), true, 0, p)
		if !cfg.split {
			if _, err := c.Write(out); err != nil {
				return
			}
			continue
		}
		// Cut inside the first header, inside the (extended) length or
		// the next header, and inside the payload.
		for _, piece := range [][]byte{out[:1], out[1:3], out[3 : len(out)/2], out[len(out)/2:]} {
			if _, err := c.Write(piece); err != nil {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
}

// engines returns the echo engines this OS has.
func engines() []string {
	if defaultEngine == engineEpoll {
		return []string{engineEpoll, engineGoroutine}
	}
	return []string{engineGoroutine}
}

func TestEngines(t *testing.T) {
	for _, engine := range engines() {
		for _, depth := range []int{1, 4} {
			for _, cfg := range []rawEcho{{}, {split: true}, {split: true, ping: true}} {
				name := fmt.Sprintf("%s/depth%d/split=%v/ping=%v", engine, depth, cfg.split, cfg.ping)
				t.Run(name, func(t *testing.T) {
					o := options{addr: rawEchoServer(t, cfg), path: "/ws", conns: 6, size: 300,
						duration: 200 * time.Millisecond, dialers: 3, timeout: 10 * time.Second,
						maxSamples: 100, engine: engine, depth: depth}
					r, err := run(o)
					if err != nil {
						t.Fatalf("run(%+v) = %v", o, err)
					}
					if r.Errors != 0 || r.Messages == 0 || r.P50us <= 0 || r.P99us < r.P50us || r.Engine != engine || r.Depth != depth {
						t.Errorf("run(%+v) = %+v; want messages, no errors, 0 < p50 <= p99", o, r)
					}
				})
			}
		}
	}
}

func TestEngineErrors(t *testing.T) {
	for _, engine := range engines() {
		for _, tt := range []struct {
			name    string
			cfg     rawEcho
			timeout time.Duration
			want    error
		}{
			{"short", rawEcho{delta: -1}, 10 * time.Second, errEchoSize},
			{"long", rawEcho{delta: 1}, 10 * time.Second, errEchoSize},
			{"short/split", rawEcho{delta: -1, split: true}, 10 * time.Second, errEchoSize},
			{"silent", rawEcho{silent: true}, 200 * time.Millisecond, errTimeout},
		} {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				o := options{addr: rawEchoServer(t, tt.cfg), path: "/ws", conns: 3, size: 64,
					duration: 600 * time.Millisecond, dialers: 3, timeout: tt.timeout,
					maxSamples: 10, engine: engine, depth: 2}
				r, err := run(o)
				if err != nil {
					t.Fatalf("run(%+v) = %v", o, err)
				}
				if r.Errors != int64(o.conns) || r.Messages != 0 {
					t.Errorf("run(%+v) = %+v; want %d connections failed, no messages", o, r, o.conns)
				}
				if tt.want != nil && r.FirstError != tt.want.Error() {
					t.Errorf("run(%+v) first error = %q; want %q", o, r.FirstError, tt.want)
				}
			})
		}
	}
}

func TestEchoReader(t *testing.T) {
	const want = 300
	msg := make([]byte, want)
	big := make([]byte, 70000)
	frame := func(op ws.Opcode, fin bool, rsv byte, p []byte) []byte { return ws.AppendFrame(nil, op, fin, rsv, p) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	masked := ws.AppendMaskedFrame(nil, ws.OpBinary, true, 0, [4]byte{1, 2, 3, 4}, msg)
	for _, tt := range []struct {
		name    string
		in      []byte
		wantLen int
		deflate bool
		msgs    int
		err     error
	}{
		{"one", frame(ws.OpBinary, true, 0, msg), want, false, 1, nil},
		{"two", cat(frame(ws.OpBinary, true, 0, msg), frame(ws.OpText, true, 0, msg)), want, false, 2, nil},
		{"small", frame(ws.OpBinary, true, 0, msg[:10]), 10, false, 1, nil},
		{"empty", frame(ws.OpBinary, true, 0, nil), 0, false, 1, nil},
		{"64-bit length", frame(ws.OpBinary, true, 0, big), len(big), false, 1, nil},
		{"fragmented with ping", cat(frame(ws.OpBinary, false, 0, msg[:100]), frame(ws.OpPing, true, 0, []byte("p")),
			frame(ws.OpContinuation, true, 0, msg[100:])), want, false, 1, nil},
		{"pong", cat(frame(ws.OpPong, true, 0, nil), frame(ws.OpBinary, true, 0, msg)), want, false, 1, nil},
		{"compressed any length", frame(ws.OpBinary, true, ws.Rsv1, msg[:7]), want, true, 1, nil},
		{"short", frame(ws.OpBinary, true, 0, msg[:want-1]), want, false, 0, errEchoSize},
		{"long", frame(ws.OpBinary, true, 0, append(msg, 0)), want, false, 0, errEchoSize},
		{"long fragmented", cat(frame(ws.OpBinary, false, 0, msg), frame(ws.OpContinuation, true, 0, msg[:1])), want, false, 0, errEchoSize},
		{"good then short", cat(frame(ws.OpBinary, true, 0, msg), frame(ws.OpBinary, true, 0, msg[:1])), want, false, 1, errEchoSize},
		{"close", cat(frame(ws.OpBinary, true, 0, msg), ws.AppendClose(nil, 1000, "")), want, false, 1, errClosed},
		{"masked", masked, want, false, 0, ws.ErrMasked},
		{"rsv1 without deflate", frame(ws.OpBinary, true, ws.Rsv1, msg), want, false, 0, ws.ErrRSV},
		{"continuation first", frame(ws.OpContinuation, true, 0, msg), want, false, 0, ws.ErrContinuationWithoutStart},
		{"data inside fragmented", cat(frame(ws.OpBinary, false, 0, msg[:1]), frame(ws.OpBinary, true, 0, msg)), want, false, 0, ws.ErrDataInsideFragmented},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// feedAll feeds the chunks to a fresh reader, as reads would
			// deliver them, and stops at the first error.
			feedAll := func(chunks ...[]byte) (int, error) {
				r := newEchoReader(tt.deflate)
				total := 0
				for _, c := range chunks {
					n, err := r.feed(c, tt.wantLen)
					total += n
					if err != nil {
						return total, err
					}
				}
				return total, nil
			}
			check := func(how string, msgs int, err error) {
				t.Helper()
				if msgs != tt.msgs || !errors.Is(err, tt.err) {
					t.Fatalf("feed(%s) = %d, %v; want %d, %v", how, msgs, err, tt.msgs, tt.err)
				}
			}
			msgs, err := feedAll(tt.in)
			check("whole", msgs, err)
			bytewise := make([][]byte, len(tt.in))
			for i := range tt.in {
				bytewise[i] = tt.in[i : i+1]
			}
			msgs, err = feedAll(bytewise...)
			check("byte by byte", msgs, err)
			for i := range len(tt.in) + 1 {
				msgs, err = feedAll(tt.in[:i], tt.in[i:])
				check(fmt.Sprintf("split at %d", i), msgs, err)
			}
		})
	}
}
