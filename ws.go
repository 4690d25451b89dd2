package httpd

import (
	"bytes"
	"errors"
	"slices"

	hc "github.com/evhttpd/httpd/codec/http"
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
)

// wsConn is the state an upgraded session keeps for its life (loop only).
// The state of a frame or message being received lives in a wsIn borrowed
// from the loop, so an idle WebSocket session holds no parser state and no
// buffer.
type wsConn struct {
	h         *handler
	fl        *wsFlate // set when permessage-deflate was negotiated
	in        *wsIn    // frame or message in progress; nil between messages
	subproto  int32    // index in h.Subprotocols of the chosen one, -1 for none
	closeSent bool
}

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

// wsIn is the receive state of a WebSocket session while a frame header,
// a frame or a fragmented message is incomplete (loop only, pooled).
type wsIn struct {
	fp     ws.FrameParser
	seq    ws.Sequencer
	utf    ws.UTF8Validator
	hdr    ws.Header // frame in progress
	pos    int64     // payload bytes of hdr consumed
	inBody bool      // reading hdr's payload
	msg    []byte    // message reassembly (pooled), nil when idle
	ctrl   []byte    // partial control payload (pooled), nil when idle
}

// idle reports whether in holds nothing between two messages.
func (in *wsIn) idle() bool {
	return !in.inBody && in.fp.Idle() && !in.seq.InMessage() && in.msg == nil && in.ctrl == nil
}

// getWSIn borrows receive state for w from the loop.
func (lp *loop) getWSIn(w *wsConn) *wsIn {
	in, _ := lp.wsIns.get()
	in.fp.Config = ws.ParserConfig{AllowRSV1: w.fl != nil, RequireMask: true}
	in.seq.MaxFragments = w.h.WSMaxFragments
	in.seq.Init(w.maxMsg())
	return in
}

// putWSIn returns receive state to the loop, releasing its buffers.
func (lp *loop) putWSIn(in *wsIn) {
	if in.msg != nil {
		lp.putBuf(in.msg)
	}
	if in.ctrl != nil {
		lp.putBuf(in.ctrl)
	}
	*in = wsIn{}
	lp.wsIns.put(in)
}

// wsFlate is a session's permessage-deflate state, allocated only when the
// extension is negotiated.
type wsFlate struct {
	comp   ws.Compressor
	decomp ws.Decompressor
}

// readWS parses and delivers frames, borrowing receive state from the loop
// while a frame or message is incomplete.
func (c *Session) readWS() bool {
	w := c.ws
	if w.in == nil {
		if c.inBuffered() == 0 {
			return false
		}
		w.in = c.lp.getWSIn(w)
	}
	in := w.in
	more := c.readFrame(w, in)
	if w.in == in && (in.idle() || c.closing || c.st != stWS) {
		w.in = nil
		c.lp.putWSIn(in)
	}
	return more
}

// readFrame parses and delivers what the input holds of one frame.
func (c *Session) readFrame(w *wsConn, in *wsIn) bool {
	b := c.inPeek()
	if len(b) == 0 {
		return false
	}
	if !in.inBody {
		n, h, err := in.fp.ParseHeader(b)
		if err == ws.ErrNeedMore {
			c.inDiscard(n)
			return false
		}
		if err != nil {
			c.wsFail(err)
			return false
		}
		c.inDiscard(n)
		if d := c.lp.srv.cfg.WSIdleTimeout; d > 0 {
			c.idleDL = c.lp.now + int64(d)
		}
		if err := in.seq.Frame(h); err != nil {
			c.wsFail(err)
			return false
		}
		in.hdr, in.pos, in.inBody = h, 0, true
		if h.Op.IsData() {
			in.utf.Reset()
		}
		if h.Length > 0 {
			return true
		}
		b = nil
	}
	h := &in.hdr
	k := h.Length - in.pos
	if int64(len(b)) < k {
		k = int64(len(b))
	}
	p := b[:k]
	if h.Masked {
		ws.Mask(h.Mask, int(in.pos), p)
	}
	in.pos += k
	done := in.pos == h.Length
	if h.Op.IsControl() {
		if !done || in.ctrl != nil {
			if in.ctrl == nil {
				in.ctrl = c.lp.getBuf(125)
			}
			in.ctrl = append(in.ctrl, p...)
		}
		if !done {
			c.inDiscard(int(k))
			return false
		}
		payload := p
		if in.ctrl != nil {
			payload = in.ctrl
		}
		in.inBody = false
		c.wsControl(h.Op, payload)
		if in.ctrl != nil {
			c.lp.putBuf(in.ctrl)
			in.ctrl = nil
		}
		c.inDiscard(int(k))
		return !c.closing && c.st == stWS
	}
	compressed := in.seq.Compressed()
	text := in.seq.MessageOp() == ws.OpText
	if text && !compressed && !in.utf.Write(p) {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	if w.h.WSFrames && !compressed {
		return c.wsFrameDelivery(in, p, k, done)
	}
	msgDone := done && h.Fin
	if msgDone && in.msg == nil && !compressed {
		// Fast path: a whole unfragmented message in the input: no copy.
		in.inBody = false
		if text && !in.utf.Done() {
			c.wsFail(ws.ErrInvalidUTF8)
			return false
		}
		c.wsDeliver(WSFrame{Type: in.seq.MessageOp(), Final: true, Payload: p})
		c.inDiscard(int(k))
		return !c.closing && c.st == stWS
	}
	if in.msg == nil {
		in.msg = c.lp.getBuf(int(min(in.seq.MessageSize(), 64<<10)))
	}
	in.msg = append(in.msg, p...)
	c.inDiscard(int(k))
	if !done {
		return false
	}
	in.inBody = false
	if !h.Fin {
		return true
	}
	msg := in.msg
	if compressed {
		out, err := w.fl.decomp.Decompress(c.lp.inflate[:0], msg, w.maxMsg())
		if err != nil {
			c.wsFail(err)
			return false
		}
		c.lp.inflate = out[:0]
		if text && !ws.ValidUTF8(out) {
			c.wsFail(ws.ErrInvalidUTF8)
			return false
		}
		msg = out
	} else if text && !in.utf.Done() {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	c.wsDeliver(WSFrame{Type: in.seq.MessageOp(), Final: true, Payload: msg})
	if in.msg != nil {
		c.lp.putBuf(in.msg)
		in.msg = nil
	}
	if cap(c.lp.inflate) > 1<<20 {
		c.lp.inflate = nil
	}
	return !c.closing && c.st == stWS
}

// wsFrameDelivery hands each complete frame to a handler that asked for
// frames (URIHandler.WSFrames): a frame split across reads is gathered first.
func (c *Session) wsFrameDelivery(in *wsIn, p []byte, k int64, done bool) bool {
	h := &in.hdr
	if !done || in.msg != nil {
		if in.msg == nil {
			in.msg = c.lp.getBuf(int(min(h.Length, 64<<10)))
		}
		in.msg = append(in.msg, p...)
		c.inDiscard(int(k))
		if !done {
			return false
		}
		p = in.msg
		k = 0
	}
	in.inBody = false
	if h.Fin && in.seq.MessageOp() == ws.OpText && !in.utf.Done() {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	c.wsDeliver(WSFrame{Type: h.Op, Final: h.Fin, Fragmented: !(h.Fin && h.Op != ws.OpContinuation), Payload: p})
	if k > 0 {
		c.inDiscard(int(k))
	}
	if in.msg != nil {
		c.lp.putBuf(in.msg)
		in.msg = nil
	}
	return !c.closing && c.st == stWS
}

// wsControl answers or delivers a control frame.
func (c *Session) wsControl(op ws.Opcode, payload []byte) {
	w := c.ws
	var code ws.StatusCode
	if op == ws.OpClose {
		var err error
		code, _, err = ws.ParseClosePayload(payload)
		if err != nil {
			c.wsFail(err)
			return
		}
	}
	if w.h.HandleWSControlFrames {
		c.wsDeliver(WSFrame{Type: op, Final: true, Payload: payload})
		if c.closing || c.ws == nil {
			return
		}
	} else if op == ws.OpPing && !w.closeSent {
		c.lp.out = ws.AppendFrame(c.lp.out, ws.OpPong, true, 0, payload)
	}
	if op != ws.OpClose {
		return
	}
	// RFC 6455 §5.5.1: answer a close with a close, echoing the code.
	if !w.closeSent {
		if code == ws.StatusNoStatusRcvd {
			code = 0
		}
		c.lp.out = ws.AppendClose(c.lp.out, code, "")
		w.closeSent = true
	}
	c.wsFinish()
}

// wsDeliver runs the handler for one frame or message.
func (c *Session) wsDeliver(f WSFrame) {
	r := &c.lp.req
	r.reset(c, c.ws.h, nil, nil)
	r.wsFrame = f
	r.isWS = true
	c.inHandler = true
	err, panicked := c.lp.srv.callHandler(c, r)
	c.inHandler = false
	c.lru.Store(c.lp.stamp())
	r.isWS = false
	r.wsFrame = WSFrame{}
	if (err != nil || panicked) && !c.closing && c.ws != nil {
		c.lp.srv.log.Debug("httpd: WebSocket handler failed; closing", "session", c.id, "err", err)
		c.wsClose(ws.StatusInternalError, "")
	}
}

// wsFail closes the connection for a protocol violation with its close code.
func (c *Session) wsFail(err error) {
	code := ws.StatusProtocolError
	var pe *ws.ProtocolError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	c.lp.srv.log.Debug("httpd: WebSocket protocol error", "session", c.id, "err", err)
	if f := c.lp.srv.cfg.OnEvent; f != nil {
		f(Event{Kind: EventError, ID: c.id, Fd: c.ec.Fd(), Err: err})
	}
	c.wsClose(code, "")
}

// wsClose sends a close frame (once) and ends the session after it.
func (c *Session) wsClose(code ws.StatusCode, reason string) {
	w := c.ws
	if !w.closeSent {
		c.lp.out = ws.AppendClose(c.lp.out, code, reason)
		w.closeSent = true
	}
	c.wsFinish()
}

// wsFinish shuts the write side after the close frame and lingers briefly.
func (c *Session) wsFinish() {
	c.wsRelease()
	c.flush()
	c.st = stLinger
	_ = c.ec.CloseWrite()
	c.idleDL = 0
	c.rq().lingerDL = c.lp.now + int64(c.lp.srv.cfg.LingerTimeout)
}

// wsRelease returns the session's WebSocket buffers and flate state.
func (c *Session) wsRelease() {
	w := c.ws
	if w == nil {
		return
	}
	if in := w.in; in != nil {
		if in.msg != nil {
			c.lp.putBuf(in.msg)
			in.msg = nil
		}
		if in.ctrl != nil {
			c.lp.putBuf(in.ctrl)
			in.ctrl = nil
		}
	}
	if w.fl != nil {
		w.fl.comp.Release()
		w.fl.decomp.Release()
	}
}

// IsWSHandshake reports whether the request is the opening handshake of a
// WebSocket endpoint (ESP's req->method == HTTP_GET in a ws handler). A
// handler that sends a reply here refuses the upgrade; returning nil
// without a reply accepts it.
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
// httpd_ws_send_frame). Sending a WSClose frame starts the closing
// handshake; the payload of a close frame is the status code and reason
// (use WSCloseFrame).
func (r *Request) WSSend(f WSFrame) error { return r.s.WSSend(f) }

// WSSend sends a frame on the session; see Request.WSSend. On the session's
// loop only: use Server.WSSendAsync from other goroutines.
func (c *Session) WSSend(f WSFrame) error {
	w := c.ws
	if w == nil {
		return ErrNotWebSocket
	}
	if w.closeSent || c.closing {
		return ErrWSClosing
	}
	fin := !f.Fragmented || f.Final
	if f.Type.IsControl() {
		if len(f.Payload) > 125 || !fin {
			return ws.ErrControlTooLong
		}
	} else if !f.Type.IsData() && f.Type != ws.OpContinuation {
		return ws.ErrReservedOpcode
	}
	payload := f.Payload
	var rsv byte
	if w.fl != nil && f.Type.IsData() && !f.Fragmented && len(payload) >= wsCompressMin {
		out, err := w.fl.comp.Compress(c.lp.deflate[:0], payload)
		if err == nil {
			c.lp.deflate = out[:0]
			payload, rsv = out, 0x4
		}
	}
	c.lp.out = ws.AppendFrame(c.lp.out, f.Type, fin, rsv, payload)
	if cap(c.lp.deflate) > 1<<20 {
		c.lp.deflate = nil
	}
	c.emit(EventSentData, len(f.Payload))
	if f.Type == ws.OpClose {
		w.closeSent = true
		c.wsFinish()
		return nil
	}
	if !c.inHandler {
		c.flush()
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
// through the session's loop in the order queued. A stale id returns
// ErrStaleSession.
func (s *Server) WSSendAsync(id SessionID, f WSFrame) error {
	f.Payload = append([]byte(nil), f.Payload...)
	return s.enqueue(id, kindWork, func(c *Session) {
		_ = c.WSSend(f)
	})
}

// wsHandshake validates an opening handshake (RFC 6455 §4.2.1) and reports
// the status to refuse it with, 0 if it is acceptable.
func (c *Session) wsHandshake(b []byte, n int) bool {
	p := c.x.p
	h := c.x.h
	s := c.lp.srv
	status, vers := 0, false
	var key []byte
	keys := 0
	var protos, exts [8][]byte
	np, ne := 0, 0
	for i := 0; i < p.NumHeaders(); i++ {
		name, v := p.HeaderAt(i)
		switch {
		case hc.EqualFold(name, "Sec-WebSocket-Key"):
			key = v
			keys++
		case hc.EqualFold(name, "Sec-WebSocket-Version"):
			vers = vers || string(v) == "13"
			if string(v) != "13" {
				vers = false
				status = 426
			}
		case hc.EqualFold(name, "Sec-WebSocket-Protocol"):
			if np < len(protos) {
				protos[np] = v
				np++
			}
		case hc.EqualFold(name, "Sec-WebSocket-Extensions"):
			if ne < len(exts) {
				exts[ne] = v
				ne++
			}
		}
	}
	switch {
	case string(p.Method()) != "GET" || p.Minor() == 0,
		!ws.HasToken(p.Header("Upgrade"), "websocket"),
		!ws.HasToken(p.Header("Connection"), "upgrade"),
		p.ContentLength() > 0 || p.Chunked():
		status = 400
	case !vers || status == 426:
		status = 426
	case keys != 1 || !ws.ValidKey(key):
		status = 400
	}
	if status == 0 {
		if h.WSCheckOrigin != nil {
			r := &c.lp.req
			r.reset(c, h, p, nil)
			if !h.WSCheckOrigin(r) {
				status = 403
			}
		} else if o := p.Header("Origin"); o != nil && !sameOrigin(o, p.EffectiveHost()) {
			status = 403
		}
	}
	if status != 0 {
		return c.wsRefuse(status, b, n)
	}
	w := &wsConn{h: h}
	w.subproto = -1
	if sp, ok := ws.SelectSubprotocolFields(protos[:np], h.Subprotocols); ok {
		w.subproto = int32(slices.Index(h.Subprotocols, sp))
	}
	var extResp []byte
	if h.WSDeflate != nil && ne > 0 {
		params, resp, ok := ws.NegotiateDeflate(exts[:ne], *h.WSDeflate)
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
	c.inHandler = true
	err, panicked := s.callHandler(c, r)
	c.inHandler = false
	r.wsHandshake = false
	if err != nil || panicked || r.headSent {
		c.ws = nil
		if w.fl != nil {
			w.fl.comp.Release()
			w.fl.decomp.Release()
		}
		keep := r.finish(err, panicked)
		r.p = nil
		return c.skipBody(keep, n)
	}
	out := append(c.lp.out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	out = ws.AcceptKey(out, key)
	out = append(out, "\r\n"...)
	if sp := w.subprotocol(); sp != "" {
		out = append(out, "Sec-WebSocket-Protocol: "...)
		out = append(out, sp...)
		out = append(out, "\r\n"...)
	}
	if extResp != nil {
		out = append(out, "Sec-WebSocket-Extensions: "...)
		out = append(out, extResp...)
		out = append(out, "\r\n"...)
	}
	out = append(out, r.hdrs...)
	out = append(out, "\r\n"...)
	c.lp.out = out
	r.p = nil
	c.aflags.Or(flagUpgraded)
	c.lru.Store(c.lp.stamp())
	c.inDiscard(n)
	c.st = stWS
	c.x.h = nil
	c.releaseRequest()
	c.x.headDL, c.x.recvDL, c.idleDL = 0, 0, 0
	c.idleDL = 0
	if d := s.cfg.WSIdleTimeout; d > 0 {
		c.idleDL = c.lp.now + int64(d)
	}
	c.emit(EventHeadersSent, 0)
	return true
}

// wsRefuse answers a handshake that cannot be accepted; the request was
// well framed, so the session stays open unless the reply says otherwise.
func (c *Session) wsRefuse(status int, b []byte, n int) bool {
	r := &c.lp.req
	r.reset(c, nil, c.x.p, nil)
	if status == 426 {
		_ = r.SetHeader("Sec-WebSocket-Version", "13")
	}
	keep := c.replyErrorReq(r, status, "", false)
	return c.skipBody(keep, n)
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to (RFC 6454 §4: scheme, host and port; the scheme is not known
// behind a transport, so host and port are compared).
func sameOrigin(origin, host []byte) bool {
	i := bytes.Index(origin, []byte("://"))
	if i < 0 || len(host) == 0 {
		return false
	}
	o := origin[i+3:]
	if j := bytes.IndexByte(o, '/'); j >= 0 {
		o = o[:j]
	}
	return bytes.EqualFold(o, host)
}
