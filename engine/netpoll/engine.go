//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

func init() { engine.Register(Name, engine.BackendFunc(Start)) }

// npEngine runs the loops, the acceptor, the write poller and the control
// socket of one netpoll engine.
type npEngine struct {
	cfg   engine.Config
	opt   Options
	h     engine.Handler
	log   *slog.Logger
	token ctrl.Token

	addr     net.Addr
	ctrl     *net.UDPConn
	ctrlAddr *net.UDPAddr
	ctrlDone chan struct{}

	loops []*loop
	wp    *writePoller
	acc   engine.Acceptor
	next  int // acceptor goroutine only: round-robin loop choice

	stopping atomic.Bool
	stop     engine.Shutdown

	received, dropped atomic.Uint64

	inline  bool           // netpoll runs tasks on its pollers (runInline)
	closers sync.WaitGroup // closeNetpoll goroutines under way
}

var _ engine.Engine = (*npEngine)(nil)

// Process-wide netpoll settings, applied once.
var (
	configureMu sync.Mutex
	configured  *Options // the first Start's; nil: not yet
)

// configure applies Options.BufferSize and Options.Pooled to netpoll's
// process-wide settings on the first Start, and routes netpoll's log (a
// log.Logger of its own) to that engine's Logger at Debug: netpoll logs
// per connection (a peer's reset, for one). Later Starts must agree on
// both. loops is the first engine's loop count: with the inline runner,
// netpoll gets as many pollers (at least its default), since each poller
// goroutine then runs the callbacks of the connections it reads. It
// reports whether tasks run inline (runInline).
func configure(o Options, loops int, log *slog.Logger) (inline bool, err error) {
	configureMu.Lock()
	defer configureMu.Unlock()
	if c := configured; c != nil {
		if c.BufferSize != o.BufferSize || c.Pooled != o.Pooled {
			return false, engine.ConfigError("netpoll's buffer size and runner are process-wide and already set by another engine")
		}
		return !c.Pooled, nil
	}
	// LoadBalance -1 keeps netpoll's choice (0 would reset it to round
	// robin); the other zero fields are left alone by Configure.
	nc := netpoll.Config{LoadBalance: -1, LoggerOutput: logWriter{log}}
	if o.BufferSize > 0 {
		nc.BufferSize = o.BufferSize
	}
	if !o.Pooled {
		nc.Runner = runInline
		if def := runtime.GOMAXPROCS(0)/20 + 1; loops > def { // netpoll's default count
			nc.PollerNum = min(loops, runtime.GOMAXPROCS(0))
		}
	}
	if err := netpoll.Configure(nc); err != nil {
		return false, err
	}
	if o.BufferSize > 0 {
		netpoll.LinkBufferCap = o.BufferSize
	}
	configured = &o
	return !o.Pooled, nil
}

// runInline is netpoll's runner when Options.Pooled is false: the poller
// goroutine that found input runs the connection's task itself.
//
// netpoll assumes a task never runs on a poller: a task that finds its
// connection closed frees the connection's poller slot, and that waits
// until the poller has finished with the connection's event, which a
// poller running the task never does. So no connection is closed while a
// task runs on a poller: tasks run inline under taskGate's read lock, and
// gatedClose announces itself in closesPending, takes the write lock once
// (every task that began inline has ended) and only then closes. Until
// the connection's close callbacks ran, tasks run on goroutines of their
// own, where finding their connection closed is safe. Closes are rare
// next to tasks; the read lock is one atomic add per task.
func runInline(_ context.Context, f func()) {
	taskGate.RLock()
	if closesPending.Load() > 0 {
		taskGate.RUnlock()
		offPoller.Add(1)
		go func() {
			defer offPoller.Add(-1)
			f()
		}()
		return
	}
	f()
	taskGate.RUnlock()
}

var (
	taskGate      sync.RWMutex
	closesPending atomic.Int32
	// offPoller counts tasks running off a poller (on their own goroutine,
	// or on the acceptor's): while there is one, no task reads a socket
	// itself (loop.readAhead), since the task may not be on the poller
	// that reads that socket.
	offPoller atomic.Int32
)

// logWriter takes netpoll's log lines (each with log.LstdFlags' date and
// time, which slog adds anyway) to slog at Debug.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	if w.l.Enabled(context.Background(), slog.LevelDebug) {
		line := strings.TrimSpace(string(p))
		if len(line) > 20 && line[4] == '/' && line[19] == ' ' { // "2006/01/02 15:04:05 "
			line = line[20:]
		}
		w.l.Debug(line, "component", "netpoll")
	}
	return len(p), nil
}

// Start is the backend's engine.Backend: it validates cfg, binds the
// listener and the control socket, starts the loops and the write poller,
// then starts accepting. Use engine.Start with Config.Backend "netpoll"
// rather than calling it directly.
func Start(cfg engine.Config, h engine.Handler) (engine.Engine, error) {
	cfg, ctrlUA, err := engine.Prepare(cfg, h, Name, MaxLoops)
	if err != nil {
		return nil, err
	}
	opt, err := options(cfg)
	if err != nil {
		return nil, err
	}
	inline, err := configure(opt, cfg.Loops, cfg.Logger)
	if err != nil {
		return nil, err
	}
	// netpoll starts its pollers on first use; do it now, so they exist
	// before any engine goroutine does (they outlive every engine).
	netpoll.Initialize()
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, err
		}
	}
	uc, err := net.ListenUDP(udpNetwork(ctrlUA), ctrlUA)
	if err != nil {
		ln.Close()
		return nil, err
	}
	wp, err := newWritePoller()
	if err != nil {
		ln.Close()
		uc.Close()
		return nil, err
	}
	e := &npEngine{
		inline:   inline,
		cfg:      cfg,
		opt:      opt,
		h:        h,
		log:      cfg.Logger,
		token:    ctrl.Token(cfg.Token),
		addr:     ln.Addr(),
		ctrl:     uc,
		ctrlAddr: uc.LocalAddr().(*net.UDPAddr),
		ctrlDone: make(chan struct{}),
		wp:       wp,
	}
	e.acc = engine.Acceptor{
		Listener:   ln,
		BackoffMin: cfg.AcceptBackoffMin,
		BackoffMax: cfg.AcceptBackoffMax,
		KeepAlive:  cfg.TCPKeepAlive,
		Queue:      1, // hand-offs finish before Handoff returns
		Log:        cfg.Logger,
		Handoff:    e.handoff,
	}
	now := time.Now()
	e.loops = make([]*loop, cfg.Loops)
	for i := range e.loops {
		e.loops[i] = newLoop(e, i, now)
	}
	for _, ls := range e.loops {
		go ls.run()
	}
	go wp.run(e.writable)
	go e.serveCtrl()
	e.acc.Start()
	e.log.Debug("engine: started", "backend", Name, "addr", e.addr.String(), "ctrl", e.ctrlAddr.String(), "loops", cfg.Loops)
	return e, nil
}

func udpNetwork(ua *net.UDPAddr) string {
	if ua.IP.To4() != nil {
		return "udp4"
	}
	return "udp6"
}

func (e *npEngine) Addr() net.Addr     { return e.addr }
func (e *npEngine) CtrlAddr() net.Addr { return e.ctrlAddr }
func (e *npEngine) Loops() int         { return len(e.loops) }
func (e *npEngine) StopAccepting()     { e.acc.Stop() }

// Wake rings the loop's bell and, when it was silent, signals the loop's
// goroutine through its channel: no datagram, no system call when the
// goroutine is awake anyway.
func (e *npEngine) Wake(loop int) error {
	if loop < 0 || loop >= len(e.loops) {
		return engine.ErrLoop
	}
	if e.stopping.Load() {
		return engine.ErrStopped
	}
	ls := e.loops[loop]
	if ls.Bell.Ring(engine.BellWork) {
		ls.signal()
	}
	return nil
}

func (e *npEngine) Stop(ctx context.Context) error { return e.stop.Stop(ctx, e.shutdown) }

func (e *npEngine) shutdown() {
	e.stopping.Store(true)
	e.acc.Stop()
	e.acc.Wait() // every accepted connection is in a loop or closed
	for _, ls := range e.loops {
		close(ls.quit)
	}
	for _, ls := range e.loops {
		<-ls.done // every connection closed, OnClose run
	}
	e.closers.Wait() // and closed in netpoll too
	e.ctrl.Close()
	<-e.ctrlDone
	e.wp.close()
}

func (e *npEngine) Stats() engine.Stats {
	a := e.acc.Stats()
	s := engine.Stats{
		Accepted:          a.Accepted,
		AcceptErrors:      a.AcceptErrors,
		AcceptBackoffs:    a.AcceptBackoffs,
		EnrollErrors:      a.HandoffErrors,
		DoorbellsReceived: e.received.Load(),
		DoorbellsDropped:  e.dropped.Load(),
	}
	for _, ls := range e.loops {
		s.Wakes += ls.Wakes.Load()
		s.Ticks += ls.Ticks.Load()
		s.TimersFired += ls.TimersFired.Load()
	}
	return s
}

// serveCtrl reads the control socket: netpoll has no API to register a UDP
// socket, so one goroutine of the engine blocks on it (through the Go
// runtime's poller). Wake does not use it; a valid doorbell from outside
// (with the instance token) rings the named loop like Wake, and anything
// else is counted and dropped. The buffer is one byte longer than a
// doorbell, so a longer datagram is truncated to a wrong length and never
// costs more than that.
func (e *npEngine) serveCtrl() {
	defer close(e.ctrlDone)
	var buf [ctrl.DoorbellLen + 1]byte
	for {
		n, err := e.ctrl.Read(buf[:])
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient error (ECONNREFUSED from an earlier send on
			// some systems): nothing was read.
			continue
		}
		target, kind, _, ok := ctrl.ParseDoorbell(buf[:n], e.token)
		if !ok || target >= len(e.loops) {
			e.dropped.Add(1)
			continue
		}
		var bit uint32
		switch kind {
		case ctrl.KindWork:
			bit = engine.BellWork
		case ctrl.KindTick:
			bit = engine.BellTick
		case ctrl.KindProbe:
			// gnet's calibration probe: valid, but nothing to do here.
			e.received.Add(1)
			continue
		default:
			e.dropped.Add(1)
			continue
		}
		e.received.Add(1)
		ls := e.loops[target]
		if ls.Bell.Ring(bit) {
			ls.signal()
		}
	}
}

// handoff is the acceptor's hand-off: the descriptor leaves the Go runtime
// (engine.DupConn), becomes a netpoll connection registered in one of
// netpoll's pollers, and joins the next loop round robin. OnOpen runs here,
// on the acceptor goroutine holding the loop, before netpoll is told about
// OnRequest, so no traffic can overtake it.
func (e *npEngine) handoff(nc net.Conn) (func() error, error) {
	local, remote, other := addrsOf(nc.LocalAddr(), nc.RemoteAddr())
	fd, err := engine.DupConn(nc)
	if err != nil {
		return nil, err
	}
	c, err := netpoll.NewFDConnection(fd)
	if err != nil {
		// NewFDConnection closed the descriptor when registration failed.
		return nil, err
	}
	ls := e.loops[e.next%len(e.loops)]
	e.next++
	w := &conn{nc: c, ls: ls, fd: int32(fd), local: local, remote: remote, other: other}
	if err := c.AddCloseCallback(w.onPollerClose); err != nil {
		c.Close()
		return nil, err
	}
	if ok, err := ls.open(w); !ok {
		return nil, err // refused at Stop, or closed by OnOpen (nil)
	}
	// SetOnRequest runs OnRequest at once if bytes arrived meanwhile, on
	// this goroutine.
	offPoller.Add(1)
	_ = c.SetOnRequest(w.onRequest)
	offPoller.Add(-1)
	if !c.IsActive() {
		// The peer left before OnRequest was set, and netpoll runs no
		// close callback for a connection without one: closing it here
		// runs them, after the OnRequest just started if there was
		// input, so the loop sees the traffic, then the close.
		if e.inline {
			w.gatedClose()
		} else {
			_ = c.Close()
		}
	}
	return nil, nil
}

// addrsOf keeps a connection's addresses compactly: an idle connection
// should not hold two *net.TCPAddr with their IP slices.
func addrsOf(local, remote net.Addr) (l, r netip.AddrPort, other *[2]net.Addr) {
	lt, ok1 := local.(*net.TCPAddr)
	rt, ok2 := remote.(*net.TCPAddr)
	if !ok1 || !ok2 {
		return l, r, &[2]net.Addr{local, remote}
	}
	unmap := func(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) }
	return unmap(lt.AddrPort()), unmap(rt.AddrPort()), nil
}

// writable is the write poller's delivery: w's socket takes output again.
func (e *npEngine) writable(w *conn) {
	w.ls.post(w, evWritable)
}
