package httpd

// This file holds the HTTP/1 request machine of a session: reading heads
// and bodies (Content-Length, chunked, drained), routing, running loop
// handlers, error replies, and skipping bodies that were not read.

import (
	"errors"
	"time"
	"unsafe"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/engine"
)

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
	if c.reqState == nil || c.reqState.p == nil {
		x := c.rq()
		x.p = c.lp.getParser()
		x.headDL = c.lp.now + int64(c.lp.srv.cfg.HeaderTimeout)
		c.idleDL = 0
	}
	n, err := c.reqState.p.ParseHead(b)
	if err != nil {
		if err == hc.ErrNeedMore {
			return false
		}
		c.protocolError(err)
		return false
	}
	c.reqState.headDL = 0
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
	c.emitError(status, err)
	c.replyError(status, msg, nil, true)
}

// startRequest routes a parsed head. b holds the head in its first n bytes.
func (c *Session) startRequest(b []byte, n int) bool {
	s := c.lp.srv
	p := c.reqState.p
	c.reqState.headLen = n
	c.markStart()
	c.emit(EventOnHeader, 0)
	h, res := c.lp.route(p)
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
				c.emitError(status, ws.ErrHandshakeMethod)
				break
			}
			// 405 must say what the URI serves (RFC 9110 §15.5.6).
			r := &c.lp.req
			r.reset(c, nil, p, nil)
			path := p.Path()
			_ = r.SetHeader("Allow", s.reg.allowFor(unsafe.String(unsafe.SliceData(path), len(path))))
			return c.skipBody(c.replyErrorReq(r, 405, "", false), n)
		case lookupUnknownVer:
			status = 501
		}
		return c.rejectUnread(status, n)
	}
	c.reqState.h = h
	limit := c.bodyLimit()
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
		c.reqState.headCopy = append(c.reqState.headCopy[:0], b[:n]...)
		p.Rebind(c.reqState.headCopy)
		c.inDiscard(n)
		c.reqState.headLen = 0
		c.initChunked(s.chunkLimits(limit))
		c.reqState.body = c.reqState.body[:0]
		c.st = stChunked
		c.continue100(p)
		c.reqState.recvDL = c.lp.now + int64(s.cfg.RecvWaitTimeout)
		c.startBody()
		return true
	case cl > 0:
		c.reqState.need = n + int(cl)
		if h.Blocking {
			// Prebuffering: the worker is taken once the first
			// BlockingPrebuffer bytes (or the whole body) are in.
			c.reqState.need = n + int(min(cl, int64(s.cfg.BlockingPrebuffer)))
		}
		if len(b) >= c.reqState.need {
			c.emit(EventOnData, int(cl))
			c.dispatch(b[n:c.reqState.need])
			c.consume(c.reqState.need)
			return !c.closing
		}
		c.st = stBody
		if es, ok := c.ec.(engine.InputSizer); ok && c.transport() == nil {
			es.ExpectInput(c.reqState.need) // the body is taken whole: no regrowth on the way
		}
		c.continue100(p)
		c.reqState.recvDL = c.lp.now + int64(s.cfg.RecvWaitTimeout)
		c.reqState.inMark = c.inBuffered()
		c.startBody()
		c.bodyProgress(c.reqState.inMark - n)
		if c.reqState.inMark > n && !h.Blocking {
			c.emit(EventOnData, c.reqState.inMark-n)
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
	r.reset(c, nil, c.reqState.p, nil)
	_ = r.SetHeader("Allow", c.lp.srv.reg.allowAll())
	keep := r.finish(r.Send(nil), false)
	c.requestDone(r, nil)
	return c.skipBody(keep, n)
}

// continue100 sends "100 Continue" once when the client waits for it
// (RFC 9110 §10.1.1) and the body has not arrived yet. p holds the head:
// the session's parser, or the one a Blocking request took.
func (c *Session) continue100(p *hc.Parser) {
	if p.ExpectContinue() && !c.reqState.expect100 {
		c.reqState.expect100 = true
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
	x := c.reqState
	x.bodyStart, x.bodyRecv = c.lp.now, 0
	c.bodyProgress(0)
}

// bodyProgress counts n more body bytes and moves the body deadline: it
// starts RecvWaitTimeout after the head, moves a second later per
// MinBodyRate bytes, and never passes BodyTimeout.
func (c *Session) bodyProgress(n int) {
	x := c.reqState
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
	blocking := c.reqState.h.Blocking // prebuffering for a worker: it emits ON_DATA
	if have < c.reqState.need {
		if have > c.reqState.inMark { // progress: restart the receive timeout
			if !blocking {
				c.emit(EventOnData, have-c.reqState.inMark)
			}
			c.bodyProgress(have - c.reqState.inMark)
			c.reqState.inMark = have
			c.reqState.recvDL = c.lp.now + int64(c.lp.srv.cfg.RecvWaitTimeout)
		}
		return false
	}
	b := c.inPeek()
	c.reqState.p.Rebind(b)
	c.st = stHead
	if blocking {
		c.reqState.recvDL, c.reqState.bodyDL = 0, 0
		return c.startBlocking(b, c.reqState.headLen, c.bodyLimit())
	}
	c.emit(EventOnData, c.reqState.need-c.reqState.inMark)
	c.dispatch(b[c.reqState.headLen:c.reqState.need])
	c.consume(c.reqState.need)
	return !c.closing
}

func (c *Session) readChunked() bool {
	src := c.inPeek()
	if len(src) == 0 {
		return false
	}
	limit := c.bodyLimit()
	used := 0
	for used < len(src) && !c.reqState.cd.Done() {
		if len(c.reqState.body) == cap(c.reqState.body) {
			c.reqState.body = c.lp.growBuf(c.reqState.body, len(src)-used, limit)
		}
		nd, ns, err := c.reqState.cd.Decode(c.reqState.body[len(c.reqState.body):cap(c.reqState.body)], src[used:])
		c.reqState.body = c.reqState.body[:len(c.reqState.body)+nd]
		used += ns
		if err != nil {
			c.inDiscard(used)
			c.replyError(errStatus(err), "", c.reqState.p, true)
			return false
		}
		if nd == 0 && ns == 0 {
			break
		}
	}
	c.inDiscard(used)
	c.reqState.recvDL = c.lp.now + int64(c.lp.srv.cfg.RecvWaitTimeout)
	c.bodyProgress(used)
	if !c.reqState.cd.Done() {
		return false
	}
	c.st = stHead
	if len(c.reqState.body) > 0 {
		c.emit(EventOnData, len(c.reqState.body))
	}
	c.dispatch(c.reqState.body)
	c.endRequest()
	return !c.closing
}

// bodyLimit is the body size cap of the request in progress.
func (c *Session) bodyLimit() int64 {
	if h := c.reqState.h; h != nil && h.MaxBodySize > 0 {
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
	keep := c.replyError(status, "", c.reqState.p, false)
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
	p := c.reqState.p
	if !keep || !p.KeepAlive() {
		c.closeAfterReply()
		return false
	}
	c.inDiscard(n)
	switch cl := p.ContentLength(); {
	case p.Chunked():
		c.initChunked(c.lp.srv.chunkLimits(c.lp.srv.cfg.MaxDrain))
		c.reqState.drainLeft = -1
		c.st = stDrain
	case cl > c.lp.srv.cfg.MaxDrain:
		c.closeAfterReply()
		return false
	case cl > 0:
		c.reqState.drainLeft = cl
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
	if c.reqState.drainLeft >= 0 { // Content-Length body
		k := int64(len(b))
		if k > c.reqState.drainLeft {
			k = c.reqState.drainLeft
		}
		c.inDiscard(int(k))
		c.reqState.drainLeft -= k
		if c.reqState.drainLeft > 0 {
			return false
		}
		c.endRequest()
		return true
	}
	// Chunked body: decode into scratch and drop.
	scratch := c.lp.scratchBuf()
	used := 0
	for used < len(b) && !c.reqState.cd.Done() {
		_, ns, err := c.reqState.cd.Decode(scratch, b[used:])
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
	c.reqState.drainLeft -= int64(used)
	if !c.reqState.cd.Done() {
		if -c.reqState.drainLeft-1 > c.lp.srv.cfg.MaxDrain {
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
	r.reset(c, c.reqState.h, c.reqState.p, body)
	err, panicked := c.runHandler(r)
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
	c.requestDone(r, err)
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
	c.requestDone(r, nil)
	r.p = nil
	if !keep {
		c.closeAfterReply()
	}
	return keep
}

// chunkLimits returns the chunked decoder limits for a body capped at limit.
func (s *Server) chunkLimits(limit int64) hc.Limits {
	l := s.limits
	l.MaxBodySize = limit
	return l
}
