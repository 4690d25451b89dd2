package httpd

// This file holds Blocking handlers: the bounded worker pool, the body pipe
// that streams a request body from the loop to a worker (Request.Recv) with
// backpressure, and the reply bytes a worker hands back to the loop.

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/internal/reuse"
)

// workerPool bounds the goroutines that run blocking handlers. A worker
// goroutine that finishes a request parks, up to idleWorkers of them, and
// takes the next request handed to the pool: a request then costs no
// goroutine start and no stack growth (the parked worker keeps the stack
// its last handler grew). Beyond idleWorkers a finishing worker exits.
// Stop ends the parked ones and waits for all.
type workerPool struct {
	max  int32
	busy atomic.Int32
	wg   sync.WaitGroup
	mu   sync.Mutex
	shut bool
	idle []*worker // parked, the most recently parked last
}

// worker is a parked worker's inbox: the next request, or nil to exit.
type worker struct{ next chan *Request }

// idleWorkers is how many finished workers park for the next request
// (each holds its goroutine and stack, a few KiB, while the server runs).
const idleWorkers = 32

func newWorkerPool(n int) *workerPool { return &workerPool{max: int32(n)} }

// tryGo runs the Blocking request r on a parked worker, or a new goroutine,
// if a worker slot is free. It takes no closure.
func (p *workerPool) tryGo(r *Request) bool {
	if p.busy.Add(1) > p.max {
		p.busy.Add(-1)
		return false
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		p.busy.Add(-1)
		return false
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.next <- r // buffered: the worker is parked on it
		return true
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.run(r)
	return true
}

// run is a worker goroutine: it serves r, then parks for the next request
// while fewer than idleWorkers are parked.
func (p *workerPool) run(r *Request) {
	defer p.wg.Done()
	var w *worker
	for {
		p.work(r)
		r = nil // not kept while parked
		p.mu.Lock()
		if p.shut || len(p.idle) >= idleWorkers {
			p.mu.Unlock()
			return
		}
		if w == nil {
			w = &worker{next: make(chan *Request, 1)}
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		if r = <-w.next; r == nil {
			return
		}
	}
}

// work runs a Blocking request's handler on its worker goroutine. The
// slot is freed once the handler is done and before the reply is handed to
// the loop, so that a client who has read the reply finds it free.
func (p *workerPool) work(r *Request) {
	released := false
	defer func() {
		if !released {
			p.busy.Add(-1)
		}
	}()
	s := r.srv
	err, panicked := s.callHandler(r.s, r)
	if r.hij == nil {
		r.keep = r.finish(err, panicked)
	}
	r.handlerReturned()
	released = true
	p.busy.Add(-1)
	if err != nil && !panicked {
		s.handlerFailed(r, err)
	}
	s.pushItem(r.s.lp, ctrl.Item{Kind: kindBlockDone, ID: uint64(r.s.id), Arg: r})
}

// blockingRequest is what a Blocking request allocates at once: the
// Request, its body pipe, and room for its head and the first bytes of its
// reply.
type blockingRequest struct {
	Request
	pipe bodyPipe
	ctx  reqCtx
	hdrs [blockHdrRoom]byte // the reply's header lines (Request.hdrs)
	room [blockRoom]byte    // the request head, then the first reply bytes (Request.wbuf)
}

// blockHdrRoom is the room for header lines set with SetHeader before one
// of its own is allocated (and regrown as lines are added).
const blockHdrRoom = 128

// blockRoom holds the request head and, after it, the reply bytes a
// Blocking request produces without an allocation of its own (head
// included): a head that does not fit gets its own allocation and leaves
// the whole room to the reply. Sharing the room fits an API client's head
// and reply, whose sizes vary, in less memory than a fixed room for each.
// The rooms are sized for that case rather than for every one: the
// blockingRequest is allocated for every Blocking request, and each size
// class it drops gave the bridge requests per second on one core (the
// garbage collector's share): 3.8 to 1.8 KiB about 10%, 2048 to 1280
// bytes (this layout) a few percent more.
const blockRoom = 560

// stop refuses new requests, ends the parked workers and waits for the
// running ones.
func (p *workerPool) stop() {
	p.mu.Lock()
	p.shut = true
	for _, w := range p.idle {
		w.next <- nil
	}
	p.idle = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// pipeCap is how many body bytes wait for a blocking handler's Recv; beyond
// it the bytes stay queued in the connection until Recv makes room.
const pipeCap = 64 << 10

// ErrSendTimeout is returned to a blocking handler whose client does not
// read its reply within Config.SendWaitTimeout.
var ErrSendTimeout = errors.New("httpd: send timeout")

// bodyPipe carries body bytes from the loop to a blocking handler and
// accounts reply bytes going the other way.
type bodyPipe struct {
	mu      sync.Mutex
	buf     []byte // unread body bytes are buf[off:]
	off     int
	eof     bool  // the whole body has been delivered
	err     error // the session closed or the body was bad
	starved bool  // the loop left body bytes queued for lack of room
	left    int64 // Content-Length bytes not yet taken from the connection, -1 chunked

	lent   []byte // the engine buffer behind buf (handBody), given back by recycleBody
	peeked bool   // the worker reads buf[off:] outside the lock (next, until take)

	inflight int // reply bytes handed to the loop and not yet written
	queued   int // the connection's outbound bytes at the loop's last look

	// wake is what the worker waits on (read or write), made by its first
	// wait (waitChan): most requests never wait, and a channel is an
	// allocation. It is set and read under mu, so that a signal sent
	// before it exists is one the waiter's own look under mu sees.
	wake chan struct{}

	// Per-request deadlines (Request.SetReadDeadline, SetWriteDeadline):
	// Unix nanoseconds, 0 none; any goroutine sets them.
	readDL, writeDL atomic.Int64
	raw             bool    // hijacked: every input byte is the stream's (hijack.go)
	ctx             *reqCtx // Request.Context, made on first use (context.go)
	ctxDone         bool    // the handler returned: a context made now is cancelled
	ctxStore        *reqCtx // where ctx is made (inside the blockingRequest)
}

func (bp *bodyPipe) init(left int64) {
	bp.left, bp.eof = left, left == 0
}

// waitChan returns the channel the worker waits on, making it on the first
// wait. The caller holds mu and has looked at the state it waits for in
// the same hold.
func (bp *bodyPipe) waitChan() chan struct{} {
	if bp.wake == nil {
		bp.wake = make(chan struct{}, 1)
	}
	return bp.wake
}

// signal wakes the worker if it waits. Callers change the state first; a
// worker that has not waited yet sees the change when it looks under mu.
func (bp *bodyPipe) signal() {
	bp.mu.Lock()
	bp.unlockNotify()
}

// unlockNotify releases mu, held by a caller that changed what the worker
// waits for, and wakes the worker if it waits (a nil channel: it has not
// waited yet, and will see the change under mu), without blocking.
func (bp *bodyPipe) unlockNotify() {
	w := bp.wake
	bp.mu.Unlock()
	if w == nil {
		return
	}
	select {
	case w <- struct{}{}:
	default:
	}
}

// space reports how many more body bytes fit (loop side). When none do,
// the pipe is marked starved in the same hold of the lock: a worker that
// drains it afterwards then asks for more. (Marking it in a second hold
// would miss a worker that drained it in between, and waits for a push
// that never comes while the loop waits for a refill.)
func (bp *bodyPipe) space() int {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if bp.off > 0 && bp.off == len(bp.buf) {
		bp.buf, bp.off = bp.buf[:0], 0
	}
	room := pipeCap - (len(bp.buf) - bp.off) // below 0 after handBody
	if room <= 0 {
		bp.starved = true
		return 0
	}
	return room
}

// push adds body bytes (loop side); p is copied. more says the loop keeps
// further bytes queued for lack of room: the pipe is marked starved before
// the worker is signalled, so the worker that reads p asks for the rest.
func (bp *bodyPipe) push(p []byte, eof, more bool) {
	bp.mu.Lock()
	if bp.off > 0 && bp.off == len(bp.buf) {
		bp.buf, bp.off = bp.buf[:0], 0
	}
	bp.buf = append(bp.buf, p...)
	if eof {
		bp.eof = true
	}
	if more {
		bp.starved = true
	}
	bp.unlockNotify()
}

// abandon fails the handler's pending and future body reads and writes: the
// session closed.
func (bp *bodyPipe) abandon() {
	bp.mu.Lock()
	if bp.err == nil {
		bp.err = ErrSessionClosed
	}
	ctx := bp.ctx
	bp.unlockNotify()
	if ctx != nil {
		ctx.cancel(ErrSessionClosed)
	}
}

// broken reports whether the body failed or was abandoned (any side).
func (bp *bodyPipe) broken() bool {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.err != nil
}

// fail reports a broken body to the handler.
func (bp *bodyPipe) fail(err error) {
	bp.mu.Lock()
	if bp.err == nil {
		bp.err = err
	}
	bp.unlockNotify()
}

// read is Request.Recv for blocking handlers (worker side): it waits at
// most timeout (0: no limit) for bytes, and never past the read deadline.
func (bp *bodyPipe) read(p []byte, timeout time.Duration, r *Request) (int, error) {
	b, err := bp.next(timeout, r)
	if len(b) == 0 {
		return 0, err
	}
	k := copy(p, b)
	bp.take(k, r)
	return k, nil
}

// take marks k bytes returned by next as read, and asks the loop for more
// when it left bytes queued for lack of room.
func (bp *bodyPipe) take(k int, r *Request) {
	bp.mu.Lock()
	bp.off += k
	bp.peeked = false
	ask := bp.starved
	bp.starved = false
	bp.mu.Unlock()
	if ask {
		r.refill()
	}
}

// next waits at most timeout (0: no limit), and never past the read
// deadline, for unread body bytes and returns them without a copy: they
// stay the caller's to read, outside the lock, until take. Meanwhile the
// loop only appends after them or moves to a new buffer, and a buffer lent
// by the engine is not given back (recycleBody). read copies them;
// Request.WriteTo hands them to its writer.
func (bp *bodyPipe) next(timeout time.Duration, r *Request) ([]byte, error) {
	var timer, dlTimer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if dlTimer != nil {
			dlTimer.Stop()
		}
	}()
	for {
		if dl := bp.readDL.Load(); dl != 0 && time.Now().UnixNano() >= dl {
			return nil, errDeadline
		}
		bp.mu.Lock()
		if len(bp.buf) > bp.off {
			b := bp.buf[bp.off:]
			bp.peeked = true
			bp.mu.Unlock()
			return b, nil
		}
		if bp.err != nil {
			err := bp.err
			bp.mu.Unlock()
			return nil, err
		}
		if bp.eof {
			bp.mu.Unlock()
			return nil, io.EOF
		}
		ask := bp.starved
		bp.starved = false
		wake := bp.waitChan()
		bp.mu.Unlock()
		if ask {
			r.refill()
		}
		var limitC, dlC <-chan time.Time
		if timer == nil && timeout > 0 {
			timer = time.NewTimer(timeout)
		}
		if timer != nil {
			limitC = timer.C
		}
		if dl := bp.readDL.Load(); dl != 0 {
			d, _, ok := deadlineWait(dl, 0)
			if !ok {
				return nil, errDeadline
			}
			if dlTimer == nil {
				dlTimer = time.NewTimer(d)
			} else {
				dlTimer.Reset(d)
			}
			dlC = dlTimer.C
		}
		select {
		case <-wake:
		case <-limitC:
			return nil, ErrRecvTimeout
		case <-dlC:
			return nil, errDeadline
		}
	}
}

// startBlocking hands a request to the worker pool. b holds the head in its
// first n bytes.
func (c *Session) startBlocking(b []byte, n int, limit int64) bool {
	s := c.lp.srv
	p := c.reqState.p
	h := c.reqState.h
	br := c.lp.newBlocking(h.reuse)
	r := &br.Request
	r.reset(c, h, p, nil)
	r.blocking, r.reuse = true, h.reuse
	// What a worker may ask of the session, read now on the loop.
	r.remote, r.local = c.addrs()
	r.tr = c.transport()
	var head []byte
	if n <= len(br.room) {
		head = br.room[:n:n]
		copy(head, b)
		r.wbuf = br.room[n:n]
	} else {
		head = append([]byte(nil), b[:n]...)
		r.wbuf = br.room[:0]
	}
	p.Rebind(head)
	left := p.ContentLength()
	if p.Chunked() {
		left = -1
		c.initChunked(s.chunkLimits(limit))
	} else if left < 0 {
		left = 0
	}
	r.hdrs = br.hdrs[:0]
	r.bp = &br.pipe
	r.bp.init(left)
	if !r.reuse {
		r.bp.ctxStore = &br.ctx
	}
	// The worker owns the parser until the request is done.
	c.reqState.p = nil
	c.inDiscard(n)
	c.reqState.headLen = 0
	c.st = stBlocking
	c.reqState.breq = r
	ok := s.pool.tryGo(r)
	c.lp.yield = ok
	if ok && s.oneProc && r.bp.left >= 0 && int64(c.inBuffered()) > r.bp.left {
		c.lp.pipelined = true // input beyond the body: the next request (yieldToWorkers)
	}
	if !ok {
		// Every worker is busy: 503, and the body is skipped like any
		// unrouted request's.
		c.reqState.breq = nil
		c.reqState.p = p
		c.st = stHead
		p.Rebind(head)
		return c.rejectUnread(503, 0)
	}
	if r.bp.left != 0 {
		c.continue100(p)
		if c.reqState.bodyDL == 0 {
			c.startBody()
		}
	}
	if r.bp.left >= takeMin && c.transport() == nil && c.inBuffered() >= takeMin {
		if t, ok := c.ec.(engine.Taker); ok {
			c.handBody(r.bp, t)
		}
	}
	c.feedBlocking()
	return false
}

// newBlocking returns a blockingRequest: a reused one from the loop's free
// list when the handler allows it (internal/reuse) and one is there, else
// a new one. A reused one gets its pipe and context cleared here and its
// Request by Request.reset; its rooms are written before they are read.
func (lp *loop) newBlocking(reuse bool) *blockingRequest {
	if n := len(lp.brFree); reuse && n > 0 {
		br := lp.brFree[n-1]
		lp.brFree[n-1] = nil
		lp.brFree = lp.brFree[:n-1]
		br.pipe, br.ctx = bodyPipe{}, reqCtx{}
		lp.brReused++
		return br
	}
	lp.brNew++
	return &blockingRequest{}
}

// putBlocking keeps r's blockingRequest for reuse, up to brKeep per loop.
func (lp *loop) putBlocking(r *Request) {
	if len(lp.brFree) < brKeep {
		// Request is blockingRequest's first field.
		lp.brFree = append(lp.brFree, (*blockingRequest)(unsafe.Pointer(r)))
	}
}

// brKeep bounds the finished blockingRequests a loop keeps (1280 bytes
// each).
const brKeep = 64

// takeMin is the prebuffered body size from which handBody gives the input
// buffer itself to the worker; a smaller one is copied into the pipe, and
// so is any on an engine that cannot lend its buffer (a copy of the whole
// body into a buffer of its own costs more than the pipe's refills).
const takeMin = 64 << 10

// handBody gives the body bytes the input holds (prebuffered, see
// Config.BlockingPrebuffer) to the worker in one piece: the engine's
// buffer becomes the pipe's, without the copy and the refill per pipeCap
// bytes that feeding the pipe costs. What is handed counts against the
// memory budget until the request ends, as it did while prebuffered.
func (c *Session) handBody(bp *bodyPipe, t engine.Taker) {
	k := int(min(int64(c.inBuffered()), bp.left))
	buf, off := t.Take(k)
	b := buf[off:]
	bp.left -= int64(len(b))
	done := bp.left == 0
	bp.mu.Lock()
	bp.buf, bp.off, bp.lent = b, 0, buf
	bp.eof = done
	bp.unlockNotify()
	c.reqState.handed = len(b)
	c.emit(EventOnData, len(b))
	c.blockBodyProgress(len(b), done)
}

// recycleBody closes the pipe once the worker is done: a Recv after the
// handler returned fails with ErrReplyDone, and the buffer handBody lent
// the pipe goes back to the engine (never read again, though reused).
func (c *Session) recycleBody(bp *bodyPipe) (late bool) {
	bp.mu.Lock()
	lent := bp.lent
	late = bp.peeked
	if bp.peeked {
		// A goroutine of the handler's still writes from it (WriteTo
		// after the handler returned): the engine must not reuse it.
		lent = nil
	}
	bp.lent, bp.buf, bp.off = nil, nil, 0
	if bp.err == nil {
		bp.err = ErrReplyDone
	}
	bp.mu.Unlock()
	if lent != nil {
		c.ec.(engine.Taker).Recycle(lent) // lent only by a Taker
	}
	return late
}

// refill asks the loop for more body bytes (worker side).
func (r *Request) refill() {
	r.srv.pushItem(r.s.lp, ctrl.Item{Kind: kindBlockRefill, ID: uint64(r.s.id), Arg: r})
}

// addrs returns the session's addresses, read once per session: the
// engine copies them at every call.
func (c *Session) addrs() (remote, local net.Addr) {
	x := c.ext()
	if x.remote == nil {
		x.remote, x.local = c.ec.RemoteAddr(), c.ec.LocalAddr()
	}
	return x.remote, x.local
}

// pushItem queues an item that must not be lost (worker to loop). A full
// queue is retried: the loop drains it independently of the worker.
func (s *Server) pushItem(lp *loop, it ctrl.Item) {
	for i := 0; ; i++ {
		ring, err := lp.q.Push(it)
		if err == nil {
			if ring {
				_ = s.wakeLocal(lp.idx)
			}
			return
		}
		if s.state.Load() == stateStopped {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// feedBlocking moves body bytes from the connection into the handler's pipe
// (loop side), leaving them queued when the pipe is full.
func (c *Session) feedBlocking() {
	r := c.reqState.breq
	if r == nil {
		return
	}
	bp := r.bp
	if c.reqState.hijacked {
		c.feedRaw(bp)
		return
	}
	c.feedBody(bp)
	if c.reqState != nil && c.reqState.breq == r && !c.closing {
		c.paceBlockingInput(bp)
	}
}

// blockInputMax is the input a session with a Blocking request in
// progress holds before its socket stops being read: while the handler
// does not take the body as fast as it arrives (its pipe is full), or has
// it all and still runs (what arrives is the next requests), TCP flow
// control, not the server's memory, holds the rest.
const blockInputMax = 64 << 10

// paceBlockingInput pauses reading while more than blockInputMax bytes
// wait for the Blocking request in progress, and resumes it once they
// fall under. A pause is asserted again on every call: gnet turns reading
// back on when its output queue drains. Where the engine cannot pause
// (netpoll), input beyond the body is capped as a stalled session's.
func (c *Session) paceBlockingInput(bp *bodyPipe) {
	x := c.reqState
	n := c.inBuffered()
	if n <= blockInputMax {
		if x.inPaused && !c.stalled {
			c.ec.PauseRead(false)
		}
		x.inPaused = false
		return
	}
	if c.ec.PauseRead(true) {
		x.inPaused = true
		return
	}
	if beyond := int64(n) - max(bp.left, 0); bp.left >= 0 && beyond > int64(c.inboundCap()) {
		c.abort()
	}
}

// resumeInput ends paceBlockingInput's pause when the Blocking request
// ends.
func (c *Session) resumeInput() {
	if x := c.reqState; x != nil && x.inPaused {
		x.inPaused = false
		if !c.stalled {
			c.ec.PauseRead(false)
		}
	}
}

// feedBody hands the body bytes the input holds to the pipe.
func (c *Session) feedBody(bp *bodyPipe) {
	src := c.inPeek()
	bodyDone := bp.left == 0 || (bp.left < 0 && c.reqState.cd.Done())
	if bodyDone {
		// Input beyond the body waits for the handler to finish; cap it
		// as a stalled session's.
		if len(src) > c.inboundCap() {
			c.abort()
		}
		return
	}
	if len(src) == 0 {
		return
	}
	room := bp.space()
	if room == 0 {
		return // marked starved by space
	}
	if bp.left > 0 {
		k := len(src)
		if int64(k) > bp.left {
			k = int(bp.left)
		}
		if k > room {
			k = room
		}
		bp.left -= int64(k)
		bp.push(src[:k], bp.left == 0, k < len(src) && bp.left > 0)
		c.lp.yield = true
		c.inDiscard(k)
		c.emit(EventOnData, k)
		c.blockBodyProgress(k, bp.left == 0)
		return
	}
	// Chunked: decode into scratch, then hand over.
	dst := c.lp.scratchBuf()
	if room < len(dst) {
		dst = dst[:room]
	}
	nd, ns, err := c.reqState.cd.Decode(dst, src)
	c.inDiscard(ns)
	if err != nil {
		bp.fail(ErrBodyInterrupted)
		c.protocolError(err)
		return
	}
	done := c.reqState.cd.Done()
	bp.push(dst[:nd], done, ns < len(src) && !done)
	c.lp.yield = true
	c.emit(EventOnData, nd)
	c.blockBodyProgress(ns, done)
}

// blockBodyProgress moves the body deadline of a Blocking request as its
// body is handed over, and clears it once the body is complete. (While
// bytes wait in the input for the handler to read them, the deadline does
// not end the request: see onTimer.)
func (c *Session) blockBodyProgress(n int, done bool) {
	if done {
		c.reqState.bodyDL = 0
		return
	}
	if c.reqState.bodyDL != 0 {
		c.bodyProgress(n)
	}
}

// blockChunk carries reply bytes a worker produced to the loop. Chunks
// and their buffers are reused (chunkPool): a streaming reply costs no
// allocation per piece once warm.
type blockChunk struct {
	r    *Request
	b    []byte
	lent *lentWrite // b is the handler's slice, lent until lent.done (writeLent)
	pre  []byte     // with lent: the worker's buffered bytes, written before b
}

// chunkPool holds spent blockChunks with their buffers, larger than a
// blockingRequest's own and at most chunkKeepMax.
var chunkPool sync.Pool

const chunkKeepMax = 4 << 20

// spareChunk returns a spent chunk whose buffer the worker may fill, nil
// when the pool has none.
func spareChunk() *blockChunk {
	ch, _ := chunkPool.Get().(*blockChunk)
	return ch
}

// recycle gives a written chunk back to the pool (loop side).
func (ch *blockChunk) recycle() {
	ch.r = nil
	if c := cap(ch.b); c > blockRoom && c <= chunkKeepMax {
		ch.b = ch.b[:0]
		chunkPool.Put(ch)
	}
}

// blockWrite writes reply bytes a worker produced (loop side). When
// nothing else waits in the loop's output, the chunk is written as it is,
// without a copy into the loop's buffer.
func (c *Session) blockWrite(w *blockChunk) {
	n := len(w.b)
	if lw := w.lent; lw != nil {
		n += len(w.pre)
		abandoned := !lw.claim(lentWriting)
		if abandoned {
			w.b = nil // the worker gave up waiting: its slice is not ours
		} else {
			// The head or chunk-size line the worker had buffered goes
			// first; then b from the handler's slice.
			c.lp.out = append(c.lp.out, w.pre...)
		}
		defer func() {
			lw.wrote = !abandoned
			lw.done <- struct{}{}
		}()
	}
	c.blockEvents(w.r, n)
	switch {
	case len(w.b) == 0:
	case w.lent != nil || len(c.lp.out) == 0:
		c.writeAfterOut(w.b)
	default:
		c.lp.out = append(c.lp.out, w.b...)
		c.flush()
	}
	bp := w.r.bp
	bp.mu.Lock()
	bp.inflight -= n
	bp.queued = c.ec.OutboundBuffered()
	bp.unlockNotify()
	c.lp.yield = true
	if bp.queued > 0 {
		c.reqState.pollDL = c.lp.now + int64(c.lp.srv.cfg.TimerResolution)
	}
	if w.lent == nil {
		w.recycle()
	}
}

// blockEvents emits, on the loop, the reply events of a blocking handler:
// EventHeadersSent once, then EventSentData with the reply bytes handed to
// the connection (head and chunk framing included).
func (c *Session) blockEvents(r *Request, n int) {
	if c.lp.srv.cfg.OnEvent == nil {
		return
	}
	if !r.headEvent && r.headSent {
		r.headEvent = true
		c.emit(EventHeadersSent, 0)
	}
	if n > 0 {
		c.emit(EventSentData, n)
	}
}

// pollBlocking refreshes the outbound figure a waiting worker sees.
func (c *Session) pollBlocking() {
	r := c.reqState.breq
	if r == nil {
		c.reqState.pollDL = 0
		return
	}
	bp := r.bp
	ob := c.ec.OutboundBuffered()
	bp.mu.Lock()
	bp.queued = ob
	bp.unlockNotify()
	c.lp.yield = true
	if ob > 0 {
		c.reqState.pollDL = c.lp.now + int64(c.lp.srv.cfg.TimerResolution)
	} else {
		c.reqState.pollDL = 0
	}
}

// flushWorker hands the worker's reply bytes to the loop, waiting while too
// much is queued for a client that reads slowly.
func (r *Request) flushWorker(final bool) error {
	if len(r.wbuf) < 16<<10 && !final {
		return r.bp.error()
	}
	if len(r.wbuf) == 0 {
		return nil
	}
	if err := r.waitRoom(len(r.wbuf)); err != nil {
		r.wbuf = r.wbuf[:0]
		return err
	}
	s := r.srv
	chunk := r.spare
	if chunk == nil {
		chunk = &blockChunk{}
	}
	chunk.r, chunk.b = r, r.wbuf
	r.wbuf, r.spare = nil, nil
	s.pushItem(r.s.lp, ctrl.Item{Kind: kindBlockWrite, ID: uint64(r.s.id), Arg: chunk})
	return nil
}

// waitRoom waits (worker side) until the reply bytes queued for the
// client, in flight to the loop or in the connection, are at most half of
// MaxOutbound, then counts n more in flight. It gives up at
// SendWaitTimeout, at the write deadline, or when the request failed.
func (r *Request) waitRoom(n int) error {
	s := r.srv
	bp := r.bp
	high := s.cfg.MaxOutbound / 2
	var timer, dlTimer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if dlTimer != nil {
			dlTimer.Stop()
		}
	}()
	for {
		bp.mu.Lock()
		if bp.err != nil {
			err := bp.err
			bp.mu.Unlock()
			return err
		}
		if bp.inflight+bp.queued <= high {
			bp.inflight += n
			bp.mu.Unlock()
			return nil
		}
		wake := bp.waitChan()
		bp.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(s.cfg.SendWaitTimeout)
		}
		var dlC <-chan time.Time
		if dl := bp.writeDL.Load(); dl != 0 {
			d, _, ok := deadlineWait(dl, 0)
			if !ok {
				return errDeadline
			}
			if dlTimer == nil {
				dlTimer = time.NewTimer(d)
			} else {
				dlTimer.Reset(d)
			}
			dlC = dlTimer.C
		}
		select {
		case <-wake:
		case <-timer.C:
			return ErrSendTimeout
		case <-dlC:
			return errDeadline
		}
	}
}

// lentWrite is a large body write a worker lends the loop instead of
// copying it: the loop writes the handler's slice itself (the engine
// copies what the socket does not take at once) and signals done; the
// worker waits for that, so the handler may reuse the slice once Write
// returns. A worker that stops waiting (the request failed) marks it
// abandoned first, unless the loop already started writing, in which case
// it waits for done. done gets exactly one signal per use, from the
// loop's write or from a dropped item, so a lentWrite whose worker took
// that signal goes back to lentPool; an abandoned one is left to the GC.
type lentWrite struct {
	chunk blockChunk // the item's Arg; chunk.lent points back
	mu    sync.Mutex
	state uint8 // lentWaiting, lentWriting, lentAbandoned
	wrote bool  // the loop wrote it (set before done is signalled)
	done  chan struct{}
}

var lentPool = sync.Pool{New: func() any {
	lw := &lentWrite{done: make(chan struct{}, 1)}
	lw.chunk.lent = lw
	return lw
}}

const (
	lentWaiting = iota
	lentWriting
	lentAbandoned
)

// claim moves a waiting lentWrite to state (the loop writing it, or the
// worker abandoning it) and reports whether it was still waiting: the
// first of the two sides wins.
func (lw *lentWrite) claim(state uint8) bool {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.state != lentWaiting {
		return false
	}
	lw.state = state
	return true
}

// writeLent sends p, a body write of directWriteMin bytes or more, from a
// worker without copying it (see lentWrite).
func (r *Request) writeLent(p []byte) error {
	if r.chunked {
		r.wbuf = hc.AppendChunkSize(r.outBuf(), len(p))
	}
	// What the worker buffered (the head, the chunk-size line) travels
	// with p in one item: one hand-over, one doorbell at most.
	pre := r.wbuf
	if err := r.waitRoom(len(pre) + len(p)); err != nil {
		r.wbuf = r.wbuf[:0]
		return err
	}
	lw := lentPool.Get().(*lentWrite)
	lw.state, lw.wrote = lentWaiting, false
	lw.chunk.r, lw.chunk.b, lw.chunk.pre = r, p, pre
	r.srv.pushItem(r.s.lp, ctrl.Item{Kind: kindBlockWrite, ID: uint64(r.s.id), Arg: &lw.chunk})
	err, abandoned := lw.await(r.bp)
	if abandoned {
		// The item may still be queued: pre is the loop's to drop.
		r.wbuf, r.spare = nil, nil
		return err
	}
	lw.chunk = blockChunk{lent: lw}
	lentPool.Put(lw)
	r.wbuf = pre[:0] // the loop is done with it: the worker's again
	if err == nil && r.chunked {
		r.wbuf = append(r.outBuf(), '\r', '\n')
	}
	return err
}

// await waits (worker side) until the loop wrote the lent slice or dropped
// its item, or the request failed. abandoned reports that the worker gave
// the write up before the loop took it: the loop may still hold the
// lentWrite. No timer: waitRoom waited for the client; this waits for the
// loop, which writes or drops every item, and for a failure (a closed
// session is one) signalled on wake.
func (lw *lentWrite) await(bp *bodyPipe) (err error, abandoned bool) {
	for {
		bp.mu.Lock()
		wake := bp.waitChan()
		failed := bp.err != nil
		bp.mu.Unlock()
		if !failed {
			select {
			case <-lw.done:
				if !lw.wrote {
					return bp.failure(), false
				}
				return nil, false
			case <-wake:
			}
		}
		if err = bp.error(); err == nil {
			continue
		}
		if lw.claim(lentAbandoned) {
			return err, true
		}
		// The loop is writing the slice now (a syscall, not a wait for
		// the client): its signal comes.
		<-lw.done
		return err, false
	}
}

// error returns the pipe's error, nil while the request is sound.
func (bp *bodyPipe) error() error {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	return bp.err
}

// failure returns the pipe's error, or ErrSessionClosed when it has none.
func (bp *bodyPipe) failure() error {
	if err := bp.error(); err != nil {
		return err
	}
	return ErrSessionClosed
}

// blockDone completes a blocking request on the loop.
func (c *Session) blockDone(r *Request) {
	if c.reqState.hijacked {
		// The conn lives on without its handler (hijack.go), and other
		// goroutines may be writing through it: r.wbuf is theirs.
		return
	}
	c.blockEvents(r, len(r.wbuf))
	if len(r.wbuf) > 0 {
		c.lp.out = append(c.lp.out, r.wbuf...)
		r.wbuf = nil
	}
	c.requestDone(r, nil)
	bp := r.bp
	bp.mu.Lock()
	complete := bp.eof && bp.err == nil
	failed := bp.err != nil
	bp.mu.Unlock()
	late := c.recycleBody(bp)
	c.reqState.breq = nil
	c.reqState.handed = 0
	c.reqState.pollDL = 0
	c.resumeInput()
	c.touch()
	p := r.p
	c.reqState.p = p
	c.reqState.h = r.h
	if !r.keep || c.closing {
		c.closeAfterReply()
		return
	}
	c.st = stHead
	switch {
	case failed:
		// The body timed out or broke: the rest of it, if it ever comes,
		// must not be read as a request.
		c.closeAfterReply()
	case complete:
		c.endRequest()
		if r.reuse && !r.pinned && !late {
			// Nothing refers to r any more: the worker's last act was
			// handing it back, the bridge refuses its handler's late
			// calls, the context is an object of its own, and
			// endRequest unbound the parser from the head in br.room.
			// Only this common ending reuses it; the rarer ones, whose
			// parser may still read the head, leave it to the GC.
			c.lp.putBlocking(r)
		}
	case bp.left < 0:
		// The handler left part of a chunked body: skip it (capped).
		c.reqState.drainLeft = -1
		c.st = stDrain
	case bp.left <= c.lp.srv.cfg.MaxDrain:
		c.reqState.drainLeft = bp.left
		c.st = stDrain
		if c.reqState.drainLeft == 0 {
			c.endRequest()
		}
	default:
		c.closeAfterReply()
	}
}

func init() {
	reuse.Mark = func(u any) { u.(*URIHandler).reuse = true }
	reuse.Pin = func(r any) { r.(*Request).pinned = true }
}
