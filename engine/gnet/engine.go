package gnet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

// Name is the name the backend registers under.
const Name = "gnet"

func init() { engine.Register(Name, engine.BackendFunc(Start)) }

// gnetEngine runs the gnet loops, the acceptor and the control socket.
type gnetEngine struct {
	cfg engine.Config
	opt Options
	h   engine.Handler
	// readCap is the size of gnet's per-loop read buffer (ReadBufferCap
	// as gnet rounds it): a read that fills it may have left more in the
	// socket (conn.readAhead).
	readCap int
	log     *slog.Logger
	token   ctrl.Token

	addr      net.Addr
	ctrlAddr  *net.UDPAddr
	protoAddr string // gnet's address string, "udp4://127.0.0.1:port"

	// gnet: gEng is set by OnBoot, before booted is closed.
	gEng    gnet.Engine
	booted  chan struct{}
	ticking chan struct{} // closed by the first OnTick: every loop is registered and running
	runDone chan struct{} // closed when gnet.Run returned
	runErr  error         // gnet.Run's result, read after runDone

	// Loop table: discovered gnet loops, then published once as loops.
	discMu     sync.Mutex
	discovered []gnet.EventLoop
	loops      atomic.Pointer[[]*loop]

	// Doorbell senders. wakeMu guards the sender fds against Stop closing
	// them under a concurrent Wake.
	wakeMu     sync.RWMutex
	wakeClosed bool
	senderFds  []int        // every fd to close at Stop
	fallbackFd atomic.Int64 // sender used for loops without their own
	probeCh    chan probeResult
	ready      atomic.Bool // calibration done: the ticker may ring
	seq        atomic.Uint32

	acc  engine.Acceptor
	next int // acceptor goroutine only: round-robin loop choice

	stop engine.Shutdown

	st counters
}

var _ engine.Engine = (*gnetEngine)(nil)

// counters are the engine-wide Stats fields; per-loop ones live in loop.
type counters struct {
	enrolled                                 atomic.Uint64
	sent, dropped, fallbacks, rescues, local atomic.Uint64
	directLoops                              atomic.Int64
}

// discoveryTag marks the throwaway UDP sockets Start enrolls to learn the
// loops (gnet has no API that lists them).
type discoveryTag struct{}

// Start is the backend's engine.Backend: it validates cfg, binds the
// listener and the control socket, starts the gnet loops, learns every loop
// and calibrates the doorbell senders, then starts accepting. It returns
// once all of that is done. Use engine.Start with Config.Backend "gnet"
// (the default) rather than calling it directly.
func Start(cfg engine.Config, h engine.Handler) (engine.Engine, error) {
	cfg, ctrlUA, err := engine.Prepare(cfg, h, Name, MaxLoops)
	if err != nil {
		return nil, err
	}
	opt, err := options(cfg)
	if err != nil {
		return nil, err
	}
	ln := cfg.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, err
		}
	}
	// Reserve the control port first: gnet binds one socket per loop to the
	// address string it is given, so "port 0" would give every loop another
	// port. The placeholder shares the port (SO_REUSEPORT) until all of
	// gnet's sockets are bound, so no other program can take it meanwhile.
	var placeholder net.PacketConn
	if ctrlUA.Port == 0 {
		if placeholder, err = reservePort(ctrlUA); err != nil {
			ln.Close()
			return nil, err
		}
		ctrlUA.Port = placeholder.LocalAddr().(*net.UDPAddr).Port
	}
	closePlaceholder := func() {
		if placeholder != nil {
			placeholder.Close()
			placeholder = nil
		}
	}
	proto := "udp4"
	if ctrlUA.IP.To4() == nil {
		proto = "udp6"
	}
	e := &gnetEngine{
		cfg:       cfg,
		opt:       opt,
		readCap:   gnetReadCap(opt.ReadBufferCap),
		h:         h,
		log:       cfg.Logger,
		token:     ctrl.Token(cfg.Token),
		addr:      ln.Addr(),
		ctrlAddr:  ctrlUA,
		protoAddr: proto + "://" + ctrlUA.String(),
		booted:    make(chan struct{}),
		ticking:   make(chan struct{}),
		runDone:   make(chan struct{}),
		probeCh:   make(chan probeResult, opt.CalibrationProbes),
	}
	e.acc = engine.Acceptor{
		Listener:   ln,
		BackoffMin: cfg.AcceptBackoffMin,
		BackoffMax: cfg.AcceptBackoffMax,
		KeepAlive:  cfg.TCPKeepAlive,
		Queue:      opt.EnrollQueue,
		Log:        cfg.Logger,
		Handoff:    e.enroll,
	}
	e.fallbackFd.Store(-1)
	go func() {
		defer close(e.runDone)
		e.runErr = gnet.Run(&gnetHandler{e: e}, e.protoAddr,
			gnet.WithNumEventLoop(cfg.Loops),
			gnet.WithLoadBalancing(gnet.RoundRobin),
			gnet.WithTicker(true),
			gnet.WithReadBufferCap(opt.ReadBufferCap),
			gnet.WithWriteBufferCap(opt.WriteBufferCap),
			gnet.WithLogger(gnetLogger{l: cfg.Logger, debug: opt.LogDebug}),
		)
	}()
	fail := func(err error) (engine.Engine, error) {
		closePlaceholder()
		ln.Close()
		e.stopGnet()
		e.closeSenders()
		return nil, err
	}
	select {
	case <-e.ticking:
	case <-e.runDone:
		closePlaceholder()
		ln.Close()
		if e.runErr == nil {
			e.runErr = engine.ErrStopped
		}
		return nil, e.runErr
	}
	if err := e.discoverLoops(); err != nil {
		return fail(err)
	}
	// Every gnet socket is bound once the loops run; from here on the
	// placeholder would only swallow doorbells the kernel hashes to it.
	closePlaceholder()
	if err := e.calibrate(); err != nil {
		return fail(err)
	}
	e.ready.Store(true)
	e.acc.Start()
	e.log.Debug("engine: started", "backend", Name, "addr", e.addr.String(), "ctrl", ctrlUA.String(),
		"loops", cfg.Loops, "direct_loops", e.st.directLoops.Load())
	return e, nil
}

// discoverLoops enrolls one throwaway UDP socket per loop. gnet's round-robin
// balancer hands consecutive registrations to loops 0..N-1 in order, and
// OnOpen records each c.EventLoop(); waiting for each before the next keeps
// first-seen order equal to gnet's order. The sockets close at once.
func (e *gnetEngine) discoverLoops() error {
	proto := "udp4"
	if e.ctrlAddr.IP.To4() == nil {
		proto = "udp6"
	}
	for i := 0; i < e.cfg.Loops; i++ {
		uc, err := net.DialUDP(proto, nil, e.ctrlAddr)
		if err != nil {
			return err
		}
		ctx := gnet.NewNetConnContext(gnet.NewContext(context.Background(), discoveryTag{}), uc)
		ch, err := e.gEng.Register(ctx)
		if err != nil {
			uc.Close()
			return err
		}
		t := time.NewTimer(e.opt.CalibrationTimeout)
		select {
		case res := <-ch:
			t.Stop()
			if res.Err != nil {
				return res.Err
			}
		case <-e.runDone:
			t.Stop()
			return engine.ErrStopped
		case <-t.C:
			return errors.New("engine: event loop did not start in time")
		}
	}
	e.discMu.Lock()
	found := e.discovered
	e.discMu.Unlock()
	if len(found) != e.cfg.Loops {
		return errors.New("engine: could not identify every event loop")
	}
	loops := make([]*loop, len(found))
	for i, gel := range found {
		loops[i] = newLoop(e, i, gel)
	}
	e.loops.Store(&loops)
	return nil
}

// discover records a gnet loop seen in OnOpen of a discovery socket.
func (e *gnetEngine) discover(gel gnet.EventLoop) {
	e.discMu.Lock()
	defer e.discMu.Unlock()
	for _, g := range e.discovered {
		if g == gel {
			return
		}
	}
	e.discovered = append(e.discovered, gel)
}

// loopOf maps a gnet loop to its state: a short scan, no map, no allocation.
// It returns nil before discovery finished.
func (e *gnetEngine) loopOf(gel gnet.EventLoop) *loop {
	p := e.loops.Load()
	if p == nil {
		return nil
	}
	for _, ls := range *p {
		if ls.gel == gel {
			return ls
		}
	}
	return nil
}

func (e *gnetEngine) loopList() []*loop {
	if p := e.loops.Load(); p != nil {
		return *p
	}
	return nil
}

func (e *gnetEngine) Addr() net.Addr     { return e.addr }
func (e *gnetEngine) CtrlAddr() net.Addr { return e.ctrlAddr }
func (e *gnetEngine) Loops() int         { return e.cfg.Loops }
func (e *gnetEngine) StopAccepting()     { e.acc.Stop() }

func (e *gnetEngine) Stop(ctx context.Context) error { return e.stop.Stop(ctx, e.shutdown) }

func (e *gnetEngine) shutdown() {
	e.acc.Stop()
	e.acc.Wait() // every enrollment finished: its conn is in a loop or closed
	e.stopGnet()
	e.closeSenders()
	// gnet keeps every engine in a package-level map for its deprecated
	// global Stop; this call only removes ours from it (the engine has
	// already shut down, so gnet.Stop returns at once).
	_ = gnet.Stop(context.Background(), e.protoAddr)
	if e.runErr != nil {
		e.log.Error("engine: gnet stopped with an error", "err", e.runErr)
	}
}

// stopGnet makes gnet close every connection and end its loops, and waits for
// gnet.Run to return. gnet's own Engine.Stop polls every 500ms; with an
// already cancelled context it only signals, and runDone does the waiting.
func (e *gnetEngine) stopGnet() {
	e.wakeMu.Lock()
	e.wakeClosed = true
	e.wakeMu.Unlock()
	select {
	case <-e.booted:
	case <-e.runDone:
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = e.gEng.Stop(ctx)
	<-e.runDone
}

// enroll is the acceptor's hand-off: it gives nc to the next loop round
// robin through gnet's EventLoop.Enroll, which duplicates the descriptor,
// closes nc and registers the duplicate on the loop, where OnOpen receives
// the conn wrapper as the connection's context. The result arrives on a
// channel the acceptor collects, so it does not wait for a loop (except in
// a back-off episode).
func (e *gnetEngine) enroll(nc net.Conn) (func() error, error) {
	loops := e.loopList()
	ls := loops[e.next%len(loops)]
	e.next++
	w := newConn()
	// EventLoop.Enroll takes the conn itself; the context only carries w.
	ctx := gnet.NewContext(context.Background(), w)
	ch, err := ls.gel.Enroll(ctx, nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return func() error {
		select {
		case res := <-ch:
			if res.Err == nil {
				e.st.enrolled.Add(1)
			}
			return res.Err
		case <-e.runDone:
			// gnet ended on its own: queued registrations will never run.
			return engine.ErrStopped
		}
	}, nil
}

func (e *gnetEngine) Stats() engine.Stats {
	a := e.acc.Stats()
	s := engine.Stats{
		Accepted:         a.Accepted,
		AcceptErrors:     a.AcceptErrors,
		AcceptBackoffs:   a.AcceptBackoffs,
		EnrollErrors:     a.HandoffErrors,
		DoorbellsSent:    e.st.sent.Load(),
		DoorbellsDropped: e.st.dropped.Load(),
		WakeFallbacks:    e.st.fallbacks.Load(),
		LocalWakes:       e.st.local.Load(),
		BellRescues:      e.st.rescues.Load(),
		DirectLoops:      int(e.st.directLoops.Load()),
	}
	for _, ls := range e.loopList() {
		s.DoorbellsReceived += ls.received.Load()
		s.DoorbellsForwarded += ls.forwarded.Load()
		s.Wakes += ls.Wakes.Load()
		s.Ticks += ls.Ticks.Load()
		s.TimersFired += ls.TimersFired.Load()
	}
	return s
}

// gnetReadCap is the read buffer size gnet makes of ReadBufferCap: at least
// 1 KiB, rounded up to a power of two.
func gnetReadCap(n int) int {
	c := 1 << 10
	for c < n {
		c <<= 1
	}
	return c
}
