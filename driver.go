package httpd

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
	"unsafe"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

// loop is the per-event-loop state. Everything in it is touched only by its
// loop goroutine, except q, which any goroutine pushes to.
type loop struct {
	idx     int
	srv     *Server
	q       *ctrl.Queue
	out     []byte // replies of the session being served, written once per event
	wire    []byte // transport output scratch
	deflate []byte // compressed WebSocket payload scratch
	inflate []byte // decompressed WebSocket message scratch
	// Free lists of what sessions borrow while a request or message is in
	// progress, so an idle session holds none of it.
	parsers  freeList[hc.Parser]
	xs       freeList[reqState] // Session.rq, putRQ
	wsIns    freeList[wsIn]     // readWS
	cds      freeList[hc.ChunkedDecoder]
	bufs     [][]byte  // free message and body buffers (getBuf, putBuf)
	bufBytes int       // their total capacity
	req      Request   // reused for loop handlers
	now      int64     // monotonic ns, refreshed every tick (OnTick)
	wall     time.Time // wall time of the same reading, for the Date header
	scratch  []byte    // decode target for discarded chunked bodies

	held       int64 // bytes its sessions hold (budget.go)
	shedAt     int64 // lp.now of the last shed
	shedWarned int64 // lp.now of the last budget warning
}

const outKeep = 64 << 10 // an output buffer larger than this is dropped after use

// clock reads the time: the monotonic nanoseconds the timeouts use and the
// wall time the Date header shows. Ticks refresh it (OnTick); callbacks that
// are rare or start a deadline that must not be early (open, timer) read it.
func (lp *loop) clock() int64 {
	lp.wall = time.Now()
	lp.now = int64(lp.wall.Sub(monoBase))
	return lp.now
}

var monoBase = time.Now()

// freeList is a loop's stack of reusable objects (loop only), capped at
// freeListMax so a burst does not pin memory for ever.
type freeList[T any] struct{ items []*T }

const freeListMax = 1024

// get pops an object; ok is false, with a new zero object, when empty.
func (f *freeList[T]) get() (v *T, ok bool) {
	if n := len(f.items); n > 0 {
		v = f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		return v, true
	}
	return new(T), false
}

// put keeps v for reuse unless the list is full.
func (f *freeList[T]) put(v *T) {
	if len(f.items) < freeListMax {
		f.items = append(f.items, v)
	}
}

func (lp *loop) getParser() *hc.Parser {
	p, reused := lp.parsers.get()
	if !reused {
		p.Init(lp.srv.limits)
	}
	return p
}

func (lp *loop) getReqState() *reqState {
	x, _ := lp.xs.get()
	return x
}

// putReqState takes back an idle request state; its plaintext staging
// buffer is kept when small.
func (lp *loop) putReqState(x *reqState) {
	tin := x.tin[:0]
	if cap(tin) > 16<<10 {
		tin = nil
	}
	*x = reqState{tin: tin}
	lp.xs.put(x)
}

func (lp *loop) putParser(p *hc.Parser) {
	p.Reset()
	lp.parsers.put(p)
}

// initChunked readies the session's chunked decoder for a body capped at
// limit, borrowing one from the loop.
func (c *Session) initChunked(l hc.Limits) {
	x := c.rq()
	if x.cd == nil {
		x.cd, _ = c.lp.cds.get()
	}
	x.cd.Init(l)
}

func (c *Session) releaseChunked() {
	if c.x != nil && c.x.cd != nil {
		c.lp.cds.put(c.x.cd)
		c.x.cd = nil
	}
}

// driver adapts the server to engine.Handler without exporting the
// callbacks on Server.
type driver struct{ s *Server }

// rejected marks a connection refused at open (503): it holds no session.
type rejected struct{ lingered int }

func (d driver) OnOpen(ec engine.Conn) {
	s := d.s
	lp := s.loops[ec.Loop()]
	now := lp.clock()
	if s.stopping() {
		ec.Close()
		return
	}
	if s.slab.Len() >= s.cfg.MaxOpenSockets && !s.purgeFor(lp) {
		s.reject(ec, lp)
		return
	}
	c := &Session{lp: lp, ec: ec}
	// Until the first request completes, lru holds the open time (negative:
	// see Session.lru) for the LRU grace.
	c.lru.Store(-(now + 1))
	id, ok := s.slab.Alloc(c)
	if !ok {
		s.reject(ec, lp)
		return
	}
	c.id = id
	ec.SetContext(c)
	c.idleDL = now + int64(s.cfg.IdleTimeout)
	c.schedule()
	c.emit(EventOnConnected, 0)
	if f := s.cfg.NewTransport; f != nil {
		var tr Transport
		err := s.callHook(c, func() (err error) { tr, err = f(c); return err })
		if err != nil || tr == nil {
			s.log.Debug("httpd: transport refused the session", "session", id, "err", err)
			c.abort()
			return
		}
		c.ext().tr = tr
		if h, ok := tr.(Handshaker); ok {
			s.handshakers.Store(c, h) // LRU purge asks it from other loops
		}
		c.writeTransport()
	}
	if f := s.cfg.OnOpen; f != nil {
		if err := s.callHook(c, func() error { return f(c) }); err != nil {
			s.log.Debug("httpd: open hook refused the session", "session", id, "err", err)
			c.abort()
		}
	}
	c.flush()
}

// reject answers 503 and closes a connection that has no session.
func (s *Server) reject(ec engine.Conn, lp *loop) {
	s.rejects.Add(1)
	ec.SetContext(&rejected{})
	b := hc.AppendStatusLine(lp.out[:0], 1, 503, "")
	b = append(b, "Content-Type: text/html\r\nConnection: close\r\n"...)
	b = hc.AppendDate(b)
	body := hc.ErrorBody(503)
	b = hc.AppendContentLength(b, int64(len(body)))
	b = append(b, "\r\n"...)
	b = append(b, body...)
	_ = ec.Write(b)
	lp.out = b[:0]
	_ = ec.CloseWrite()
	ec.SetTimer(s.cfg.LingerTimeout)
}

func (d driver) OnTraffic(ec engine.Conn) {
	switch c := ec.Context().(type) {
	case *Session:
		// No clock read here: lp.now is at most one tick old (see OnTick).
		if c.transport() != nil && !c.pump() {
			return
		}
		c.process()
		c.flush()
		c.schedule()
	case *rejected:
		n := len(ec.Peek())
		ec.Discard(n)
		c.lingered += n
		if int64(c.lingered) > d.s.cfg.MaxDrain {
			ec.Close()
		}
	default:
		ec.Discard(len(ec.Peek()))
	}
}

func (d driver) OnClose(ec engine.Conn, err error) {
	c, ok := ec.Context().(*Session)
	if !ok {
		return
	}
	c.closing = true
	d.s.closeSession(c, err)
}

func (d driver) OnTimer(ec engine.Conn) {
	switch c := ec.Context().(type) {
	case *Session:
		c.lp.clock()
		c.timerAt = 0
		c.onTimer()
		c.flush()
		c.schedule()
	case *rejected:
		ec.Close()
	}
}

func (d driver) OnWake(i int) {
	lp := d.s.loops[i]
	for {
		_, more := lp.q.Drain(256, lp.runItem)
		if !more {
			return
		}
	}
}

// OnTick refreshes the loop's clock. The engine ticks every
// TimerResolution, so the time the hot paths read (lp.now for deadlines,
// lp.wall for the Date header) is never older than one tick: a clock read
// costs more than a whole request's routing on some machines.
func (d driver) OnTick(i int, now time.Time) {
	lp := d.s.loops[i]
	lp.wall = now
	lp.now = int64(now.Sub(monoBase))
}

// stamp returns the next LRU stamp: a server-wide use counter, as ESP's
// lru_counter, so the order of use is exact across loops.
func (lp *loop) stamp() int64 {
	return int64(lp.srv.uses.Next())
}

// process advances the session's input state machine as far as the buffered
// bytes allow.
func (c *Session) process() {
	for !c.closing {
		if len(c.lp.out) > outKeep {
			// Replies to pipelined requests answered in this callback go
			// to the connection in batches of about outKeep: the loop's
			// buffer stays small (it is not regrown to MaxOutbound on
			// every callback), and once the connection holds MaxOutbound
			// the session stalls instead of queueing replies to a whole
			// read's worth of requests.
			c.flush()
		}
		if !c.unstall() {
			return
		}
		var more bool
		switch c.st {
		case stHead:
			more = c.readHead()
		case stBody:
			more = c.readBody()
		case stChunked:
			more = c.readChunked()
		case stDrain:
			more = c.drain()
		case stLinger:
			c.linger()
		case stBlocking:
			c.feedBlocking()
		case stWS:
			more = c.readWS()
		case stAsync:
			// A detached reply is open: further input waits for Done.
		}
		if !more {
			return
		}
	}
}

func (c *Session) readHead() bool {
	b := c.inPeek()
	if len(b) == 0 {
		return false
	}
	if c.x == nil || c.x.p == nil {
		x := c.rq()
		x.p = c.lp.getParser()
		x.headDL = c.lp.now + int64(c.lp.srv.cfg.HeaderTimeout)
		c.idleDL = 0
	}
	n, err := c.x.p.ParseHead(b)
	if err != nil {
		if err == hc.ErrNeedMore {
			return false
		}
		c.protocolError(err)
		return false
	}
	c.x.headDL = 0
	return c.startRequest(b, n)
}

// protocolError answers a request that broke HTTP framing and closes.
func (c *Session) protocolError(err error) {
	status, msg := 400, ""
	var pe *hc.Error
	if errors.As(err, &pe) {
		status = pe.Status
	}
	c.lp.srv.log.Debug("httpd: bad request", "session", c.id, "err", err)
	if f := c.lp.srv.cfg.OnEvent; f != nil {
		f(Event{Kind: EventError, ID: c.id, Fd: c.ec.Fd(), Status: status, Err: err})
	}
	c.replyError(status, msg, nil, true)
}

// startRequest routes a parsed head. b holds the head in its first n bytes.
func (c *Session) startRequest(b []byte, n int) bool {
	s := c.lp.srv
	p := c.x.p
	c.x.headLen = n
	c.emit(EventOnHeader, 0)
	path := p.Path()
	h, res := s.reg.lookup(p.Method(), unsafe.String(unsafe.SliceData(path), len(path)))
	cl := p.ContentLength()
	chunked := p.Chunked()
	if res != lookupFound && p.Form() == hc.AsteriskForm {
		return c.optionsServer(n) // OPTIONS * (the parser allows * with OPTIONS only)
	}
	if res != lookupFound {
		status := 404
		switch res {
		case lookupNoMethod:
			if ws.HasToken(p.Header("Upgrade"), "websocket") {
				status = 400 // a WebSocket handshake must be a GET (RFC 6455 §4.1)
				break
			}
			// 405 must say what the URI serves (RFC 9110 §15.5.6).
			r := &c.lp.req
			r.reset(c, nil, p, nil)
			_ = r.SetHeader("Allow", s.reg.allowFor(unsafe.String(unsafe.SliceData(path), len(path))))
			return c.skipBody(c.replyErrorReq(r, 405, "", false), n)
		case lookupUnknownVer:
			status = 501
		}
		return c.rejectUnread(status, n)
	}
	c.x.h = h
	limit := s.cfg.MaxBodySize
	if h.MaxBodySize > 0 {
		limit = h.MaxBodySize
	}
	if cl > limit {
		c.replyError(413, "", p, true)
		return false
	}
	if h.IsWebSocket {
		return c.wsHandshake(b, n)
	}
	if h.Blocking && !c.prebuffer(cl, chunked, len(b)-n) {
		return c.startBlocking(b, n, limit)
	}
	switch {
	case chunked:
		c.x.headCopy = append(c.x.headCopy[:0], b[:n]...)
		p.Rebind(c.x.headCopy)
		c.inDiscard(n)
		c.x.headLen = 0
		c.initChunked(s.chunkLimits(limit))
		c.x.body = c.x.body[:0]
		c.st = stChunked
		c.continue100()
		c.x.recvDL = c.lp.now + int64(s.cfg.RecvWaitTimeout)
		c.startBody()
		return true
	case cl > 0:
		c.x.need = n + int(cl)
		if h.Blocking {
			// Prebuffering: the worker is taken once the first
			// BlockingPrebuffer bytes (or the whole body) are in.
			c.x.need = n + int(min(cl, int64(s.cfg.BlockingPrebuffer)))
		}
		if len(b) >= c.x.need {
			c.emit(EventOnData, int(cl))
			c.dispatch(b[n:c.x.need])
			c.consume(c.x.need)
			return !c.closing
		}
		c.st = stBody
		c.continue100()
		c.x.recvDL = c.lp.now + int64(s.cfg.RecvWaitTimeout)
		c.x.inMark = c.inBuffered()
		c.startBody()
		c.bodyProgress(c.x.inMark - n)
		if c.x.inMark > n && !h.Blocking {
			c.emit(EventOnData, c.x.inMark-n)
		}
		return false
	default:
		c.dispatch(nil)
		c.consume(n)
		return !c.closing
	}
}

// optionsServer answers "OPTIONS *" when no handler is registered for "*":
// 200 with an Allow listing every method the server serves (RFC 9110
// §9.3.7). The request's body, if any, is skipped like an unrouted one's.
func (c *Session) optionsServer(n int) bool {
	r := &c.lp.req
	r.reset(c, nil, c.x.p, nil)
	_ = r.SetHeader("Allow", c.lp.srv.reg.allowAll())
	keep := r.finish(r.Send(nil), false)
	return c.skipBody(keep, n)
}

// continue100 sends "100 Continue" once when the client waits for it
// (RFC 9110 §10.1.1) and the body has not arrived yet.
func (c *Session) continue100() {
	if c.x.p.ExpectContinue() && !c.x.expect100 {
		c.x.expect100 = true
		c.lp.out = append(c.lp.out, "HTTP/1.1 100 Continue\r\n\r\n"...)
		c.flush()
	}
}

// prebuffer reports whether a Blocking handler's body is received on the
// loop before the handler gets a worker (Config.BlockingPrebuffer): a
// Content-Length body small enough that has not fully arrived (have body
// bytes are in). A slow client then costs no worker while it sends.
func (c *Session) prebuffer(cl int64, chunked bool, have int) bool {
	return !chunked && cl > 0 && int64(have) < min(cl, int64(c.lp.srv.cfg.BlockingPrebuffer))
}

// startBody arms the whole-body deadline when a body starts to arrive.
func (c *Session) startBody() {
	x := c.x
	x.bodyStart, x.bodyRecv = c.lp.now, 0
	c.bodyProgress(0)
}

// bodyProgress counts n more body bytes and moves the body deadline: it
// starts RecvWaitTimeout after the head, moves a second later per
// MinBodyRate bytes, and never passes BodyTimeout.
func (c *Session) bodyProgress(n int) {
	x := c.x
	cfg := &c.lp.srv.cfg
	x.bodyRecv += int64(n)
	dl := x.bodyStart + int64(cfg.BodyTimeout)
	if rate := cfg.MinBodyRate; rate > 0 {
		// In float: bodyRecv * 1e9 overflows int64 past 9 GB.
		grant := float64(x.bodyRecv) / float64(rate) * float64(time.Second)
		if r := float64(x.bodyStart) + float64(cfg.RecvWaitTimeout) + grant; r < float64(dl) {
			dl = int64(r)
		}
	}
	x.bodyDL = dl
}

// consume drops n input bytes after a request and moves to the next one.
func (c *Session) consume(n int) {
	c.inDiscard(n)
	c.endRequest()
}

// endRequest readies the session for its next request, or for closing.
func (c *Session) endRequest() {
	x := c.rq()
	x.h = nil
	x.headLen, x.need = 0, 0
	x.expect100 = false
	x.recvDL, x.bodyDL = 0, 0
	if c.st == stLinger || c.st == stAsync || c.closing {
		return
	}
	c.st = stHead
	if x.p != nil {
		if c.inBuffered() == 0 {
			c.lp.putParser(x.p)
			x.p = nil
		} else {
			x.p.Reset()
		}
	}
	x.headCopy = nil
	if x.body != nil {
		c.lp.putBuf(x.body)
		x.body = nil
	}
	c.releaseChunked()
	c.idleDL = c.lp.now + int64(c.lp.srv.cfg.IdleTimeout)
}

func (c *Session) readBody() bool {
	have := c.inBuffered()
	blocking := c.x.h.Blocking // prebuffering for a worker: it emits ON_DATA
	if have < c.x.need {
		if have > c.x.inMark { // progress: restart the receive timeout
			if !blocking {
				c.emit(EventOnData, have-c.x.inMark)
			}
			c.bodyProgress(have - c.x.inMark)
			c.x.inMark = have
			c.x.recvDL = c.lp.now + int64(c.lp.srv.cfg.RecvWaitTimeout)
		}
		return false
	}
	b := c.inPeek()
	c.x.p.Rebind(b)
	c.st = stHead
	if blocking {
		c.x.recvDL, c.x.bodyDL = 0, 0
		return c.startBlocking(b, c.x.headLen, c.bodyLimit())
	}
	c.emit(EventOnData, c.x.need-c.x.inMark)
	c.dispatch(b[c.x.headLen:c.x.need])
	c.consume(c.x.need)
	return !c.closing
}

func (c *Session) readChunked() bool {
	src := c.inPeek()
	if len(src) == 0 {
		return false
	}
	limit := c.bodyLimit()
	used := 0
	for used < len(src) && !c.x.cd.Done() {
		if len(c.x.body) == cap(c.x.body) {
			c.x.body = c.lp.growBuf(c.x.body, len(src)-used, limit)
		}
		nd, ns, err := c.x.cd.Decode(c.x.body[len(c.x.body):cap(c.x.body)], src[used:])
		c.x.body = c.x.body[:len(c.x.body)+nd]
		used += ns
		if err != nil {
			c.inDiscard(used)
			c.replyError(errStatus(err), "", c.x.p, true)
			return false
		}
		if nd == 0 && ns == 0 {
			break
		}
	}
	c.inDiscard(used)
	c.x.recvDL = c.lp.now + int64(c.lp.srv.cfg.RecvWaitTimeout)
	c.bodyProgress(used)
	if !c.x.cd.Done() {
		return false
	}
	c.st = stHead
	if len(c.x.body) > 0 {
		c.emit(EventOnData, len(c.x.body))
	}
	c.dispatch(c.x.body)
	c.endRequest()
	return !c.closing
}

// bodyLimit is the body size cap of the request in progress.
func (c *Session) bodyLimit() int64 {
	if h := c.x.h; h != nil && h.MaxBodySize > 0 {
		return h.MaxBodySize
	}
	return c.lp.srv.cfg.MaxBodySize
}

func errStatus(err error) int {
	var pe *hc.Error
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 400
}

// rejectUnread answers status for a well-framed request whose body was not
// read, drops the head's n bytes still in the input (0 when already
// consumed), and skips the body (skipBody).
func (c *Session) rejectUnread(status, n int) bool {
	keep := c.replyError(status, "", c.x.p, false)
	return c.skipBody(keep, n)
}

// skipBody ends a request that was answered without reading its body:
// the head's n bytes still in the input (0 when already consumed) are
// dropped, and the body is discarded when at most MaxDrain, else the
// session closes. keep says whether the reply allows the session to stay
// open. The body is never parsed as a request: that would let a client
// smuggle a second request past a front end that saw only one.
func (c *Session) skipBody(keep bool, n int) bool {
	if c.closing || c.st == stLinger {
		return false
	}
	p := c.x.p
	if !keep || !p.KeepAlive() {
		c.closeAfterReply()
		return false
	}
	c.inDiscard(n)
	switch cl := p.ContentLength(); {
	case p.Chunked():
		c.initChunked(c.lp.srv.chunkLimits(c.lp.srv.cfg.MaxDrain))
		c.x.drainLeft = -1
		c.st = stDrain
	case cl > c.lp.srv.cfg.MaxDrain:
		c.closeAfterReply()
		return false
	case cl > 0:
		c.x.drainLeft = cl
		c.st = stDrain
	default:
		c.endRequest()
	}
	return true
}

// drain discards the body of a request that was answered without reading it.
func (c *Session) drain() bool {
	b := c.inPeek()
	if len(b) == 0 {
		return false
	}
	if c.x.drainLeft >= 0 { // Content-Length body
		k := int64(len(b))
		if k > c.x.drainLeft {
			k = c.x.drainLeft
		}
		c.inDiscard(int(k))
		c.x.drainLeft -= k
		if c.x.drainLeft > 0 {
			return false
		}
		c.endRequest()
		return true
	}
	// Chunked body: decode into scratch and drop.
	if c.lp.scratch == nil {
		c.lp.scratch = make([]byte, 16<<10)
	}
	used := 0
	for used < len(b) && !c.x.cd.Done() {
		_, ns, err := c.x.cd.Decode(c.lp.scratch, b[used:])
		used += ns
		if err != nil {
			c.inDiscard(used)
			c.closeAfterReply()
			return false
		}
		if ns == 0 {
			break
		}
	}
	c.inDiscard(used)
	// A chunked drain counts down from -1: the bytes it took, wire framing
	// included, are capped at MaxDrain even when the decoder was set up
	// with a handler's larger body limit.
	c.x.drainLeft -= int64(used)
	if !c.x.cd.Done() {
		if -c.x.drainLeft-1 > c.lp.srv.cfg.MaxDrain {
			c.closeAfterReply()
		}
		return false
	}
	c.endRequest()
	return true
}

// dispatch runs a loop handler for the request whose head the parser holds.
// Its ON_DATA events were emitted as the body arrived.
func (c *Session) dispatch(body []byte) {
	r := &c.lp.req
	r.reset(c, c.x.h, c.x.p, body)
	c.inHandler = true
	err, panicked := c.lp.srv.callHandler(c, r)
	c.inHandler = false
	c.lru.Store(c.lp.stamp())
	if a := r.async; a != nil && err == nil && !panicked && !c.closing {
		// Detached: the reply stays open; the session reads no further
		// request until AsyncReply.Done (endRequest keeps stAsync).
		r.async = nil
		r.p, r.body = nil, nil
		c.rq().async = a
		c.st = stAsync
		return
	}
	if a := r.async; a != nil {
		a.closed() // the handler failed after detaching: the reply ends here
		r.async = nil
	}
	keep := r.finish(err, panicked)
	if err != nil && !panicked {
		c.lp.srv.handlerFailed(r, err)
	}
	r.p = nil
	r.body = nil
	if !keep || c.closing {
		c.closeAfterReply()
	}
}

// replyError sends an error reply through a registered error handler or
// ESP's default, and reports whether the session may stay open. mustClose
// forces closing (framing errors).
func (c *Session) replyError(status int, msg string, p *hc.Parser, mustClose bool) (keep bool) {
	r := &c.lp.req
	r.reset(c, nil, p, nil)
	return c.replyErrorReq(r, status, msg, mustClose)
}

// replyErrorReq is replyError with a request the caller prepared (extra
// headers for the default reply).
func (c *Session) replyErrorReq(r *Request, status int, msg string, mustClose bool) (keep bool) {
	keep = !mustClose
	if fn := c.lp.srv.reg.errHandler(status); fn != nil {
		err, panicked := c.lp.srv.callErrHandler(c, r, fn, status)
		if err != nil || panicked {
			keep = false
		}
	}
	if !r.headSent {
		r.SetStatus(status)
		r.wantClose = r.wantClose || !keep
		if msg == "" {
			msg = hc.ErrorBody(status)
		}
		_ = r.SendString(msg)
	} else if !r.done {
		_ = r.endReply()
	}
	if r.wantClose || r.badReply {
		keep = false
	}
	r.p = nil
	if !keep {
		c.closeAfterReply()
	}
	return keep
}

// closeAfterReply shuts the write side once the reply has left and drains
// input for a while so the client reads the reply rather than a reset.
func (c *Session) closeAfterReply() {
	if c.st == stLinger || c.closing {
		return
	}
	c.flush()
	c.st = stLinger
	c.releaseRequest()
	if tr := c.transport(); tr != nil && !c.trClosed {
		// The transport's last message (a TLS close_notify) must leave
		// before the write side is shut.
		c.trClosed = true
		if w := tr.Close(c.lp.wire[:0]); len(w) > 0 {
			_ = c.ec.Write(w)
			c.lp.wire = w[:0]
		}
	}
	_ = c.ec.CloseWrite()
	x := c.rq()
	x.headDL, x.recvDL, x.bodyDL, c.idleDL = 0, 0, 0, 0
	x.lingerDL = c.lp.now + int64(c.lp.srv.cfg.LingerTimeout)
	c.linger()
}

func (c *Session) releaseRequest() {
	if c.x == nil {
		return
	}
	if c.x.breq != nil {
		// The worker keeps the parser; its later items are dropped.
		c.x.breq.bp.abandon()
		c.x.breq = nil
	}
	if c.x.p != nil {
		c.lp.putParser(c.x.p)
		c.x.p = nil
	}
	c.x.headCopy = nil
	if c.x.body != nil {
		c.lp.putBuf(c.x.body)
		c.x.body = nil
	}
	c.releaseChunked()
}

func (c *Session) linger() {
	x := c.rq()
	x.tin = x.tin[:0]
	b := c.ec.Peek()
	c.ec.Discard(len(b))
	x.lingered += int64(len(b))
	if x.lingered > c.lp.srv.cfg.MaxDrain {
		c.abort()
	}
}

// abort closes the session after the current callback.
func (c *Session) abort() {
	if c.closing {
		return
	}
	c.closing = true
	c.ec.Close()
}

// flush writes the loop's output buffer to this session's connection and
// enforces the outbound cap.
func (c *Session) flush() {
	lp := c.lp
	if len(lp.out) == 0 {
		return
	}
	if !c.closing || c.st == stLinger {
		if tr := c.transport(); tr == nil {
			_ = c.ec.Write(lp.out)
		} else if w, err := tr.Send(lp.wire[:0], lp.out); err != nil {
			c.lp.srv.log.Debug("httpd: transport send failed", "session", c.id, "err", err)
			c.abort()
		} else {
			_ = c.ec.Write(w)
			lp.wire = w[:0]
		}
	}
	if cap(lp.out) > outKeep {
		lp.out = make([]byte, 0, outKeep)
	} else {
		lp.out = lp.out[:0]
	}
	ob := c.ec.OutboundBuffered()
	if ob > 0 && (c.x == nil || c.x.sendDL == 0) {
		x := c.rq()
		x.sendDL = lp.now + int64(c.lp.srv.cfg.SendWaitTimeout)
		x.sendMark = ob
	}
	if ob > c.lp.srv.cfg.MaxOutbound && !c.stalled {
		// Backpressure: no new request or message is taken until the
		// client has read half of it; no progress at all for
		// SendWaitTimeout closes the session.
		c.stalled = true
		c.rq().pollDL = lp.now + int64(c.lp.srv.cfg.TimerResolution)
	}
}

// unstall reports whether the session may take more input: its queued
// output fell below half of MaxOutbound. While it may not, input it keeps
// receiving is bounded by inboundCap.
func (c *Session) unstall() bool {
	if !c.stalled {
		return true
	}
	if c.ec.OutboundBuffered() <= c.lp.srv.cfg.MaxOutbound/2 {
		c.stalled = false
		return true
	}
	if c.inBuffered() > c.inboundCap() {
		c.lp.srv.log.Debug("httpd: client does not read its replies; closing", "session", c.id,
			"queued", c.ec.OutboundBuffered(), "pending input", c.inBuffered())
		c.abort()
	}
	return false
}

// inboundCap bounds the input a stalled session may accumulate: the engine
// keeps reading the socket (gnet has no way to pause it), so a client that
// neither reads its replies nor stops sending is closed once this much
// waits. It does not grow with the body or message limits: a WebSocket
// client sending large messages it never reads the echoes of would
// otherwise hold a message's worth of input, in a buffer that doubles.
func (c *Session) inboundCap() int {
	cfg := &c.lp.srv.cfg
	return cfg.MaxOutbound + cfg.MaxRequestLine + cfg.MaxHeaderBytes
}

// schedule points the connection's one engine timer at the nearest deadline.
func (c *Session) schedule() {
	if c.closing {
		return
	}
	c.account()
	c.putRQ()
	next := c.idleDL
	if x := c.x; x != nil {
		for _, d := range [...]int64{x.headDL, x.recvDL, x.bodyDL, x.sendDL, x.lingerDL, x.pollDL} {
			if d != 0 && (next == 0 || d < next) {
				next = d
			}
		}
	}
	if next == 0 {
		if c.timerAt != 0 {
			c.timerAt = 0
			c.ec.SetTimer(0)
		}
		return
	}
	if c.timerAt != 0 && c.timerAt <= next {
		// The armed timer fires first; onTimer then finds nothing due and
		// re-arms for the later deadline. Deadlines mostly move later (the
		// idle deadline on every request), so this saves a timer update and
		// a clock read per request.
		return
	}
	c.timerAt = next
	d := time.Duration(next - c.lp.now)
	if d <= 0 {
		d = 1
	}
	c.ec.SetTimer(d)
}

func (c *Session) onTimer() {
	now := c.lp.now
	expired := func(d int64) bool { return d != 0 && now >= d }
	if x := c.x; x != nil {
		switch {
		case expired(x.lingerDL):
			c.abort()
			return
		case expired(x.sendDL):
			ob := c.ec.OutboundBuffered()
			switch {
			case ob == 0:
				x.sendDL = 0
			case ob < x.sendMark: // progress
				x.sendMark = ob
				x.sendDL = now + int64(c.lp.srv.cfg.SendWaitTimeout)
			default:
				// Reset, not close: the kernel would otherwise keep the
				// unsent bytes for a peer that does not read.
				c.lp.srv.log.Debug("httpd: send timeout", "session", c.id, "queued", ob)
				c.reset()
				return
			}
		}
		if expired(x.pollDL) {
			x.pollDL = 0
			if x.breq != nil {
				c.pollBlocking()
			}
			if c.stalled {
				if c.unstall() {
					c.process()
				} else if !c.closing {
					c.rq().pollDL = now + int64(c.lp.srv.cfg.TimerResolution)
				}
			}
		}
		// process may have ended the request and c.x with it.
		if x = c.x; x != nil && x.breq != nil && expired(x.bodyDL) {
			if c.inBuffered() > 0 {
				// Body bytes wait for the handler to read them: the
				// handler, not the client, is slow.
				x.bodyDL = now + int64(c.lp.srv.cfg.RecvWaitTimeout)
			} else {
				// The client's body is too slow: the handler's Recv
				// fails with ErrRecvTimeout (the reply is 408 if nothing
				// was sent) and the session closes once it returns.
				x.bodyDL = 0
				x.breq.bp.fail(ErrRecvTimeout)
				c.lp.srv.log.Debug("httpd: request body too slow", "session", c.id, "received", x.bodyRecv)
			}
		}
		if x = c.x; x != nil && (expired(x.headDL) || expired(x.recvDL) || expired(x.bodyDL)) {
			x.headDL, x.recvDL, x.bodyDL = 0, 0, 0
			if c.st == stHead && x.p == nil {
				return
			}
			c.replyError(408, "", nil, true)
			return
		}
	}
	if expired(c.idleDL) {
		c.idleDL = 0
		c.abort()
	}
}

// chunkLimits returns the chunked decoder limits for a body capped at limit.
func (s *Server) chunkLimits(limit int64) hc.Limits {
	l := s.limits
	l.MaxBodySize = limit
	return l
}

// handlerFailed logs a handler's returned error at Warn, with what a
// reader needs to find the request, at most errLogPerSecond times a
// second server-wide: a flood of bad requests must not flood the log. The
// errors left out are counted in the next line logged. r must still hold
// its parser.
func (s *Server) handlerFailed(r *Request, err error) {
	now := time.Now().Unix()
	s.errLog.mu.Lock()
	if s.errLog.sec != now {
		s.errLog.sec, s.errLog.n = now, 0
	}
	s.errLog.n++
	ok := s.errLog.n <= errLogPerSecond
	dropped := 0
	if ok {
		dropped, s.errLog.dropped = s.errLog.dropped, 0
	} else {
		s.errLog.dropped++
	}
	s.errLog.mu.Unlock()
	if !ok {
		return
	}
	args := []any{"session", r.s.id, "method", r.Method(), "uri", string(r.URI()), "err", err}
	if dropped > 0 {
		args = append(args, "suppressed", dropped)
	}
	s.log.Warn("httpd: handler returned an error; the session closes", args...)
}

// errLogPerSecond caps handlerFailed's lines.
const errLogPerSecond = 10

// errLimiter is handlerFailed's state.
type errLimiter struct {
	mu      sync.Mutex
	sec     int64 // the second being counted (Unix time)
	n       int   // errors in it
	dropped int   // errors not logged since the last line
}

// callHandler runs a handler and recovers a panic.
func (s *Server) callHandler(c *Session, r *Request) (err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			s.log.Error("httpd: handler panic recovered", "session", c.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	return r.h.Handler(r), false
}

func (s *Server) callErrHandler(c *Session, r *Request, fn ErrHandlerFunc, status int) (err error, panicked bool) {
	defer func() {
		if v := recover(); v != nil {
			panicked = true
			s.log.Error("httpd: error handler panic recovered", "session", c.id, "panic", fmt.Sprint(v))
		}
	}()
	return fn(r, status), false
}

// callHook runs a user hook and turns a panic into an error.
func (s *Server) callHook(c *Session, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("httpd: hook panic: %v", v)
			s.log.Error("httpd: hook panic recovered", "session", c.id, "panic", fmt.Sprint(v))
		}
	}()
	return f()
}

// safeFree runs a free callback, recovering a panic.
func (s *Server) safeFree(c *Session, f func(any), v any) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("httpd: free callback panic recovered", "session", c.id, "panic", fmt.Sprint(r))
		}
	}()
	f(v)
}
