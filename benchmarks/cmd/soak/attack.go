package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evhttpd/httpd/ctrl"
)

// attackStats counts what one attack family did in a scenario.
type attackStats struct {
	conns    atomic.Int64 // connections opened (datagrams for ctrl junk)
	cut      atomic.Int64 // connections the server ended (EOF, reset, reply then close)
	dialErrs atomic.Int64 // connections the attacker could not open
	lifeMax  atomic.Int64 // longest life of a connection the server ended, ns
	mu       sync.Mutex
	codes    map[int]int64 // WebSocket close codes received (bad frames, bombs)
	wrong    int64         // close codes other than the expected one
}

func (s *attackStats) cutAfter(d time.Duration) {
	s.cut.Add(1)
	for {
		old := s.lifeMax.Load()
		if int64(d) <= old || s.lifeMax.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

func (s *attackStats) code(got, want int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[int]int64{}
	}
	s.codes[got]++
	if got != want {
		s.wrong++
	}
}

// summary is one line for the report.
func (s *attackStats) summary(family string) string {
	var b strings.Builder
	unit := "conns"
	if family == "ctrljunk" {
		unit = "datagrams"
	}
	fmt.Fprintf(&b, "%s: %d %s", family, s.conns.Load(), unit)
	if c := s.cut.Load(); c > 0 {
		fmt.Fprintf(&b, ", %d cut by the server (longest %.1f s)", c, time.Duration(s.lifeMax.Load()).Seconds())
	}
	if d := s.dialErrs.Load(); d > 0 {
		fmt.Fprintf(&b, ", %d refused", d)
	}
	s.mu.Lock()
	if len(s.codes) > 0 {
		b.WriteString(", close codes")
		for _, c := range sortedKeys(s.codes) {
			fmt.Fprintf(&b, " %d×%d", c, s.codes[c])
		}
		if s.wrong > 0 {
			fmt.Fprintf(&b, " (%d not the expected code)", s.wrong)
		}
	}
	s.mu.Unlock()
	return b.String()
}

// family is one kind of attacker.
type family struct {
	name string
	desc string // what it does, for the report
	run  func(ctx context.Context, e *env, st *attackStats)
}

// Every attacker loop stops when its context ends (the scenario's
// duration) and after at most maxIter connections per worker.
const maxIter = 1 << 20

var families = []family{
	{"slowloris", "100 conns: a partial request head, then 1 byte a second", slowloris},
	{"slowbody", "100 conns: POST /echo and PUT /adder declaring 1 MiB, then 1 byte a second", slowBody},
	{"noread-http", "16 conns pipelining GET /hello (8 KiB writes) or POST /echo 256 KiB, never reading", noReadHTTP},
	{"noread-ws", "8 WebSocket conns sending 1 MiB messages, never reading", noReadWS},
	{"churn", "8 workers: connect, half a request (or half a ClientHello on TLS), close with RST; ~400 conns/s", churn},
	{"flood", "up to 800 silent conns on the plain server (MaxOpenSockets 512), opened at ~300/s", flood},
	{"badframes", "4 workers: WebSocket upgrade, one protocol-violating frame, wait for the close", badFrames},
	{"bombs", "2 workers: a permessage-deflate message of 20 KiB inflating to 20 MiB (limit 16 MiB), ~10/s", bombs},
	{"ctrljunk", "random datagrams and forged doorbells to both control sockets, ~2000/s", ctrlJunk},
	{"tlsstall", "100 conns to the TLS server: a ClientHello (whole or half), then silence", tlsStall},
}

// workers runs fn on n goroutines and waits for them.
func workers(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}

// dial opens a loopback TCP connection that closes when ctx ends.
func dial(ctx context.Context, addr string, st *attackStats) (net.Conn, func(), error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() == nil {
			st.dialErrs.Add(1)
			sleep(ctx, 50*time.Millisecond)
		}
		return nil, nil, err
	}
	st.conns.Add(1)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stop(); c.Close() }, nil
}

// pace makes a connection of a slow attacker last at least 100 ms, so
// that one the server refuses at once (a 503) becomes a bounded retry
// rather than a connection storm: the scenario is about slow clients.
func pace(ctx context.Context, t0 time.Time) {
	if d := time.Since(t0); d < 100*time.Millisecond {
		sleep(ctx, 100*time.Millisecond-d)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ended reports whether a read or write error means the server ended the
// connection (rather than a deadline of ours or the scenario's end).
func ended(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// trickle writes first, then one byte of more a second, until the server
// answers or closes; it records how long the connection lived.
func trickle(ctx context.Context, addr, first, more string, st *attackStats) {
	c, done, err := dial(ctx, addr, st)
	if err != nil {
		return
	}
	defer done()
	start := time.Now()
	buf := make([]byte, 512)
	if _, err := io.WriteString(c, first); err != nil {
		if ended(ctx, err) {
			st.cutAfter(time.Since(start))
		}
		return
	}
	for i := 0; ctx.Err() == nil; i++ {
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		if n > 0 || ended(ctx, err) {
			// A reply (408) or the close: the server cut the attacker.
			st.cutAfter(time.Since(start))
			return
		}
		if ctx.Err() != nil {
			return
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte{more[i%len(more)]}); ended(ctx, err) {
			st.cutAfter(time.Since(start))
			return
		}
	}
}

func slowloris(ctx context.Context, e *env, st *attackStats) {
	workers(100, func(int) {
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			t0 := time.Now()
			trickle(ctx, e.info.Addr, "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", "abcdefgh", st)
			pace(ctx, t0)
		}
	})
}

func slowBody(ctx context.Context, e *env, st *attackStats) {
	workers(100, func(w int) {
		head := "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n"
		if w%2 == 1 {
			head = "PUT /adder HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n"
		}
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			t0 := time.Now()
			trickle(ctx, e.info.Addr, head, "0123456789", st)
			pace(ctx, t0)
		}
	})
}

// pour writes p once, with a deadline of a second so that a connection the
// server stopped reading (kernel buffers full) keeps trying until the server
// cuts it. It reports whether to go on: false once the server ended the
// connection (recorded) or the scenario ended.
func pour(ctx context.Context, c net.Conn, start time.Time, p []byte, st *attackStats) bool {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := c.Write(p)
	if ended(ctx, err) {
		st.cutAfter(time.Since(start))
		return false
	}
	return ctx.Err() == nil
}

func noReadHTTP(ctx context.Context, e *env, st *attackStats) {
	get := bytes.Repeat([]byte("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 8<<10/40)
	body := make([]byte, 256<<10)
	post := append([]byte(fmt.Sprintf("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n", len(body))), body...)
	workers(16, func(w int) {
		p := get
		if w%4 == 3 {
			p = post
		}
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			c, done, err := dial(ctx, e.info.Addr, st)
			if err != nil {
				continue
			}
			start := time.Now()
			for pour(ctx, c, start, p, st) {
			}
			done()
		}
	})
}

func noReadWS(ctx context.Context, e *env, st *attackStats) {
	msg := wsFrame(true, false, opBinary, make([]byte, 1<<20), true)
	workers(8, func(int) {
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			c, _, done, err := wsDial(ctx, e.info.Addr, false, st)
			if err != nil {
				continue
			}
			start := time.Now()
			for pour(ctx, c, start, msg, st) {
			}
			done()
		}
	})
}

func churn(ctx context.Context, e *env, st *attackStats) {
	half := []byte("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Ag")
	hello := e.clientHello[:len(e.clientHello)/2]
	workers(8, func(w int) {
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			addr, p := e.info.Addr, half
			if i%4 == 3 {
				addr, p = e.info.TLSAddr, hello
			}
			c, done, err := dial(ctx, addr, st)
			if err != nil {
				continue
			}
			c.Write(p)
			c.(*net.TCPConn).SetLinger(0) // close sends RST
			done()
			sleep(ctx, 20*time.Millisecond)
		}
	})
}

func flood(ctx context.Context, e *env, st *attackStats) {
	const held, rate = 800, 300
	sem := make(chan struct{}, held)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; i < maxIter; i++ {
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, done, err := dial(ctx, e.info.Addr, st)
			if err != nil {
				return
			}
			defer done()
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(time.Minute))
			// The server ends it: LRU purge, a 503 at open, or the idle timeout.
			if _, err := c.Read(make([]byte, 256)); err == nil || ended(ctx, err) {
				st.cutAfter(time.Since(start))
			}
		}()
	}
}

// badFrame is one protocol violation and the close code RFC 6455 (and the
// server's catalogue) asks for.
type badFrame struct {
	frame []byte
	code  int
}

var violations = []badFrame{
	{wsFrame(true, false, opText, []byte("unmasked"), false), 1002},
	{wsFrame(true, false, 0x3, []byte("reserved opcode"), true), 1002},
	{wsFrame(true, false, 0xB, nil, true), 1002},
	{wsFrame(true, false, opText, []byte{'o', 'k', 0xff, 0xfe}, true), 1007},
	{wsFrame(true, true, opText, []byte("rsv1 without deflate"), true), 1002},
	{wsFrame(true, false, opPing, make([]byte, 126), true), 1002},
	{wsFrame(false, false, opPing, []byte("fragmented ping"), true), 1002},
	{wsFrame(true, false, opCont, []byte("no start"), true), 1002},
	{wsFrame(true, false, opClose, []byte{3}, true), 1002},
	{[]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 1002},    // 64-bit length, top bit set
	{[]byte{0x82, 0xff, 0, 0, 0, 0, 0x01, 0x10, 0, 0, 1, 2, 3, 4}, 1009}, // declares 17 MiB
}

func badFrames(ctx context.Context, e *env, st *attackStats) {
	workers(4, func(w int) {
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			bf := violations[(i*4+w)%len(violations)]
			c, br, done, err := wsDial(ctx, e.info.Addr, false, st)
			if err != nil {
				continue
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(bf.frame); err == nil {
				if code, ok := readClose(br); ok {
					st.code(code, bf.code)
				} else if ctx.Err() == nil {
					st.code(0, bf.code) // closed without a close frame
				}
			}
			done()
			sleep(ctx, 10*time.Millisecond)
		}
	})
}

func bombs(ctx context.Context, e *env, st *attackStats) {
	frame := wsFrame(true, true, opBinary, e.bomb, true)
	workers(2, func(int) {
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			c, br, done, err := wsDial(ctx, e.info.Addr, true, st)
			if err != nil {
				continue
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(frame); err == nil {
				if code, ok := readClose(br); ok {
					st.code(code, 1009)
				} else if ctx.Err() == nil {
					st.code(0, 1009)
				}
			}
			done()
			sleep(ctx, 200*time.Millisecond)
		}
	})
}

func ctrlJunk(ctx context.Context, e *env, st *attackStats) {
	workers(2, func(w int) {
		addr := e.info.Ctrl
		if w == 1 {
			addr = e.info.TLSCtrl
		}
		c, err := net.Dial("udp", addr)
		if err != nil {
			st.dialErrs.Add(1)
			return
		}
		defer c.Close()
		buf := make([]byte, 1400)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for j := range 10 {
				var p []byte
				switch j % 3 {
				case 0: // random bytes of random length
					rand.Read(buf)
					p = buf[:1+int(buf[0])*5]
				case 1: // a well-formed doorbell under a guessed token
					var tok ctrl.Token
					rand.Read(tok[:])
					p = ctrl.AppendDoorbell(buf[:0], tok, j%4, ctrl.KindWork, uint32(i))
				default: // doorbell-sized garbage
					rand.Read(buf[:ctrl.DoorbellLen])
					p = buf[:ctrl.DoorbellLen]
				}
				c.Write(p)
				st.conns.Add(1)
			}
		}
	})
}

func tlsStall(ctx context.Context, e *env, st *attackStats) {
	workers(100, func(w int) {
		hello := e.clientHello
		if w%2 == 1 {
			hello = hello[:len(hello)/2]
		}
		buf := make([]byte, 4096)
		for i := 0; i < maxIter && ctx.Err() == nil; i++ {
			c, done, err := dial(ctx, e.info.TLSAddr, st)
			if err != nil {
				continue
			}
			start := time.Now()
			c.Write(hello)
			// Read (and ignore) the server's flight; never answer it.
			c.SetReadDeadline(time.Now().Add(time.Minute))
			for {
				if _, err := c.Read(buf); err != nil {
					if ended(ctx, err) {
						st.cutAfter(time.Since(start))
					}
					break
				}
			}
			done()
		}
	})
}

// captureHello returns a ClientHello as crypto/tls sends it.
func captureHello() ([]byte, error) {
	cc := &captureConn{}
	tc := tls.Client(cc, &tls.Config{ServerName: "127.0.0.1", InsecureSkipVerify: true})
	_ = tc.Handshake() // fails at the first read: the hello is written by then
	if len(cc.buf) < 50 {
		return nil, errors.New("soak: no ClientHello captured")
	}
	return cc.buf, nil
}

type captureConn struct {
	net.Conn
	buf []byte
}

func (c *captureConn) Write(p []byte) (int, error) { c.buf = append(c.buf, p...); return len(p), nil }
func (c *captureConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *captureConn) Close() error                { return nil }
func (c *captureConn) SetDeadline(time.Time) error { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error {
	return nil
}

// WebSocket frames written by hand (RFC 6455 §5.2), so that attackers can
// send what no client library would.
const (
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
)

func wsFrame(fin, rsv1 bool, op byte, payload []byte, masked bool) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	f := []byte{b0}
	var m byte
	if masked {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		f = append(f, m|byte(n))
	case n < 1<<16:
		f = append(f, m|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, m|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	if !masked {
		return append(f, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	f = append(f, key[:]...)
	for i, c := range payload {
		f = append(f, c^key[i&3])
	}
	return f
}

// wsDial opens a WebSocket connection to /ws by hand, offering
// permessage-deflate when deflate is set (and requiring it be accepted).
func wsDial(ctx context.Context, addr string, deflate bool, st *attackStats) (net.Conn, *bufio.Reader, func(), error) {
	c, done, err := dial(ctx, addr, st)
	if err != nil {
		return nil, nil, nil, err
	}
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		done()
		return nil, nil, nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) ||
		deflate && !strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		done()
		return nil, nil, nil, fmt.Errorf("soak: WebSocket upgrade refused: %s", resp.Status)
	}
	c.SetDeadline(time.Time{})
	return c, br, done, nil
}

// readClose reads server frames until a close frame and returns its code
// (1005 when it carries none); ok is false if the connection ended first.
func readClose(br *bufio.Reader) (code int, ok bool) {
	for range 64 {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return 0, false
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var x [2]byte
			if _, err := io.ReadFull(br, x[:]); err != nil {
				return 0, false
			}
			n = int64(binary.BigEndian.Uint16(x[:]))
		case 127:
			var x [8]byte
			if _, err := io.ReadFull(br, x[:]); err != nil {
				return 0, false
			}
			n = int64(binary.BigEndian.Uint64(x[:]))
		}
		if n > 1<<24 {
			return 0, false
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0, false
		}
		if h[0]&0x0f == opClose {
			if len(p) < 2 {
				return 1005, true
			}
			return int(binary.BigEndian.Uint16(p)), true
		}
	}
	return 0, false
}
