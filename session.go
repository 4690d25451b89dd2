package httpd

// This file holds Session, the state a connection keeps for its life
// (contexts with free callbacks, transport, deadlines, read state), and the
// per-request state it borrows from its loop while a request is in progress.

import (
	"errors"
	"net"
	"sync/atomic"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/engine"
	"github.com/evhttpd/httpd/sessions"
)

// SessionID names a session for its whole life. An ID of a closed session is
// stale: every call with it is a no-op that reports ErrStaleSession, and it
// can never reach a newer session that reuses the slot or the descriptor.
type SessionID = sessions.ID

// ErrStaleSession is returned for a session ID whose session has closed.
var ErrStaleSession = errors.New("httpd: stale session ID")

// readState is where a session is in its input.
type readState uint8

const (
	stHead     readState = iota // waiting for or parsing a request head
	stBody                      // head parsed, waiting for a Content-Length body
	stChunked                   // head parsed, decoding a chunked body
	stBlocking                  // a blocking handler owns the request
	stDrain                     // discarding the unread body of a finished request
	stLinger                    // reply sent, write side shut, discarding input until close
	stWS                        // upgraded to WebSocket
	stAsync                     // a detached reply is open (AsyncReply): input waits
)

// Session is one client connection and the context it keeps for its life
// (ESP's session: sess_ctx with free_ctx, transport context, open/close
// hooks). Its methods may be called only on the session's event loop: inside
// a handler, a hook or queued work for it. Use Server.QueueWork to reach a
// session from another goroutine.
type Session struct {
	lp *loop // owning loop; lp.srv is the server
	ec engine.Conn
	id sessions.ID

	// reqState is the state of a request in progress and of the rarer conditions
	// (a stalled or closing connection, a transport's staged plaintext),
	// borrowed from the loop and given back as soon as the session is idle
	// again (schedule), so an idle session holds none of it.
	reqState *reqState
	ws       *wsConn  // set once the session upgraded to WebSocket
	extra    *sessExt // contexts and Transport, nil until one is set

	// Timers (loop only): monotonic nanoseconds, 0 = unset.
	idleDL  int64
	timerAt int64 // deadline the engine timer is armed for

	// Cross-goroutine state.
	lru     atomic.Int64  // LRU stamp of the last completed request (Session.touch); before the first, -(open time in monotonic ns + 1)
	pending atomic.Int32  // queued work items not yet run
	shared  atomic.Uint32 // flags read from other goroutines: flagPurging, flagUpgraded, flagWSHandshake

	// Loop-only state.
	st        readState
	closing   bool // Close was asked; nothing more is read or written
	inHandler bool // a loop handler of this session is running
	stalled   bool // output over MaxOutbound: input waits (backpressure)
	freed     bool // the close hook and free callbacks ran
	trClosed  bool // Transport.Close ran (before a write shutdown)
}

// Session.shared bits, read from any goroutine.
const (
	flagPurging     = 1 << iota // chosen as an LRU victim
	flagUpgraded                // the session left HTTP for WebSocket (ClientInfo)
	flagWSHandshake             // in its opening handshake: queued frames wait for the 101 (ws.go)
)

// sessExt holds what only some sessions have for their life: the
// contexts (ESP's sess_ctx and transport ctx with their free functions) and
// a Transport. It is allocated when the first one is set.
type sessExt struct {
	ctx, tctx ctxSlot
	tr        Transport
	ctx2      *reqCtx // Session.Context, cancelled at close (context.go)

	remote, local net.Addr // cached for Blocking requests (Session.addrs)
}

// ctxSlot is a context and the function that frees it.
type ctxSlot struct {
	v    any
	free func(any)
}

// release frees the context, once, and empties the slot.
func (s *ctxSlot) release(c *Session) {
	if v, f := s.v, s.free; v != nil && f != nil {
		*s = ctxSlot{}
		c.lp.srv.safeFree(c, f, v)
	}
}

func (c *Session) ext() *sessExt {
	if c.extra == nil {
		c.extra = &sessExt{}
	}
	return c.extra
}

// transport returns the session's Transport, nil for a plain connection.
func (c *Session) transport() Transport {
	if c.extra == nil {
		return nil
	}
	return c.extra.tr
}

// reqState is a session's per-request state (loop only). Sessions borrow
// one from their loop when a request starts or a deadline is armed and
// return it when nothing in it is in use (idle).
type reqState struct {
	p         *hc.Parser         // nil while no request is in progress
	cd        *hc.ChunkedDecoder // borrowed from the loop while a chunked body is read
	h         *handler           // handler of the request in progress
	headLen   int                // length of the head still held in the input
	need      int                // bytes the body state waits for (head + Content-Length)
	drainLeft int64              // body bytes still to discard in stDrain
	headCopy  []byte             // owned copy of the head when it cannot stay queued
	body      []byte             // decoded chunked body (pooled)
	lingered  int64              // bytes discarded in stLinger
	expect100 bool               // "100 Continue" was sent for the request in progress

	// Deadlines: monotonic nanoseconds, 0 = unset.
	headDL, recvDL, sendDL, lingerDL, pollDL int64
	bodyDL                                   int64 // whole-body deadline (BodyTimeout, MinBodyRate)
	bodyStart                                int64 // when the body's head ended
	bodyRecv                                 int64 // body bytes (wire) received so far
	held                                     int64 // bytes counted against MaxBufferedBytes (account)
	shedHeld                                 int64 // held when shed reset the session (lp.resetting)
	sendMark                                 int   // outbound bytes when the send check was armed
	inMark                                   int   // inbound bytes at the last body progress

	// Blocking handler in progress (shared with its worker).
	breq     *Request
	hijacked bool  // breq hijacked the connection (hijack.go)
	inPaused bool  // reading paused while breq's pipe is full (paceBlockingInput)
	handed   int   // body bytes handBody gave breq's pipe: counted as held until breq ends
	start    int64 // when the head ended, for Config.OnRequestDone (reqdone.go)
	// Detached reply in progress (async.go).
	async *AsyncReply

	// Transport plaintext staged for the parser; its buffer stays with the
	// reqState in the loop's pool.
	plain []byte
	// Replies held back for a pipelined batch (holdOut); written by the
	// session's next flush or when the loop's rounds end.
	pend []byte
}

// idle reports whether nothing in x is in use.
func (x *reqState) idle() bool {
	return x.p == nil && x.cd == nil && x.breq == nil && x.async == nil && x.body == nil && x.headCopy == nil &&
		len(x.plain) == 0 && len(x.pend) == 0 && x.held == 0 && x.headDL == 0 && x.recvDL == 0 && x.bodyDL == 0 && x.sendDL == 0 && x.lingerDL == 0 && x.pollDL == 0
}

// rq returns the session's request state, borrowing one from the loop.
func (c *Session) rq() *reqState {
	if c.reqState == nil {
		c.reqState = c.lp.getReqState()
	}
	return c.reqState
}

// putRQ gives the request state back to the loop once it is idle.
func (c *Session) putRQ() {
	if x := c.reqState; x != nil && x.idle() && !c.stalled && (c.st == stHead || c.st == stWS) {
		c.reqState = nil
		c.lp.putReqState(x)
	}
}

// ID returns the session's ID, valid for its whole life and stale after.
func (c *Session) ID() SessionID { return c.id }

// Fd returns the socket descriptor (informational: never use it for I/O).
func (c *Session) Fd() int { return c.ec.Fd() }

// RemoteAddr returns the peer address.
func (c *Session) RemoteAddr() net.Addr { return c.ec.RemoteAddr() }

// LocalAddr returns the local address the client connected to.
func (c *Session) LocalAddr() net.Addr { return c.ec.LocalAddr() }

// Server returns the server the session belongs to.
func (c *Session) Server() *Server { return c.lp.srv }

// Ctx returns the session context (ESP's sess_ctx), nil if none.
func (c *Session) Ctx() any {
	if c.extra == nil {
		return nil
	}
	return c.extra.ctx.v
}

// SetCtx replaces the session context. The previous context, if any, is
// freed first with its free function (ESP frees it on replacement). free is
// called exactly once with v: on the next replacement, when the session
// closes, or at Stop. A nil free means nothing needs freeing.
func (c *Session) SetCtx(v any, free func(any)) {
	if c.extra == nil && v == nil && free == nil {
		return
	}
	x := c.ext()
	x.ctx.release(c)
	x.ctx = ctxSlot{v, free}
}

// TransportCtx returns the transport context (ESP's transport ctx).
func (c *Session) TransportCtx() any {
	if c.extra == nil {
		return nil
	}
	return c.extra.tctx.v
}

// SetTransportCtx sets the transport context and its free function, called
// exactly once when the session closes or the context is replaced.
func (c *Session) SetTransportCtx(v any, free func(any)) {
	if c.extra == nil && v == nil && free == nil {
		return
	}
	x := c.ext()
	x.tctx.release(c)
	x.tctx = ctxSlot{v, free}
}

// SendRaw queues p on the connection as it is (ESP's httpd_send), after
// whatever the session already queued. p is copied before SendRaw returns.
func (c *Session) SendRaw(p []byte) error {
	if c.closing {
		return ErrSessionClosed
	}
	c.lp.out = append(c.lp.out, p...)
	c.flush()
	c.emit(EventSentData, len(p))
	return nil
}

// Close closes the session after the current callback (ESP's
// httpd_sess_trigger_close when called on the loop).
func (c *Session) Close() { c.abort() }

// ErrSessionClosed is returned when writing to a session that is closing.
var ErrSessionClosed = errors.New("httpd: session closed")
