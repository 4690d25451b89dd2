package httpd

// This file holds a session's WebSocket side: the public API (WSFrame,
// WSSend, WSSendAsync, the handshake accessors) and the glue between the
// loop and codec/ws, which owns the protocol: the handshake rules
// (ws.CheckHandshake, ws.AppendAccept) and message assembly (ws.Reader).

import (
	"errors"
	"slices"

	"github.com/evhttpd/httpd/codec/ws"
)

// WebSocket frame types, as esp_http_server's httpd_ws_type_t.
const (
	WSContinue = ws.OpContinuation
	WSText     = ws.OpText
	WSBinary   = ws.OpBinary
	WSClose    = ws.OpClose
	WSPing     = ws.OpPing
	WSPong     = ws.OpPong
)

// DefaultWSMaxMessage caps a WebSocket message unless the handler sets
// URIHandler.WSMaxMessage.
const DefaultWSMaxMessage = 1 << 20

// WSFrame is a WebSocket frame or message (ESP's httpd_ws_frame_t).
type WSFrame struct {
	// Type is the opcode: WSText, WSBinary, WSContinue (frame delivery and
	// fragmented sends), WSPing, WSPong or WSClose.
	Type ws.Opcode
	// Final is set on the last frame of a message. Received whole messages
	// are always final. When sending with Fragmented set, it ends the message.
	Final bool
	// Fragmented marks a frame sent as part of a fragmented message (ESP's
	// fragmented flag): the first carries WSText or WSBinary, the next ones
	// WSContinue, the last has Final set. Without it, a frame is a whole
	// message.
	Fragmented bool
	// Payload is the frame's data. In a received frame it is valid until the
	// handler returns; sends copy it before returning.
	Payload []byte
}

// WebSocket errors.
var (
	ErrNotWebSocket = errors.New("httpd: not a WebSocket session")
	ErrWSClosing    = errors.New("httpd: WebSocket close already sent")
	// ErrWSRefused is the error of the EventError a handler's refusal of
	// an opening handshake emits (a reply, an error or a panic during
	// IsWSHandshake), joined with the handler's error if it returned one.
	ErrWSRefused = errors.New("httpd: WebSocket handshake refused by the handler")
)

// Frames RFC 6455 forbids a server to send. WSSend refuses them with these
// errors and sends nothing; the session and a fragmented message in
// progress stay as they were.
var (
	// ErrWSInvalidUTF8: a text frame, or the text message its fragments
	// assemble, that is not UTF-8 (§5.6, §8.1). Fragments are checked as
	// they are sent: a code point may span two fragments, and the final
	// fragment must end on a code point boundary.
	ErrWSInvalidUTF8 = errors.New("httpd: WebSocket text is not valid UTF-8")
	// ErrWSNoMessage: a WSContinue frame while no fragmented message is in
	// progress (§5.4).
	ErrWSNoMessage = errors.New("httpd: WebSocket continuation without a fragmented message in progress")
	// ErrWSMessageOpen: a WSText or WSBinary frame while a fragmented message
	// is unfinished (§5.4: fragments of messages are not interleaved).
	ErrWSMessageOpen = errors.New("httpd: WebSocket data frame inside an unfinished fragmented message")
	// ErrWSControlFrame: a control frame with more than 125 bytes of payload
	// or sent as a fragment (§5.5).
	ErrWSControlFrame = errors.New("httpd: WebSocket control frame over 125 bytes or fragmented")
	// ErrWSClosePayload: a close payload of one byte, with a code that may
	// not be sent, or a reason that is not UTF-8 (§5.5.1, §7.4); use
	// WSCloseFrame.
	ErrWSClosePayload = errors.New("httpd: WebSocket close payload invalid")
	// ErrWSOpcode: a reserved opcode (§5.2).
	ErrWSOpcode = errors.New("httpd: WebSocket opcode reserved")
)

// wsConn is the state an upgraded session keeps for its life (loop only),
// 32 bytes. The state of a frame or message being received lives in a
// ws.Reader borrowed from the loop, so an idle WebSocket session holds no
// parser state and no buffer.
type wsConn struct {
	h        *handler
	fl       *wsFlate // set when permessage-deflate was negotiated
	in       *wsIn    // frame or message in progress; nil between messages
	subproto int16    // index in h.Subprotocols of the chosen one, -1 for none
	flags    uint8    // wsCloseSent, wsHandshaking
	// Send state: the data message being sent in fragments (WSText or
	// WSBinary, 0 for none) and the UTF-8 state of its text.
	sendOp  ws.Opcode
	sendUTF ws.UTF8Validator
}

// wsConn.flags.
const (
	wsCloseSent   uint8 = 1 << iota // a close frame was sent: no more frames
	wsHandshaking                   // the handler runs for the handshake: frames wait for the 101
)

func (w *wsConn) closeSent() bool { return w.flags&wsCloseSent != 0 }

// subprotocol returns the subprotocol chosen at the handshake, "" if none.
func (w *wsConn) subprotocol() string {
	if w.subproto < 0 {
		return ""
	}
	return w.h.Subprotocols[w.subproto]
}

// maxMsg is the session's message size cap.
func (w *wsConn) maxMsg() int64 {
	if w.h.WSMaxMessage > 0 {
		return w.h.WSMaxMessage
	}
	return DefaultWSMaxMessage
}

// wsIn is a WebSocket session's receive state while a frame or message is
// incomplete: codec/ws's Reader, borrowed from the loop (lp.wsIns).
type wsIn = ws.Reader

// getWSIn borrows receive state for w from the loop.
func (lp *loop) getWSIn(w *wsConn) *wsIn {
	if in := lp.wsLast; in != nil && lp.wsLastH == w.h && lp.wsLastFl == w.fl {
		// The Reader the loop's last message used, configured for the
		// same endpoint and decompressor: the usual case, at no lookup.
		lp.wsLast = nil
		return in
	}
	in, _ := lp.wsIns.get()
	var inflate *ws.Decompressor
	if w.fl != nil {
		inflate = &w.fl.decomp
	}
	max := w.maxMsg()
	if c := in.Config(); c.Pool != nil && c.MaxMessage == max && c.MaxFragments == w.h.WSMaxFragments &&
		c.Frames == w.h.WSFrames && c.Inflate == inflate {
		// Configured alike for its last message (a Reader of this loop,
		// so Pool is this loop's), and putWSIn's Release reset the rest:
		// the usual case of one endpoint's messages, at no Init.
		return in
	}
	in.Init(ws.ReaderConfig{
		MaxMessage:   max,
		MaxFragments: w.h.WSMaxFragments,
		Frames:       w.h.WSFrames,
		Pool:         wsBufs{lp},
		Inflate:      inflate,
	})
	return in
}

// putWSIn returns receive state to the loop (kept as wsLast for w's
// endpoint when that slot is free, else in the free list) and its buffers
// to the loop's free list. Its configuration stays until the next getWSIn replaces it
// (a pointer to the last session's decompressor, whose dictionary was
// released or stays with that session): clearing it would cost as much
// as the rest of a small message's bookkeeping.
func (lp *loop) putWSIn(in *wsIn, w *wsConn) {
	in.Release()
	if lp.wsLast == nil {
		lp.wsLast, lp.wsLastH, lp.wsLastFl = in, w.h, w.fl
		return
	}
	lp.wsIns.put(in)
}

// wsBufs lends a Reader the loop's message buffers (getBuf, putBuf).
type wsBufs struct{ lp *loop }

func (b wsBufs) Get(n int) []byte { return b.lp.getBuf(n) }
func (b wsBufs) Put(p []byte)     { b.lp.putBuf(p) }

// wsFlate is a session's permessage-deflate state, allocated only when the
// extension is negotiated.
type wsFlate struct {
	comp   ws.Compressor
	decomp ws.Decompressor
}

// readWS hands what the input holds to the session's Reader and delivers
// at most one message, borrowing the Reader from the loop while a frame or
// message is incomplete.
func (c *Session) readWS() bool {
	w := c.ws
	b := c.inPeek()
	if len(b) == 0 {
		return false
	}
	if w.in == nil {
		w.in = c.lp.getWSIn(w)
	}
	in := w.in
	n, m, err := in.Read(b)
	if d := c.lp.srv.cfg.WSIdleTimeout; d > 0 && n > 0 {
		c.idleDL = c.lp.now + int64(d)
	}
	more := false
	switch {
	case err == ws.ErrNeedMore:
		c.inDiscard(n)
	case err != nil:
		c.wsFail(err)
	default:
		// m.Payload may point into b: deliver before discarding.
		if m.Op.IsControl() {
			c.wsControl(m)
		} else {
			c.wsDeliver(WSFrame{Type: m.Op, Final: m.Fin, Fragmented: !(m.Fin && m.Op != ws.OpContinuation), Payload: m.Payload})
		}
		c.inDiscard(n)
		more = !c.closing && c.st == stWS
	}
	if w.in == in && (in.Idle() || c.closing || c.st != stWS) {
		w.in = nil
		c.lp.putWSIn(in, w)
	}
	return more
}

// wsControl answers or delivers a control frame (its close payload was
// checked by the Reader).
func (c *Session) wsControl(m ws.Message) {
	w := c.ws
	if w.h.HandleWSControlFrames {
		c.wsDeliver(WSFrame{Type: m.Op, Final: true, Payload: m.Payload})
		if c.closing || c.ws == nil {
			return
		}
	} else if m.Op == ws.OpPing && !w.closeSent() {
		// RFC 6455 §5.5.3: a pong carries the ping's application data.
		c.lp.out = ws.AppendFrame(c.lp.out, ws.OpPong, true, 0, m.Payload)
	}
	if m.Op != ws.OpClose {
		return
	}
	// RFC 6455 §5.5.1: answer a close with a close, echoing the code.
	if !w.closeSent() {
		code := m.Code
		if code == ws.StatusNoStatusRcvd {
			code = 0
		}
		c.lp.out = ws.AppendClose(c.lp.out, code, "")
		w.flags |= wsCloseSent
	}
	c.wsFinish()
}

// wsDeliver runs the handler for one frame or message.
func (c *Session) wsDeliver(f WSFrame) {
	r := &c.lp.req
	r.reset(c, c.ws.h, nil, nil)
	r.wsFrame = f
	r.isWS = true
	err, panicked := c.runHandler(r)
	r.isWS = false
	r.wsFrame = WSFrame{}
	if (err != nil || panicked) && !c.closing && c.ws != nil {
		c.lp.srv.log.Debug("httpd: WebSocket handler failed; closing", "session", c.id, "err", err)
		c.wsClose(ws.StatusInternalError, "")
	}
}

// wsFail closes the connection for a protocol violation with its close code
// (RFC 6455 §7.1.7).
func (c *Session) wsFail(err error) {
	code, ok := ws.CloseCode(err)
	if !ok {
		code = ws.StatusProtocolError
	}
	c.lp.srv.log.Debug("httpd: WebSocket protocol error", "session", c.id, "err", err)
	c.emitError(0, err)
	c.wsClose(code, "")
}

// wsClose sends a close frame (once) and ends the session after it.
func (c *Session) wsClose(code ws.StatusCode, reason string) {
	w := c.ws
	if !w.closeSent() {
		c.lp.out = ws.AppendClose(c.lp.out, code, reason)
		w.flags |= wsCloseSent
	}
	c.wsFinish()
}

// wsFinish shuts the write side after the close frame and lingers briefly:
// the client reads the close, answers it if it likes, and closes its side,
// which ends the session (RFC 6455 §7.1.1: the server closes the TCP
// connection first).
func (c *Session) wsFinish() {
	if c.st != stWS {
		return // finished already
	}
	c.wsRelease()
	c.flush()
	c.st = stLinger
	_ = c.ec.CloseWrite()
	c.idleDL = 0
	c.rq().lingerDL = c.lp.now + int64(c.lp.srv.cfg.LingerTimeout)
}

// wsGoAway starts the closing handshake of an upgraded session for
// Shutdown: close 1001 (RFC 6455 §7.4.1 "going away"). The client's answer
// is awaited until Shutdown's context ends rather than LingerTimeout;
// Shutdown closes what is left then.
func (c *Session) wsGoAway() {
	if c.ws == nil || c.st != stWS || c.closing {
		return
	}
	c.wsClose(ws.StatusGoingAway, "")
	if c.st == stLinger {
		c.rq().lingerDL = 0
	}
}

// wsRelease returns the session's WebSocket buffers and flate state.
func (c *Session) wsRelease() {
	w := c.ws
	if w == nil {
		return
	}
	if w.in != nil {
		w.in.Release()
	}
	if w.fl != nil {
		w.fl.comp.Release()
		w.fl.decomp.Release()
	}
}

// IsWSHandshake reports whether the request is the opening handshake of a
// WebSocket endpoint (ESP's req->method == HTTP_GET in a ws handler). A
// handler that sends a reply here refuses the upgrade; returning nil
// without a reply accepts it. Frames it sends with WSSend go out right
// after the 101 response, in order (a welcome message).
func (r *Request) IsWSHandshake() bool { return r.wsHandshake }

// WSFrame returns the received WebSocket frame or message (ESP's
// httpd_ws_recv_frame); ok is false outside a WebSocket delivery. The
// payload is valid until the handler returns.
func (r *Request) WSFrame() (f WSFrame, ok bool) { return r.wsFrame, r.isWS }

// WSSubprotocol returns the subprotocol chosen at the handshake, "" if none.
func (r *Request) WSSubprotocol() string {
	if r.s.ws == nil {
		return ""
	}
	return r.s.ws.subprotocol()
}

// WSSend sends a frame on the request's WebSocket session (ESP's
// httpd_ws_send_frame). During the opening handshake (IsWSHandshake) the
// frame is held and written right after the 101 response; it is dropped
// if the handshake is refused. Sending a WSClose frame starts the closing
// handshake; the payload of a close frame is the status code and reason
// (use WSCloseFrame). Frames RFC 6455 forbids a server to send are refused
// with ErrWSInvalidUTF8, ErrWSNoMessage, ErrWSMessageOpen,
// ErrWSControlFrame, ErrWSClosePayload or ErrWSOpcode.
func (r *Request) WSSend(f WSFrame) error { return r.s.WSSend(f) }

// WSSend sends a frame on the session; see Request.WSSend. On the session's
// loop only: use Server.WSSendAsync from other goroutines.
func (c *Session) WSSend(f WSFrame) error {
	w := c.ws
	if w == nil {
		return ErrNotWebSocket
	}
	if w.closeSent() || c.closing {
		return ErrWSClosing
	}
	fin := !f.Fragmented || f.Final
	if err := w.checkSend(f.Type, fin, f.Payload); err != nil {
		return err
	}
	payload := f.Payload
	var rsv byte
	if w.fl != nil && f.Type.IsData() && !f.Fragmented && len(payload) >= wsCompressMin {
		out, err := w.fl.comp.Compress(c.lp.deflate[:0], payload)
		if err == nil {
			c.lp.deflate = out[:0]
			payload, rsv = out, ws.Rsv1
		}
	}
	if w.flags&wsHandshaking != 0 {
		// RFC 6455 §4.2.2: frames follow the server's handshake response,
		// which is written when the handler returns: hold them until
		// then in the request's own output buffer (unused by loop
		// handlers).
		r := &c.lp.req
		r.wbuf = ws.AppendFrame(r.wbuf, f.Type, fin, rsv, payload)
	} else {
		c.lp.out = ws.AppendFrame(c.lp.out, f.Type, fin, rsv, payload)
	}
	if cap(c.lp.deflate) > 1<<20 {
		c.lp.deflate = nil
	}
	c.emit(EventSentData, len(f.Payload))
	if f.Type == ws.OpClose {
		w.flags |= wsCloseSent
		if w.flags&wsHandshaking == 0 {
			c.wsFinish()
		}
		return nil
	}
	if !c.inHandler {
		c.flush()
	}
	return nil
}

// checkSend applies the rules of RFC 6455 a server's frame must follow
// and, when the frame passes, records the message it starts or ends.
func (w *wsConn) checkSend(op ws.Opcode, fin bool, p []byte) error {
	if !op.Valid() {
		return ErrWSOpcode
	}
	if op.IsControl() {
		// §5.5: control frames fit 125 bytes and are never fragmented.
		if len(p) > ws.MaxControlPayload || !fin {
			return ErrWSControlFrame
		}
		if op == ws.OpClose {
			if _, _, err := ws.ParseClosePayload(p); err != nil {
				return ErrWSClosePayload
			}
		}
		return nil
	}
	msgOp := op
	if op == ws.OpContinuation {
		if w.sendOp == 0 {
			return ErrWSNoMessage
		}
		msgOp = w.sendOp
	} else if w.sendOp != 0 {
		return ErrWSMessageOpen
	}
	if msgOp == ws.OpText {
		v := w.sendUTF
		if op == ws.OpText {
			v.Reset()
		}
		if !v.Write(p) || fin && !v.Done() {
			return ErrWSInvalidUTF8
		}
		w.sendUTF = v
	}
	if fin {
		w.sendOp = 0
	} else {
		w.sendOp = msgOp
	}
	return nil
}

// wsCompressMin is the smallest payload worth compressing.
const wsCompressMin = 64

// WSCloseFrame builds a close frame with a status code and reason.
func WSCloseFrame(code ws.StatusCode, reason string) WSFrame {
	return WSFrame{Type: ws.OpClose, Final: true, Payload: ws.AppendClose(nil, code, reason)[2:]}
}

// WSSendAsync sends a frame on a WebSocket session from any goroutine (ESP's
// httpd_ws_send_frame_async). The payload is copied; the frame leaves
// through the session's loop in the order queued.
//
// What can be known at the call is returned: ErrStaleSession for a closed
// session, ErrNotWebSocket for a session that is neither upgraded nor in
// its opening handshake (a frame queued during the handshake goes out after
// the 101), ErrWSControlFrame, ErrWSClosePayload, ErrWSOpcode, and
// ErrWSInvalidUTF8 for a text frame that starts a message, ErrQueueFull and
// ErrServerStopped. What only the loop can see when the frame's turn comes
// (the handshake was refused, a close was sent meanwhile, a WSContinue
// without a message, a data frame inside an unfinished message, text whose
// fragments together are not UTF-8) drops the frame and is reported through
// Config.OnEvent as an EventError with the session's ID and that error. A
// session that closes before its frames are sent drops them (counted in
// Stats.StaleWork). To learn the outcome of each send, call Session.WSSend
// inside QueueWork instead.
func (s *Server) WSSendAsync(id SessionID, f WSFrame) error {
	if s.state.Load() == stateStopped {
		return ErrServerStopped
	}
	c, ok := s.slab.Get(id)
	if !ok {
		return ErrStaleSession
	}
	if c.shared.Load()&(flagUpgraded|flagWSHandshake) == 0 {
		return ErrNotWebSocket
	}
	if f.Type != ws.OpContinuation {
		// The rules that do not depend on the message in progress.
		var alone wsConn
		if err := alone.checkSend(f.Type, !f.Fragmented || f.Final, f.Payload); err != nil {
			return err
		}
	}
	f.Payload = append([]byte(nil), f.Payload...)
	return s.enqueue(id, kindWork, func(c *Session) {
		if err := c.WSSend(f); err != nil {
			c.lp.srv.log.Debug("httpd: asynchronous WebSocket frame dropped", "session", c.id, "err", err)
			c.emitError(0, err)
		}
	})
}

// wsHandshake answers an opening handshake whose head b[:n] was routed to a
// WebSocket handler: codec/ws checks it (RFC 6455 §4.2.1), the handler
// sees it and may refuse it with a reply, else the 101 is written and the
// session is upgraded. It reports whether input processing goes on.
func (c *Session) wsHandshake(b []byte, n int) bool {
	p := c.reqState.p
	h := c.reqState.h
	s := c.lp.srv
	var hs ws.Handshake
	err := ws.CheckHandshake(p, &hs)
	if err == nil {
		if h.WSCheckOrigin != nil {
			r := &c.lp.req
			r.reset(c, h, p, nil)
			if !h.WSCheckOrigin(r) {
				err = ws.ErrHandshakeOrigin
			}
		} else {
			err = ws.CheckOrigin(hs.Origin, p.EffectiveHost())
		}
	}
	if err != nil {
		return c.wsRefuse(err, n)
	}
	w := &wsConn{h: h, subproto: -1}
	if sp, ok := ws.SelectSubprotocolFields(hs.Protocols(), h.Subprotocols); ok {
		w.subproto = int16(slices.Index(h.Subprotocols, sp))
	}
	var extResp []byte
	if exts := hs.Extensions(); h.WSDeflate != nil && len(exts) > 0 {
		params, resp, ok := ws.NegotiateDeflate(exts, *h.WSDeflate)
		fl := &wsFlate{}
		if ok && fl.comp.Init(params.ServerMaxWindowBits, !params.ServerNoContextTakeover, h.WSDeflate.Level) == nil &&
			fl.decomp.Init(params.ClientMaxWindowBits, !params.ClientNoContextTakeover) == nil {
			w.fl = fl
			extResp = resp
		}
	}
	// The handler sees the handshake first and may refuse it with a reply.
	r := &c.lp.req
	r.reset(c, h, p, nil)
	r.wsHandshake = true
	c.ws = w
	w.flags |= wsHandshaking
	c.shared.Or(flagWSHandshake)
	c.inHandler = true
	err, panicked := s.callHandler(c, r)
	c.inHandler = false
	r.wsHandshake = false
	w.flags &^= wsHandshaking
	held := r.wbuf // frames the handler sent (WSSend)
	r.wbuf = nil
	if err != nil || panicked || r.headSent {
		c.ws = nil
		c.shared.And(^uint32(flagWSHandshake))
		if w.fl != nil {
			w.fl.comp.Release()
			w.fl.decomp.Release()
		}
		keep := r.finish(err, panicked)
		c.wsRefused(r.status, err)
		r.p = nil
		return c.skipBody(keep, n)
	}
	c.lp.out = ws.AppendAccept(c.lp.out, hs.Key, w.subprotocol(), extResp, r.hdrs)
	c.lp.out = append(c.lp.out, held...)
	r.p = nil
	// Upgraded before the handshake bit goes: WSSendAsync always sees one.
	c.shared.Or(flagUpgraded)
	c.shared.And(^uint32(flagWSHandshake))
	c.touch()
	c.inDiscard(n)
	c.st = stWS
	c.reqState.h = nil
	c.releaseRequest()
	c.reqState.headDL, c.reqState.recvDL, c.idleDL = 0, 0, 0
	if d := s.cfg.WSIdleTimeout; d > 0 {
		c.idleDL = c.lp.now + int64(d)
	}
	c.emit(EventHeadersSent, 0)
	if w.closeSent() {
		c.wsFinish() // the handler closed right away
	}
	return true
}

// wsRefuse answers a handshake that codec/ws refused with the status its
// error carries (426 with Sec-WebSocket-Version: 13, RFC 6455 §4.4) and
// emits an EventError with it. The request was well framed, so the
// session stays open unless the reply says otherwise; a body is skipped,
// never parsed.
func (c *Session) wsRefuse(err error, n int) bool {
	status, ok := ws.HandshakeStatus(err)
	if !ok {
		status = 400
	}
	c.lp.srv.log.Debug("httpd: WebSocket handshake refused", "session", c.id, "status", status, "err", err)
	c.emitError(status, err)
	r := &c.lp.req
	r.reset(c, nil, c.reqState.p, nil)
	if err == ws.ErrHandshakeVersion {
		_ = r.SetHeader("Sec-WebSocket-Version", "13")
	}
	keep := c.replyErrorReq(r, status, "", false)
	return c.skipBody(keep, n)
}

// wsRefused emits the EventError of a handshake the handler refused with a
// reply of the given status, or with err.
func (c *Session) wsRefused(status int, err error) {
	if c.lp.srv.cfg.OnEvent == nil {
		return // spare the join
	}
	e := ErrWSRefused
	if err != nil {
		e = errors.Join(ErrWSRefused, err)
	}
	c.emitError(status, e)
}
