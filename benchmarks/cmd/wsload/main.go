// Command wsload is the WebSocket load client of the benchmark suite. It
// opens -conns connections to ws://-addr/ws and, in echo mode, makes each
// one send a fixed masked binary message of -size bytes and wait for the
// echo (a closed loop: one message in flight per connection) for
// -duration. It prints one JSON line: messages per second and the p50 and
// p99 round-trip latency, the client's own CPU microseconds per message,
// and, with -pid, the server's CPU microseconds per message from
// /proc/PID/stat. A message counts when its echo arrives before the
// deadline.
//
// -depth N puts N messages in flight per connection: the N frames are
// written together in one write and each is counted when its echo
// arrives; the next N are sent once all N echoes arrived (a closed loop
// per batch). Depth 1 is the classic closed loop. Depth > 1 models clients
// that send bursts, as wrk's pipelining does for HTTP, and rewards servers
// that answer a readable event's messages with one write.
//
// -engine picks how the client drives the connections, so that its own
// CPU cost per message stays well below the server's (the suite pins the
// client to one core and the server to another, and a client that
// saturates its core caps every server at the same rate):
//
//   - epoll (Linux, the default there): -loops event loops (default
//     GOMAXPROCS, so one under taskset -c 1), each owning an epoll
//     instance and a share of the connections. After the handshake each
//     connection's descriptor is taken out of the Go runtime (duplicated,
//     the net.Conn closed) and watched level-triggered for input. Per
//     batch the loop makes one write of the pre-built masked frames and
//     usually one read into its -rbuf buffer; a small per-connection parse
//     state lets frame headers and payloads split across reads. The clock
//     is read once per epoll_wait, so latency samples are exact only to the
//     time the loop spends on one batch of up to -events ready connections
//     (microseconds per connection), in either direction.
//   - goroutine (every OS): one goroutine per connection over net.Conn and
//     a bufio.Reader, the clock read per message.
//
// With -idle it only opens and upgrades the connections, sends nothing,
// waits -settle, and reports the server's resident memory (VmRSS of -pid)
// before the first dial and after the last upgrade, and the difference per
// connection. With -gc it also sends the server SIGUSR1 before each reading
// (cmd/peers then runs debug.FreeOSMemory) and reports the difference of
// those readings: the live footprint without the garbage collector's
// headroom, as a diagnostic next to the raw RSS.
//
//	wsload -addr 127.0.0.1:9001 -conns 1000 -size 64 -duration 5s -pid 4242
//	wsload -addr 127.0.0.1:9001 -conns 10000 -idle -pid 4242
//
// -deflate offers permessage-deflate with no context takeover either way
// (RFC 7692 §7.1.1) and sends the payload compressed once up front
// (RSV1 set), so the server inflates and, if it chooses, deflates every
// message while the client does no compression work per message. The
// payload is a compressible text in that mode.
//
// The process raises its open-file limit to the hard limit, since 10 000
// connections exceed the usual soft limit of 1 024.
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/evhttpd/httpd/benchmarks/internal/proc"
	"github.com/evhttpd/httpd/codec/ws"
)

// options are the command's flags.
type options struct {
	addr       string
	path       string
	conns      int
	size       int
	duration   time.Duration
	deflate    bool
	idle       bool
	settle     time.Duration
	gc         bool
	pid        int
	dialers    int
	timeout    time.Duration
	maxSamples int
	engine     string
	depth      int
	loops      int
	events     int
	readBuf    int
}

// Echo engines (-engine).
const (
	engineEpoll     = "epoll"
	engineGoroutine = "goroutine"
)

// result is the JSON line wsload prints. Fields that do not apply to the
// mode are omitted.
type result struct {
	Mode           string  `json:"mode"` // "echo" or "idle"
	Engine         string  `json:"engine,omitempty"`
	Depth          int     `json:"depth,omitempty"`
	Conns          int     `json:"conns"`
	Size           int     `json:"size,omitempty"`
	Deflate        bool    `json:"deflate"`
	Negotiated     bool    `json:"deflate_negotiated"`
	Seconds        float64 `json:"seconds,omitempty"`
	Messages       int64   `json:"messages,omitempty"`
	MsgPerSec      float64 `json:"msg_per_s,omitempty"`
	P50us          float64 `json:"p50_us,omitempty"`
	P99us          float64 `json:"p99_us,omitempty"`
	CPUusPerMsg    float64 `json:"server_cpu_us_per_msg,omitempty"`
	ClientCPUus    float64 `json:"client_cpu_us_per_msg,omitempty"`
	RSSBefore      int64   `json:"rss_before,omitempty"`
	RSSAfter       int64   `json:"rss_after,omitempty"`
	RSSBeforeGC    int64   `json:"rss_before_gc,omitempty"`
	RSSAfterGC     int64   `json:"rss_after_gc,omitempty"`
	BytesPerConnGC float64 `json:"bytes_per_conn_gc,omitempty"`
	BytesPerConn   float64 `json:"bytes_per_conn,omitempty"`
	Errors         int64   `json:"errors"`
	FirstError     string  `json:"first_error,omitempty"`
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "server host:port")
	flag.StringVar(&o.path, "path", "/ws", "request target of the upgrade")
	flag.IntVar(&o.conns, "conns", 1000, "connections")
	flag.IntVar(&o.size, "size", 64, "payload bytes per message")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "echo mode: how long to send")
	flag.BoolVar(&o.deflate, "deflate", false, "offer permessage-deflate and send compressed messages")
	flag.BoolVar(&o.idle, "idle", false, "only upgrade the connections and measure the server's RSS")
	flag.DurationVar(&o.settle, "settle", time.Second, "idle mode: wait after the last upgrade before reading RSS")
	flag.BoolVar(&o.gc, "gc", false, "idle mode: also read RSS after sending the server SIGUSR1 (cmd/peers then collects garbage and frees memory to the OS)")
	flag.IntVar(&o.pid, "pid", 0, "server process id for CPU and RSS readings (0: none; required with -idle)")
	flag.IntVar(&o.dialers, "dialers", 64, "connections dialled at the same time")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on the dial phase and on any one round trip")
	flag.IntVar(&o.maxSamples, "samples", 1<<14, "latency samples kept per connection (the first ones)")
	flag.StringVar(&o.engine, "engine", defaultEngine, "echo engine: epoll (Linux) or goroutine")
	flag.IntVar(&o.depth, "depth", 1, "messages in flight per connection, written together")
	flag.IntVar(&o.loops, "loops", 0, "epoll engine: event loops (0: GOMAXPROCS)")
	flag.IntVar(&o.events, "events", 128, "epoll engine: most ready connections served per epoll_wait")
	flag.IntVar(&o.readBuf, "rbuf", 64<<10, "epoll engine: read buffer bytes per event loop")
	flag.Parse()
	raiseFileLimit()
	r, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

// collectedRSS asks pid to collect garbage and free memory (SIGUSR1, which
// cmd/peers handles with debug.FreeOSMemory), waits wait, and reads its RSS.
func collectedRSS(pid int, wait time.Duration) (int64, error) {
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		return 0, err
	}
	time.Sleep(wait)
	return proc.RSS(pid)
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

var (
	errFlags    = errors.New("wsload: -conns, -dialers, -depth, -events and -rbuf must be at least 1, -size and -loops at least 0, -engine epoll or goroutine, -idle needs -pid")
	errUpgrade  = errors.New("wsload: upgrade refused")
	errAccept   = errors.New("wsload: wrong Sec-WebSocket-Accept")
	errClosed   = errors.New("wsload: server sent a close frame")
	errEchoSize = errors.New("wsload: echo has a different length")
	errTimeout  = errors.New("wsload: no echo within -timeout")
	// errExtraEcho: the server echoed more messages than were in flight.
	errExtraEcho = errors.New("wsload: echo of a message that was not sent")
)

func run(o options) (result, error) {
	if o.engine == "" {
		o.engine = defaultEngine
	}
	if o.depth == 0 {
		o.depth = 1
	}
	if o.loops == 0 {
		o.loops = runtime.GOMAXPROCS(0)
	}
	if o.events == 0 {
		o.events = 128
	}
	if o.readBuf == 0 {
		o.readBuf = 64 << 10
	}
	if o.conns < 1 || o.dialers < 1 || o.size < 0 || (o.idle && o.pid == 0) ||
		o.depth < 1 || o.loops < 1 || o.events < 1 || o.readBuf < 1 ||
		(o.engine != engineEpoll && o.engine != engineGoroutine) {
		return result{}, errFlags
	}
	r := result{Mode: "echo", Conns: o.conns, Deflate: o.deflate}
	if o.idle {
		r.Mode = "idle"
		rss, err := proc.RSS(o.pid)
		if err != nil {
			return r, err
		}
		r.RSSBefore = rss
		if o.gc {
			if r.RSSBeforeGC, err = collectedRSS(o.pid, o.settle); err != nil {
				return r, err
			}
		}
	} else {
		r.Size, r.Engine, r.Depth = o.size, o.engine, o.depth
	}
	conns, negotiated, err := dialAll(o)
	defer func() {
		for _, c := range conns {
			c.conn.Close()
		}
	}()
	if err != nil {
		return r, err
	}
	r.Negotiated = negotiated
	if o.idle {
		time.Sleep(o.settle)
		rss, err := proc.RSS(o.pid)
		if err != nil {
			return r, err
		}
		r.RSSAfter = rss
		r.BytesPerConn = float64(r.RSSAfter-r.RSSBefore) / float64(o.conns)
		if o.gc {
			if r.RSSAfterGC, err = collectedRSS(o.pid, o.settle); err != nil {
				return r, err
			}
			r.BytesPerConnGC = float64(r.RSSAfterGC-r.RSSBeforeGC) / float64(o.conns)
		}
		return r, nil
	}
	return echo(o, conns, r)
}

// client is one upgraded connection. br holds bytes read past the
// handshake; frame is the masked message sent every round.
type client struct {
	conn    net.Conn
	br      *bufio.Reader
	samples []time.Duration
	n       int64
	err     error
}

// dialAll opens and upgrades o.conns connections, o.dialers at a time, and
// reports whether the server accepted permessage-deflate on all of them.
func dialAll(o options) ([]*client, bool, error) {
	conns := make([]*client, o.conns)
	var (
		next       atomic.Int64
		firstErr   error
		errOnce    sync.Once
		wg         sync.WaitGroup
		negotiated atomic.Int64
	)
	deadline := time.Now().Add(o.timeout)
	for range min(o.dialers, o.conns) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= o.conns {
					return
				}
				c, neg, err := dial(o, deadline)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", i, err) })
					next.Store(int64(o.conns))
					return
				}
				if neg {
					negotiated.Add(1)
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	conns = slices.DeleteFunc(conns, func(c *client) bool { return c == nil })
	return conns, negotiated.Load() == int64(o.conns), firstErr
}

func dial(o options, deadline time.Time) (*client, bool, error) {
	conn, err := net.DialTimeout("tcp", o.addr, time.Until(deadline))
	if err != nil {
		return nil, false, err
	}
	conn.SetDeadline(deadline)
	var raw [16]byte
	rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET " + o.path + " HTTP/1.1\r\nHost: " + o.addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\n"
	if o.deflate {
		req += "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		conn.Close()
		return nil, false, err
	}
	// The buffer is small: an idle connection should cost the client
	// little, and an echo frame header fits many times over.
	br := bufio.NewReaderSize(conn, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, false, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, false, fmt.Errorf("%w: status %d", errUpgrade, resp.StatusCode)
	}
	if resp.Header.Get("Sec-WebSocket-Accept") != string(ws.AcceptKey(nil, []byte(key))) {
		conn.Close()
		return nil, false, errAccept
	}
	neg := bytes.Contains([]byte(resp.Header.Get("Sec-WebSocket-Extensions")), []byte("permessage-deflate"))
	conn.SetDeadline(time.Time{})
	return &client{conn: conn, br: br}, neg, nil
}

// payload returns the message body: random-looking bytes normally, a
// compressible text with -deflate.
func payload(size int, text bool) []byte {
	p := make([]byte, size)
	if text {
		const words = "the quick brown fox jumps over the lazy dog; "
		for i := range p {
			p[i] = words[i%len(words)]
		}
		return p
	}
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

// compress deflates msg as one permessage-deflate message without context
// takeover: a raw DEFLATE stream flushed and stripped of the final empty
// stored block's 00 00 ff ff (RFC 7692 §7.2.1).
func compress(msg []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(msg)
	w.Flush()
	out := b.Bytes()
	return bytes.TrimSuffix(out, []byte{0, 0, 0xff, 0xff})
}

func echo(o options, conns []*client, r result) (result, error) {
	msg := payload(o.size, o.deflate)
	body, rsv := msg, byte(0)
	if o.deflate {
		body, rsv = compress(msg), ws.Rsv1
	}
	frame := ws.AppendMaskedFrame(nil, ws.OpBinary, true, rsv, [4]byte{0x1f, 0x2e, 0x3d, 0x4c}, body)
	batch := bytes.Repeat(frame, o.depth)

	var eng engine = &goroutineEngine{conns: conns, batch: batch, wantLen: len(msg), o: o}
	if o.engine == engineEpoll {
		e, err := newEpollEngine(o, conns, batch, len(msg))
		if err != nil {
			return r, err
		}
		eng = e
	}
	defer eng.close()

	var cpu0 time.Duration
	if o.pid != 0 {
		c, err := proc.CPU(o.pid)
		if err != nil {
			return r, err
		}
		cpu0 = c
	}
	self0, selfErr := proc.CPU(os.Getpid())
	for _, c := range conns {
		c.samples = make([]time.Duration, 0, min(o.maxSamples, 1024))
	}
	start := time.Now()
	eng.run(start, start.Add(o.duration))
	elapsed := time.Since(start)
	if o.pid != 0 {
		c, err := proc.CPU(o.pid)
		if err != nil {
			return r, err
		}
		cpu0 = c - cpu0
	}
	// The client's own CPU tells whether its core, not the server's, was
	// the limit.
	var clientCPU time.Duration
	if self1, err := proc.CPU(os.Getpid()); err == nil && selfErr == nil {
		clientCPU = self1 - self0
	}
	var all []time.Duration
	for _, c := range conns {
		r.Messages += c.n
		all = append(all, c.samples...)
		if c.err != nil {
			r.Errors++
			if r.FirstError == "" {
				r.FirstError = c.err.Error()
			}
		}
	}
	r.Seconds = elapsed.Seconds()
	r.MsgPerSec = float64(r.Messages) / r.Seconds
	slices.Sort(all)
	r.P50us = percentile(all, 0.50)
	r.P99us = percentile(all, 0.99)
	if o.pid != 0 && r.Messages > 0 {
		r.CPUusPerMsg = float64(cpu0.Microseconds()) / float64(r.Messages)
	}
	if r.Messages > 0 {
		r.ClientCPUus = float64(clientCPU.Microseconds()) / float64(r.Messages)
	}
	return r, nil
}

// percentile returns the q-quantile of sorted in microseconds (nearest
// rank), 0 for no samples.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Microsecond)
}

// engine drives the echo on the upgraded connections from start until
// end, leaving each client's count, samples and error in it.
type engine interface {
	run(start, end time.Time)
	// close releases what the engine holds beyond the clients.
	close()
}

// goroutineEngine runs one goroutine per connection. batch is -depth
// masked frames; uncompressed echoes must be wantLen bytes long.
type goroutineEngine struct {
	conns   []*client
	batch   []byte
	wantLen int
	o       options
}

func (e *goroutineEngine) run(start, end time.Time) {
	var wg sync.WaitGroup
	for _, c := range e.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loop(e.batch, e.o.depth, e.wantLen, e.o, end)
		}()
	}
	wg.Wait()
}

func (e *goroutineEngine) close() {}

// loop writes batch (depth frames) and reads depth echoes until end. A
// message counts when its echo arrives before end.
func (c *client) loop(batch []byte, depth, wantLen int, o options, end time.Time) {
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		c.conn.SetDeadline(t0.Add(o.timeout))
		if _, err := c.conn.Write(batch); err != nil {
			c.fail(err)
			return
		}
		for range depth {
			if err := c.readEcho(wantLen); err != nil {
				c.fail(err)
				return
			}
			t1 := time.Now()
			if t1.After(end) {
				return
			}
			c.n++
			if len(c.samples) < o.maxSamples {
				c.samples = append(c.samples, t1.Sub(t0))
			}
		}
	}
}

// fail records err, reporting a missed deadline as the epoll engine does.
func (c *client) fail(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errTimeout
	}
	c.err = err
}

// readEcho reads one whole message (RFC 6455 §5.2 framing, server frames
// unmasked; fragments until FIN) and discards its payload.
func (c *client) readEcho(wantLen int) error {
	total, compressed := 0, false
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return err
		}
		op := ws.Opcode(h[0] & 0x0f)
		if op == ws.OpClose {
			return errClosed
		}
		if h[1]&0x80 != 0 { // RFC 6455 §5.1: server frames are never masked
			return ws.ErrMasked
		}
		if op.IsData() { // a message's first frame carries RSV1 (RFC 7692 §6)
			compressed = h[0]&0x40 != 0
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var e [2]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return err
			}
			n = int64(e[0])<<8 | int64(e[1])
		case 127:
			var e [8]byte
			if _, err := io.ReadFull(c.br, e[:]); err != nil {
				return err
			}
			n = 0
			for _, b := range e {
				n = n<<8 | int64(b)
			}
		}
		if _, err := c.br.Discard(int(n)); err != nil {
			return err
		}
		if op.IsControl() {
			continue
		}
		total += int(n)
		if h[0]&0x80 != 0 {
			break
		}
	}
	if !compressed && total != wantLen {
		return errEchoSize
	}
	return nil
}
