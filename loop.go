package httpd

// This file holds the per-loop state: the loop, its clock, its LRU stamps,
// and the free lists and buffers that sessions borrow while a request or a
// message is in progress, so that an idle session holds none of them.

import (
	"runtime"
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/ctrl"
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
	// Free lists of what sessions borrow while a request or message is in
	// progress, so an idle session holds none of it.
	parsers freeList[hc.Parser]
	xs      freeList[reqState] // Session.rq, putRQ
	wsIns   freeList[wsIn]     // readWS
	// wsLast is the Reader the last finished message gave back, with the
	// endpoint and decompressor it is configured for (getWSIn).
	wsLast   *wsIn
	wsLastH  *handler
	wsLastFl *wsFlate
	cds      freeList[hc.ChunkedDecoder]
	bufs     [][]byte    // free message and body buffers (getBuf, putBuf)
	bufBytes int         // their total capacity
	req      Request     // reused for loop handlers
	routes   routeCache  // the last request routed (handlers.go)
	done     RequestDone // Config.OnRequestDone's argument (reqdone.go)
	now      int64       // monotonic ns, refreshed every tick (OnTick)
	wall     time.Time   // wall time of the same reading, for the Date header
	scratch  []byte      // decode target for discarded chunked bodies

	// yield: a Blocking worker was started or woken during this callback
	// (blocking.go); see yieldToWorkers.
	yield bool
	// pipelined: the worker started during this callback has a pipelined
	// request behind it (yieldToWorkers drains after yielding).
	pipelined bool
	// holding: yieldRounds is draining what workers handed back; replies
	// of pipelined Blocking requests may be held back (Session.holdOut)
	// for the sessions in heldOut, released when the rounds end.
	holding bool
	heldOut []*Session
	pending int // sessions in heldOut whose held replies are not written yet
	holds   int // replies held back so far (tests)

	brFree   []*blockingRequest // finished Blocking requests kept for reuse (newBlocking)
	brNew    int                // blockingRequests allocated (tests)
	brReused int                // blockingRequests reused (tests)

	held       int64 // bytes its sessions hold (budget.go)
	resetting  int64 // bytes held by sessions shed has reset, not yet closed
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
	plain, pend := x.plain[:0], x.pend[:0]
	if cap(plain) > 16<<10 {
		plain = nil
	}
	if cap(pend) > 16<<10 {
		pend = nil
	}
	*x = reqState{plain: plain, pend: pend}
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
	if c.reqState != nil && c.reqState.cd != nil {
		c.lp.cds.put(c.reqState.cd)
		c.reqState.cd = nil
	}
}

// touch records a use of the session for the LRU purge: the next value of
// a server-wide use counter, as ESP's lru_counter, so the order of use is
// exact across loops. Loop only.
func (c *Session) touch() {
	c.lru.Store(int64(c.lp.srv.uses.Next()))
}

// Message and body buffers (chunked request bodies, WebSocket reassembly)
// come from a per-loop free list, used only on that loop: no locks and no
// allocation to return one. A loop keeps at most bufKeepBytes of them, none
// larger than bufKeepMax.
const (
	bufKeepBytes = 4 << 20
	bufKeepMax   = 1 << 20
	bufMin       = 16 << 10
)

// scratchBuf returns the loop's 16 KiB decode target for chunked bodies
// that are discarded or handed to a worker.
func (lp *loop) scratchBuf() []byte {
	if len(lp.scratch) < 16<<10 {
		lp.scratch = make([]byte, 16<<10)
	}
	return lp.scratch
}

// getBuf returns an empty buffer with room for at least n bytes.
func (lp *loop) getBuf(n int) []byte {
	for i := len(lp.bufs) - 1; i >= 0; i-- {
		if b := lp.bufs[i]; cap(b) >= n {
			lp.bufs[i] = lp.bufs[len(lp.bufs)-1]
			lp.bufs[len(lp.bufs)-1] = nil
			lp.bufs = lp.bufs[:len(lp.bufs)-1]
			lp.bufBytes -= cap(b)
			return b[:0]
		}
	}
	return make([]byte, 0, max(n, bufMin))
}

// putBuf gives a buffer back to the loop.
func (lp *loop) putBuf(b []byte) {
	if cap(b) > bufKeepMax || lp.bufBytes+cap(b) > bufKeepBytes {
		return
	}
	lp.bufs = append(lp.bufs, b[:0])
	lp.bufBytes += cap(b)
}

// growBuf makes room for hint more bytes in b, never beyond limit+1 in all
// (the decoder reports the limit itself).
func (lp *loop) growBuf(b []byte, hint int, limit int64) []byte {
	if b == nil {
		return lp.getBuf(min(hint, int(min(limit+1, 1<<30))))
	}
	n := cap(b) * 2
	if n < len(b)+hint {
		n = len(b) + hint
	}
	if int64(n) > limit+1 {
		n = int(limit + 1)
	}
	if n <= len(b) {
		n = len(b) + 1
	}
	nb := make([]byte, len(b), n)
	copy(nb, b)
	lp.putBuf(b)
	return nb
}

// oneProc reports whether the process runs on one P (GOMAXPROCS=1).
var oneProc = func() bool { return runtime.GOMAXPROCS(0) == 1 }

// yieldToWorkers runs at the end of an engine callback. With one P, a
// worker goroutine the loop started or woke (a Blocking handler, its body
// pipe refilled, its output drained) cannot run while the loop holds the
// P, and the loop keeps it through its poller's wait, a raw system call
// the runtime takes the P back from only when its monitor notices (20 µs to
// 10 ms later): every hand-off to a worker would cost that. Yielding lets
// the worker run now. With more Ps an idle one picks the worker up at
// once, and nothing is done.
//
// When a pipelined request waits behind the Blocking one just started,
// what the worker hands back while the loop yields (its reply, the end of
// its request) is taken as soon as the loop runs again, in this callback:
// the queue is disarmed for the yield, so the worker rings no doorbell,
// and drained after it, which starts the next request at once. At most
// maxYieldRounds such rounds per callback, so other connections wait no
// longer than that. Without a pipelined request the doorbell is left to
// batch the replies of several connections (measured faster for them).
func (lp *loop) yieldToWorkers() {
	if lp.yield { // inlined: most callbacks start no worker
		lp.yieldRounds()
	}
}

func (lp *loop) yieldRounds() {
	lp.rounds()
	if len(lp.heldOut) > 0 {
		lp.releaseHeld()
	}
}

// rounds yields to the workers, and drains what they hand back while a
// pipelined request waits, for at most maxYieldRounds rounds.
func (lp *loop) rounds() {
	for round := 0; ; round++ {
		// Another round when a worker was started or woken, or while
		// replies are held for the next request's worker (it may not have
		// finished during the last yield).
		if !lp.yield && (round == 0 || lp.pending == 0) {
			return
		}
		drain := lp.pipelined || lp.pending > 0
		lp.yield, lp.pipelined = false, false
		if !lp.srv.oneProc {
			return
		}
		if !drain || round == maxYieldRounds {
			runtime.Gosched()
			return
		}
		lp.q.Disarm()
		runtime.Gosched()
		lp.holding = true
		for {
			if _, more := lp.q.Drain(256, lp.runItem); !more {
				break
			}
		}
		lp.holding = false
	}
}

// releaseHeld writes the replies the rounds held back.
func (lp *loop) releaseHeld() {
	for i, c := range lp.heldOut {
		lp.heldOut[i] = nil
		if x := c.reqState; x != nil && len(x.pend) > 0 {
			c.flush()
			c.schedule()
		}
	}
	lp.heldOut = lp.heldOut[:0]
	lp.pending = 0
}

// maxYieldRounds bounds yieldToWorkers' rounds of yield and drain in one
// callback.
const maxYieldRounds = 16
