package engine

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
)

// Engine runs the event loops, the acceptor and the control socket. Create it
// with Start; stop it with Stop.
type Engine struct {
	cfg   Config
	h     Handler
	log   *slog.Logger
	token ctrl.Token

	ln        net.Listener
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

	// Acceptor.
	acceptStop     chan struct{}
	acceptStopOnce sync.Once
	acceptDone     chan struct{}
	reapDone       chan struct{}
	enrollQ        chan (<-chan gnet.RegisteredResult)
	fdPressure     atomic.Bool // an enrollment failed for lack of descriptors

	stopOnce sync.Once
	stopped  chan struct{}

	st counters
}

// counters are the engine-wide Stats fields; per-loop ones live in loop.
type counters struct {
	accepted, acceptErrors, acceptBackoffs, enrollErrors atomic.Uint64
	enrolled                                             atomic.Uint64
	sent, dropped, fallbacks, rescues                    atomic.Uint64
	directLoops                                          atomic.Int64
}

// discoveryTag marks the throwaway UDP sockets Start enrolls to learn the
// loops (gnet has no API that lists them).
type discoveryTag struct{}

// Start validates cfg, binds the listener and the control socket, starts the
// gnet loops, learns every loop and calibrates the doorbell senders, then
// starts accepting. It returns once all of that is done.
func Start(cfg Config, h Handler) (*Engine, error) {
	if h == nil {
		return nil, ErrNoHandler
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctrlUA, err := resolveCtrl(cfg.CtrlAddr)
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
	e := &Engine{
		cfg:        cfg,
		h:          h,
		log:        cfg.Logger,
		token:      ctrl.Token(cfg.Token),
		ln:         ln,
		addr:       ln.Addr(),
		ctrlAddr:   ctrlUA,
		protoAddr:  proto + "://" + ctrlUA.String(),
		booted:     make(chan struct{}),
		ticking:    make(chan struct{}),
		runDone:    make(chan struct{}),
		probeCh:    make(chan probeResult, cfg.CalibrationProbes),
		acceptStop: make(chan struct{}),
		acceptDone: make(chan struct{}),
		reapDone:   make(chan struct{}),
		enrollQ:    make(chan (<-chan gnet.RegisteredResult), cfg.EnrollQueue),
		stopped:    make(chan struct{}),
	}
	e.fallbackFd.Store(-1)
	go func() {
		defer close(e.runDone)
		e.runErr = gnet.Run(&gnetHandler{e: e}, e.protoAddr,
			gnet.WithNumEventLoop(cfg.Loops),
			gnet.WithLoadBalancing(gnet.RoundRobin),
			gnet.WithTicker(true),
			gnet.WithReadBufferCap(cfg.ReadBufferCap),
			gnet.WithWriteBufferCap(cfg.WriteBufferCap),
			gnet.WithLogger(gnetLogger{cfg.Logger}),
		)
	}()
	fail := func(err error) (*Engine, error) {
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
			e.runErr = ErrStopped
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
	go e.reap()
	go e.accept()
	e.log.Debug("engine: started", "addr", e.addr.String(), "ctrl", ctrlUA.String(),
		"loops", cfg.Loops, "direct_loops", e.st.directLoops.Load())
	return e, nil
}

// discoverLoops enrolls one throwaway UDP socket per loop. gnet's round-robin
// balancer hands consecutive registrations to loops 0..N-1 in order, and
// OnOpen records each c.EventLoop(); waiting for each before the next keeps
// first-seen order equal to gnet's order. The sockets close at once.
func (e *Engine) discoverLoops() error {
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
		t := time.NewTimer(e.cfg.CalibrationTimeout)
		select {
		case res := <-ch:
			t.Stop()
			if res.Err != nil {
				return res.Err
			}
		case <-e.runDone:
			t.Stop()
			return ErrStopped
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
func (e *Engine) discover(gel gnet.EventLoop) {
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
func (e *Engine) loopOf(gel gnet.EventLoop) *loop {
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

func (e *Engine) loopList() []*loop {
	if p := e.loops.Load(); p != nil {
		return *p
	}
	return nil
}

// Addr returns the bound TCP address.
func (e *Engine) Addr() net.Addr { return e.addr }

// CtrlAddr returns the bound UDP control address.
func (e *Engine) CtrlAddr() net.Addr { return e.ctrlAddr }

// Loops returns the number of event loops.
func (e *Engine) Loops() int { return e.cfg.Loops }

// StopAccepting closes the listener: no new connection is accepted. Open
// connections are not touched. Safe from any goroutine, also from a loop;
// idempotent.
func (e *Engine) StopAccepting() {
	e.acceptStopOnce.Do(func() {
		close(e.acceptStop)
		e.ln.Close()
	})
}

// Stop stops the engine: no new accepts, connections being enrolled join
// their loop and are closed with the rest (OnClose for each, on its loop),
// the loops end, the control sockets close and every goroutine of the engine
// is gone. It blocks until then or until ctx is done (the shutdown then goes
// on in the background and a later Stop waits for it again). Safe to call
// concurrently and more than once; it must not be called from a loop.
func (e *Engine) Stop(ctx context.Context) error {
	e.stopOnce.Do(func() { go e.shutdown() })
	select {
	case <-e.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (e *Engine) shutdown() {
	e.StopAccepting()
	<-e.acceptDone
	<-e.reapDone // every enrollment finished: its conn is in a loop or closed
	e.stopGnet()
	e.closeSenders()
	// gnet keeps every engine in a package-level map for its deprecated
	// global Stop; this call only removes ours from it (the engine has
	// already shut down, so gnet.Stop returns at once).
	_ = gnet.Stop(context.Background(), e.protoAddr)
	if e.runErr != nil {
		e.log.Error("engine: gnet stopped with an error", "err", e.runErr)
	}
	close(e.stopped)
}

// stopGnet makes gnet close every connection and end its loops, and waits for
// gnet.Run to return. gnet's own Engine.Stop polls every 500ms; with an
// already cancelled context it only signals, and runDone does the waiting.
func (e *Engine) stopGnet() {
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

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	s := Stats{
		Accepted:         e.st.accepted.Load(),
		AcceptErrors:     e.st.acceptErrors.Load(),
		AcceptBackoffs:   e.st.acceptBackoffs.Load(),
		EnrollErrors:     e.st.enrollErrors.Load(),
		DoorbellsSent:    e.st.sent.Load(),
		DoorbellsDropped: e.st.dropped.Load(),
		WakeFallbacks:    e.st.fallbacks.Load(),
		BellRescues:      e.st.rescues.Load(),
		DirectLoops:      int(e.st.directLoops.Load()),
	}
	for _, ls := range e.loopList() {
		s.DoorbellsReceived += ls.received.Load()
		s.DoorbellsForwarded += ls.forwarded.Load()
		s.Wakes += ls.wakes.Load()
		s.Ticks += ls.ticks.Load()
		s.TimersFired += ls.timersFired.Load()
	}
	return s
}
