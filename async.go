package httpd

// This file holds detached replies: a loop handler that cannot answer at
// once keeps its request open and finishes it later from any goroutine
// (ESP's httpd_req_async_handler_begin / _complete).

import (
	"errors"
	"sync/atomic"
)

// AsyncReply is the reply of a request whose loop handler returned without
// finishing it (Request.Detach). Any goroutine may use it; the work it
// queues runs on the session's loop, in order. Its zero value is not
// usable.
//
// Lifetime: the reply is open from Detach until Done, or until the session
// closes (client gone, Stop, TriggerClose). While it is open the session
// reads no further request: pipelined requests wait. Once it is over every
// call returns ErrAsyncDone or ErrSessionClosed and touches nothing: a kept
// handle can never reach a later request of the same session, nor another
// session that reused the slot.
type AsyncReply struct {
	srv *Server
	id  SessionID
	r   *Request    // the detached request's reply state (loop only)
	end atomic.Bool // Done was called, or the session closed
}

// Detached-reply errors.
var (
	ErrAsyncDone      = errors.New("httpd: detached reply already finished")
	ErrCannotDetach   = errors.New("httpd: only a loop handler's unfinished HTTP reply can be detached")
	ErrSessionClosing = errors.New("httpd: the session of the detached reply closed")
)

// Detach keeps the reply open after the handler returns (ESP's async
// request handlers): the handler returns nil at once and the reply is
// written later through the AsyncReply, from any goroutine, which ends it
// with Done. Only a loop handler (not Blocking, not WebSocket) whose reply
// is not complete can detach; a head already sent stays sent.
//
// The request's head and body (Header, Body, URI...) are valid only until
// the handler returns, like every slice the Request hands out: copy what
// the later reply needs. In the functions given to AsyncReply.Do the
// Request offers only the reply methods (SetStatus, SetHeader, SetType,
// Send, SendChunk, SendErr, Flush).
func (r *Request) Detach() (*AsyncReply, error) {
	if r.blocking || r.isWS || r.wsHandshake || r.done || r.h == nil || r.p == nil || r.async != nil {
		return nil, ErrCannotDetach
	}
	// The reply state moves to a Request of its own: the loop's is reused
	// by the next request of any session.
	d := &Request{s: r.s, h: r.h, srv: r.srv, status: r.status, reason: r.reason, ctype: r.ctype,
		hdrs: append([]byte(nil), r.hdrs...), nhdrs: r.nhdrs, headSent: r.headSent, chunked: r.chunked,
		fixedLen: r.fixedLen, sentBody: r.sentBody, wantClose: r.wantClose || !r.p.KeepAlive(),
		headMethod: r.headMethod, http10: r.p.Minor() == 0}
	a := &AsyncReply{srv: r.srv, id: r.s.id, r: d}
	d.async = a
	r.async = a
	return a, nil
}

// Do runs fn on the session's loop with the detached request, to write
// part or all of the reply (what fn writes is sent when it returns). It
// returns at once: ErrAsyncDone when Done was already called,
// ErrStaleSession or ErrSessionClosing when the session is gone. fn is not
// run if the reply ended before its turn came. A non-nil error from fn
// ends the reply like a handler's error: 500 if nothing was sent, and the
// session closes.
func (a *AsyncReply) Do(fn func(r *Request) error) error {
	if fn == nil {
		return ErrInvalidHandler
	}
	if a.end.Load() {
		return ErrAsyncDone
	}
	return a.srv.enqueue(a.id, kindWork, func(c *Session) {
		if !a.open(c) {
			return
		}
		if err := fn(a.r); err != nil {
			a.finish(c, err)
		}
	})
}

// Done completes the reply (like a handler returning nil: an unfinished
// chunked reply gets its last chunk, an empty one a 200) and lets the
// session read its next request. It may be called from any goroutine, once;
// later calls return ErrAsyncDone.
func (a *AsyncReply) Done() error {
	if a.end.Swap(true) {
		return ErrAsyncDone
	}
	return a.srv.enqueue(a.id, kindWork, func(c *Session) {
		if a.open(c) {
			a.finish(c, nil)
		}
	})
}

// open reports whether the reply is still the one the session waits on.
func (a *AsyncReply) open(c *Session) bool {
	return c.reqState != nil && c.reqState.async == a && !c.closing
}

// finish ends the detached reply on the loop and resumes the session.
func (a *AsyncReply) finish(c *Session, err error) {
	a.end.Store(true)
	keep := a.r.finish(err, false)
	if err != nil {
		c.lp.srv.handlerFailed(a.r, err)
	}
	c.requestDone(a.r, err)
	c.reqState.async = nil
	c.st = stHead
	if !keep || c.closing {
		c.closeAfterReply()
		return
	}
	c.endRequest()
}

// closed marks the reply over when its session closes.
func (a *AsyncReply) closed() { a.end.Store(true) }
