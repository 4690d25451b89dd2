package httpd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/engine/gnet" // the default engine backend
	"github.com/evhttpd/httpd/sessions"
)

// Server is a running evhttpd instance (ESP's httpd_handle_t).
type Server struct {
	cfg          Config
	log          *slog.Logger
	limits       hc.Limits
	eng          engine.Engine                 // set once Start has the engine; read on the loops and by callers of Addr
	engPublished atomic.Pointer[engine.Engine] // eng, for goroutines that may run before Start returned (wake)
	engFailed    atomic.Bool
	uses         sessions.UseCounter // LRU stamps (Session.touch)
	slab         *sessions.Slab[*Session]
	loops        []*loop
	reg          registry
	pool         *workerPool

	state    atomic.Int32 // stateRunning, stateStopping, stateStopped
	stopOnce sync.Once
	stopErr  error
	stopped  chan struct{}

	rejects   atomic.Int64 // connections answered 503 at open
	staleWork atomic.Int64 // queued items whose session had closed
	purged    atomic.Int64 // sessions closed by LRU purge

	errLog errLimiter // rate of handler error lines (handlerFailed)

	oneProc bool // GOMAXPROCS was 1 at Start (loop.yieldToWorkers)

	held         atomic.Int64 // bytes all sessions hold (budget.go)
	budgetResets atomic.Int64 // sessions reset over MaxBufferedBytes

	// handshakers maps a *Session to its Transport when that implements
	// Handshaker, so LRU purge can ask it from another loop (Session.tr is
	// loop-only).
	handshakers sync.Map
}

const (
	stateRunning int32 = iota
	stateStopping
	stateStopped
)

// Errors of the server's lifecycle and control calls.
var (
	ErrServerStopped = errors.New("httpd: server stopped")
	ErrQueueFull     = errors.New("httpd: work queue full")
)

// Start starts a server (ESP's httpd_start). The zero Config is valid.
func Start(cfg Config) (*Server, error) {
	s, token, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := s.startEngine(token)
	if err != nil {
		s.engFailed.Store(true)
		s.pool.stop()
		return nil, err
	}
	// Connections may be served before engine.Start returns; work they queue
	// waits in wake for the engine to be published here.
	s.eng = eng
	s.engPublished.Store(&eng)
	s.emit(Event{Kind: EventStart, Fd: -1})
	return s, nil
}

// defaultEngine is the engine a Config without Engine runs: "" lets the
// engine package pick its default (gnet). The tests set it from
// EVHTTPD_ENGINE to run the whole suite on another backend.
var defaultEngine string

// startEngine starts the engine cfg.Engine names with the server as its
// Handler. The engine's own limits (gnet's 256 loops, an engine nobody
// registered, options of the wrong type) are configuration errors like the
// server's: they wrap ErrInvalidConfig.
func (s *Server) startEngine(token ctrl.Token) (engine.Engine, error) {
	cfg := s.cfg
	ecfg := engine.Config{
		Backend:         cfg.Engine,
		Options:         cfg.EngineOptions,
		Addr:            cfg.Addr,
		Listener:        cfg.Listener,
		Loops:           cfg.EventLoops,
		CtrlAddr:        cfg.CtrlAddr,
		Token:           token,
		TimerResolution: cfg.TimerResolution,
		TickInterval:    cfg.TimerResolution, // the loops' clock (driver.OnTick)
		TCPKeepAlive:    cfg.TCPKeepAlive,
		Logger:          cfg.Logger,
	}
	if ecfg.Backend == "" {
		ecfg.Backend = defaultEngine
	}
	if name := ecfg.Backend; cfg.EnrollQueue != 0 && (name == "" || name == gnet.Name) {
		// The root field predates engine options: it is gnet's, and
		// other engines (no enrolment there) ignore it.
		opts, err := withEnrollQueue(ecfg.Options, cfg.EnrollQueue)
		if err != nil {
			return nil, err
		}
		ecfg.Options = opts
	}
	eng, err := engine.Start(ecfg, driver{s})
	if errors.Is(err, engine.ErrConfig) {
		err = errors.Join(ErrInvalidConfig, err)
	}
	return eng, err
}

// withEnrollQueue folds Config.EnrollQueue into the gnet engine's options.
func withEnrollQueue(opts any, n int) (any, error) {
	var o gnet.Options
	switch p := opts.(type) {
	case nil:
	case *gnet.Options:
		if p != nil {
			o = *p
		}
		if o.EnrollQueue != 0 && o.EnrollQueue != n {
			return nil, errors.Join(ErrInvalidConfig, errors.New("httpd: EnrollQueue and EngineOptions' EnrollQueue differ"))
		}
	default:
		return opts, nil // options of another type: the engine reports them
	}
	o.EnrollQueue = n
	return &o, nil
}

// newServer builds everything of a server but its engine.
func newServer(cfg Config) (*Server, ctrl.Token, error) {
	var token ctrl.Token
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, token, err
	}
	if cfg.URIMatch == nil {
		cfg.URIMatch = matchExact
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stopped: make(chan struct{})}
	s.limits = hc.Limits{
		MaxRequestLine: cfg.MaxRequestLine,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		MaxHeaders:     cfg.MaxHeaders,
		// Body limits are per handler: the server checks them after routing.
		MaxBodySize: 1 << 62,
	}.WithDefaults()
	s.reg.init(cfg.MaxURIHandlers, cfg.URIMatch)

	// Room beyond MaxOpenSockets for sessions chosen for LRU purge that
	// have not closed yet.
	spare := cfg.MaxOpenSockets / 8
	if spare < 64 {
		spare = 64
	}
	if s.slab, err = sessions.NewSlab[*Session](cfg.MaxOpenSockets + spare); err != nil {
		return nil, token, errors.Join(ErrInvalidConfig, err)
	}
	token, err = ctrl.NewToken()
	if err != nil {
		return nil, token, err
	}
	s.loops = make([]*loop, cfg.EventLoops)
	for i := range s.loops {
		s.loops[i] = &loop{idx: i, srv: s, q: ctrl.NewQueue(0), out: make([]byte, 0, outKeep)}
		s.loops[i].clock()
	}
	s.pool = newWorkerPool(cfg.BlockingWorkers)
	s.oneProc = oneProc()
	return s, token, nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() net.Addr { return s.eng.Addr() }

// CtrlAddr returns the address of the UDP control socket.
func (s *Server) CtrlAddr() net.Addr { return s.eng.CtrlAddr() }

// wake rings a loop's doorbell. Until Start has published the engine (a
// connection served while Start is returning may queue work), it waits for it.
func (s *Server) wake(loop int) error {
	e := s.engPublished.Load()
	for e == nil {
		if s.engFailed.Load() {
			return ErrServerStopped
		}
		runtime.Gosched()
		e = s.engPublished.Load()
	}
	return (*e).Wake(loop)
}

// wakeLocal rings a loop's doorbell for work the server's own goroutines
// queued (a worker handing a request back): through the engine's
// in-process wake-up where it has one (engine.LocalWaker; measured 5%
// more Blocking requests per second on one core than a datagram), else
// as wake does. QueueWork and the other calls open to users ring the
// control socket's doorbell (wake).
func (s *Server) wakeLocal(loop int) error {
	e := s.engPublished.Load()
	if e == nil {
		return s.wake(loop)
	}
	if lw, ok := (*e).(engine.LocalWaker); ok {
		return lw.WakeLocal(loop)
	}
	return (*e).Wake(loop)
}

// GlobalUserCtx returns Config.GlobalUserCtx (ESP's httpd_get_global_user_ctx).
func (s *Server) GlobalUserCtx() any { return s.cfg.GlobalUserCtx }

func (s *Server) stopping() bool { return s.state.Load() != stateRunning }

// RegisterURIHandler registers a handler (ESP's httpd_register_uri_handler).
// It may be called at any time, from any goroutine, also from a handler.
// ErrHandlerExists is returned when a handler with the same method already
// matches the URI under Config.URIMatch, ErrHandlersFull at MaxURIHandlers.
func (s *Server) RegisterURIHandler(h URIHandler) error {
	if s.stopping() {
		return ErrServerStopped
	}
	s.warnUnmatchable(h.URI)
	return s.reg.register(h)
}

// UnregisterURIHandler removes the handler registered for exactly uri and
// method (ESP's httpd_unregister_uri_handler).
func (s *Server) UnregisterURIHandler(uri, method string) error {
	if s.reg.unregister(uri, method, false) == 0 {
		return ErrHandlerNotFound
	}
	return nil
}

// UnregisterURI removes every handler registered for exactly uri (ESP's
// httpd_unregister_uri).
func (s *Server) UnregisterURI(uri string) error {
	if s.reg.unregister(uri, "", true) == 0 {
		return ErrHandlerNotFound
	}
	return nil
}

// RegisterErrHandler sets the handler for an error status (ESP's
// httpd_register_err_handler); nil removes it. The statuses the server
// produces itself are 400, 404, 405, 408, 413, 414, 417, 431, 500, 501, 503
// and 505.
func (s *Server) RegisterErrHandler(status int, fn ErrHandlerFunc) error {
	if status < 400 || status > 599 {
		return ErrInvalidHandler
	}
	s.reg.setErr(status, fn)
	return nil
}

// work item kinds on a loop's queue.
const (
	kindWork uint8 = iota + 1
	kindClose
	kindStop
	kindBlockWrite
	kindBlockDone
	kindBlockRefill
)

// QueueWork runs fn on the session's event loop, serialised with its
// handlers, exactly once and in the order queued (ESP's httpd_queue_work
// bound to a session). It may be called from any goroutine. If the session
// closes before fn runs, fn is not run. A stale id returns ErrStaleSession.
func (s *Server) QueueWork(id SessionID, fn func(*Session)) error {
	if fn == nil {
		return ErrInvalidHandler
	}
	return s.enqueue(id, kindWork, fn)
}

// TriggerClose closes the session from any goroutine (ESP's
// httpd_sess_trigger_close).
func (s *Server) TriggerClose(id SessionID) error {
	return s.enqueue(id, kindClose, nil)
}

func (s *Server) enqueue(id SessionID, kind uint8, arg any) error {
	if s.state.Load() == stateStopped {
		return ErrServerStopped
	}
	c, ok := s.slab.Get(id)
	if !ok {
		return ErrStaleSession
	}
	if kind == kindWork {
		c.pending.Add(1)
	}
	ring, err := c.lp.q.Push(ctrl.Item{Kind: kind, ID: uint64(id), Arg: arg})
	if err != nil {
		if kind == kindWork {
			c.pending.Add(-1)
		}
		return ErrQueueFull
	}
	if ring {
		if err := s.wake(c.lp.idx); err != nil {
			return err
		}
	}
	return nil
}

// runItem runs one queued item on its loop.
func (lp *loop) runItem(it ctrl.Item) {
	s := lp.srv
	if it.Kind == kindStop {
		lp.releaseHeld()
		lp.closeAll()
		if ch, ok := it.Arg.(chan struct{}); ok {
			close(ch)
		}
		return
	}
	c, ok := s.slab.Get(SessionID(it.ID))
	if !ok || c.lp != lp || c.closing {
		if it.Kind == kindWork {
			s.staleWork.Add(1)
		}
		abandonItem(it)
		return
	}
	if x := c.reqState; lp.pending > 0 && x != nil && len(x.pend) > 0 && it.Kind != kindBlockDone {
		c.flush() // held replies leave before anything else happens to the session
	}
	if (it.Kind == kindBlockWrite || it.Kind == kindBlockDone || it.Kind == kindBlockRefill) && (c.reqState == nil || c.reqState.breq != itemRequest(it)) {
		// The request was given up (error reply, close) before this arrived.
		abandonItem(it)
		return
	}
	hold := false
	switch it.Kind {
	case kindWork:
		c.pending.Add(-1)
		fn := it.Arg.(func(*Session))
		if err := s.callHook(c, func() error { fn(c); return nil }); err != nil {
			c.abort()
		}
	case kindClose:
		c.abort()
	case kindBlockWrite:
		c.blockWrite(it.Arg.(*blockChunk))
	case kindBlockDone:
		c.blockDone(it.Arg.(*Request))
		hold = lp.holding
	case kindBlockRefill:
		c.feedBlocking()
	}
	if hold {
		c.holdOut()
	} else {
		c.flush()
	}
	if !c.closing {
		// Input may have queued up while the session was busy, and a
		// transport that woke the session has input or output ready.
		if c.transport() == nil || c.pump() {
			c.process()
			if hold && c.reqState != nil && c.reqState.breq != nil {
				c.holdOut() // the next pipelined request went to a worker
			} else {
				c.flush()
			}
		}
	}
	c.schedule()
}

// itemRequest returns the blocking request an item belongs to, if any.
func itemRequest(it ctrl.Item) *Request {
	switch a := it.Arg.(type) {
	case *Request:
		return a
	case *blockChunk:
		return a.r
	}
	return nil
}

func abandonItem(it ctrl.Item) {
	if r := itemRequest(it); r != nil {
		r.bp.abandon()
	}
	if ch, ok := it.Arg.(*blockChunk); ok && ch.lent != nil {
		ch.lent.done <- struct{}{} // not written (wrote is false): the worker's slice goes back
	}
}

// closeAll closes every session of the loop (Stop).
func (lp *loop) closeAll() {
	lp.srv.slab.Range(func(id SessionID, c *Session) bool {
		if c.lp == lp {
			c.abort()
		}
		return true
	})
}

// purgeFor makes room for a new session by closing one eligible session
// (ESP's lru_purge_enable, see purgeCandidate) and reports whether it did.
func (s *Server) purgeFor(lp *loop) bool {
	if !s.cfg.LRUPurgeEnable {
		return false
	}
	for tries := 0; tries < 4; tries++ {
		id, ok := s.purgeCandidate(lp.now)
		if !ok {
			return false
		}
		c, ok := s.slab.Get(id)
		if !ok || c.shared.Or(flagPurging)&flagPurging != 0 {
			continue
		}
		s.purged.Add(1)
		if c.lp == lp {
			c.abort()
		} else if err := s.TriggerClose(id); err != nil {
			continue
		}
		return true
	}
	return false
}

// purgeCandidate chooses the session LRU purge closes. A session that is
// already being purged, has queued work, or is in its transport handshake
// is never chosen. Among the others, in this order:
//
//  1. the longest-open session that has not completed a request and is
//     older than LRUGrace;
//  2. when sessions without a completed request fill at least half of
//     MaxOpenSockets, the longest-open of them even within LRUGrace: a
//     flood of connections that never send a request then evicts its own
//     members, not the clients being served;
//  3. the session whose last request completed least recently (ESP's
//     policy).
//
// Like ESP's purge it walks every slot, which is fine for the rare moment
// the table is full. Sessions that change during the walk may be judged on
// either side of the change; the caller re-checks the chosen ID.
func (s *Server) purgeCandidate(now int64) (SessionID, bool) {
	grace := int64(s.cfg.LRUGrace)
	type best struct {
		id  SessionID
		key int64
		ok  bool
	}
	pick := func(b *best, id SessionID, key int64) {
		if !b.ok || key < b.key {
			*b = best{id, key, true}
		}
	}
	var old, young, used best
	unproven := 0
	s.slab.Range(func(id SessionID, c *Session) bool {
		l := c.lru.Load()
		if l < 0 {
			unproven++
		}
		if c.shared.Load()&flagPurging != 0 || c.pending.Load() > 0 {
			return true
		}
		if h, ok := s.handshakers.Load(c); ok && h.(Handshaker).Handshaking() {
			return true
		}
		switch opened := -l - 1; {
		case l > 0:
			pick(&used, id, l)
		case now-opened >= grace:
			pick(&old, id, opened)
		default:
			pick(&young, id, opened)
		}
		return true
	})
	switch {
	case old.ok:
		return old.id, true
	case young.ok && 2*unproven >= s.cfg.MaxOpenSockets:
		return young.id, true
	case used.ok:
		return used.id, true
	}
	return 0, false
}

// Clients appends the IDs of the open sessions to dst (ESP's
// httpd_get_client_list).
func (s *Server) Clients(dst []SessionID) []SessionID {
	s.slab.Range(func(id SessionID, c *Session) bool {
		dst = append(dst, id)
		return true
	})
	return dst
}

// ClientKind says what a session ID refers to (ESP's httpd_ws_client_info_t).
type ClientKind uint8

// Client kinds.
const (
	ClientInvalid   ClientKind = iota // no such session (stale ID)
	ClientHTTP                        // an HTTP session
	ClientWebSocket                   // a session upgraded to WebSocket
)

func (k ClientKind) String() string {
	switch k {
	case ClientHTTP:
		return "HTTP"
	case ClientWebSocket:
		return "WebSocket"
	}
	return "invalid"
}

// ClientInfo reports whether id names an open HTTP or WebSocket session
// (ESP's httpd_ws_get_fd_info). Safe from any goroutine.
func (s *Server) ClientInfo(id SessionID) ClientKind {
	c, ok := s.slab.Get(id)
	if !ok {
		return ClientInvalid
	}
	if c.shared.Load()&flagUpgraded != 0 {
		return ClientWebSocket
	}
	return ClientHTTP
}

// Stop stops the server (ESP's httpd_stop): no new connections, every
// session closed with its close hook and free callbacks run exactly once,
// handlers removed, every goroutine and descriptor of the server released.
// It blocks until done and is idempotent; no callback runs after it returns.
func (s *Server) Stop() error {
	return s.stop(context.Background(), false)
}

// Shutdown stops the server gracefully: it stops accepting, closes idle
// keep-alive sessions at once, lets requests in progress finish (their
// replies carry Connection: close), and starts the closing handshake of
// every WebSocket session with close 1001, Going Away (RFC 6455 §7.4.1),
// then waits until every session has closed or ctx is done, whichever is
// first, and stops as Stop does. A WebSocket client has until ctx is done
// to answer the close and close its side; with a ctx that never ends,
// Shutdown waits as long as a client takes. It returns ctx's error when it
// had to force sessions closed because ctx ended first, nil when all of
// them closed in time.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.stop(ctx, true)
}

func (s *Server) stop(ctx context.Context, graceful bool) error {
	var forced error
	s.stopOnce.Do(func() {
		s.state.Store(stateStopping)
		s.eng.StopAccepting()
		if graceful {
			forced = s.waitIdle(ctx)
		}
		// Close every session on its own loop through the control channel.
		acks := make([]chan struct{}, 0, len(s.loops))
		for _, lp := range s.loops {
			ch := make(chan struct{})
			ring, err := lp.q.Push(ctrl.Item{Kind: kindStop, Arg: ch})
			if err != nil {
				continue
			}
			if ring {
				if s.eng.Wake(lp.idx) != nil {
					continue
				}
			}
			acks = append(acks, ch)
		}
		deadline := time.NewTimer(2 * time.Second)
		for _, ch := range acks {
			select {
			case <-ch:
			case <-deadline.C:
			}
		}
		deadline.Stop()
		// The engine closes whatever is left (OnClose frees it) and stops
		// its loops; after this no callback runs.
		s.stopErr = s.eng.Stop(context.Background())
		s.pool.stop()
		s.state.Store(stateStopped)
		s.reg.clear()
		if s.cfg.GlobalUserCtx != nil && s.cfg.GlobalUserCtxFree != nil {
			s.cfg.GlobalUserCtxFree(s.cfg.GlobalUserCtx)
		}
		s.emit(Event{Kind: EventStop, Fd: -1})
		close(s.stopped)
	})
	<-s.stopped
	if forced != nil {
		return errors.Join(forced, s.stopErr)
	}
	return s.stopErr
}

// waitIdle winds the sessions down for Shutdown until none is left, and
// returns nil then, or ctx's error if ctx ends first. Each round asks every
// session's loop to close it if it is idle, or to send close 1001 if it is
// an upgraded WebSocket (shutdownSession); a session busy with a request
// is asked again next round, once its reply has gone.
func (s *Server) waitIdle(ctx context.Context) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		busy := 0
		s.slab.Range(func(id SessionID, c *Session) bool {
			busy++
			_ = s.enqueue(id, kindWork, shutdownSession)
			return true
		})
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// shutdownSession is Shutdown's step for one session, on its loop.
func shutdownSession(c *Session) {
	switch {
	case c.st == stWS:
		c.wsGoAway()
	case c.st == stHead && (c.reqState == nil || c.reqState.p == nil && c.reqState.breq == nil):
		c.abort()
	}
}

// Stats is a snapshot of server counters.
type Stats struct {
	Sessions  int   // open sessions
	Rejected  int64 // connections answered 503 at open (MaxOpenSockets, purge off)
	Purged    int64 // sessions closed by LRU purge
	StaleWork int64 // queued items dropped because their session had closed

	Buffered     int64 // bytes held for sessions now, counted against MaxBufferedBytes
	BudgetResets int64 // sessions reset because the server was over MaxBufferedBytes
}

// Stats returns current counters.
func (s *Server) Stats() Stats {
	return Stats{Sessions: s.slab.Len(), Rejected: s.rejects.Load(), Purged: s.purged.Load(), StaleWork: s.staleWork.Load(),
		Buffered: s.held.Load(), BudgetResets: s.budgetResets.Load()}
}
