package httpd

import (
	"bytes"
	"errors"

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

// wsConn is the state of an upgraded session (loop only). It holds no
// buffer while no message is in progress.
type wsConn struct {
	h      *handler
	fp     ws.FrameParser
	seq    ws.Sequencer
	utf    ws.UTF8Validator
	hdr    ws.Header // frame in progress
	pos    int64     // payload bytes of hdr consumed
	inBody bool      // reading hdr's payload
	msg    []byte    // message reassembly (pooled), nil when idle
	ctrl   []byte    // partial control payload (pooled), nil when idle
	maxMsg int64

	deflate bool
	fl      *wsFlate // set when permessage-deflate was negotiated

	closeSent bool
	subproto  string
}

// wsFlate is a session's permessage-deflate state, allocated only when the
// extension is negotiated.
type wsFlate struct {
	comp   ws.Compressor
	decomp ws.Decompressor
}

// readWS parses and delivers frames.
func (c *Session) readWS() bool {
	w := c.ws
	b := c.inPeek()
	if len(b) == 0 {
		return false
	}
	if !w.inBody {
		n, h, err := w.fp.ParseHeader(b)
		if err == ws.ErrNeedMore {
			c.inDiscard(n)
			return false
		}
		if err != nil {
			c.wsFail(err)
			return false
		}
		c.inDiscard(n)
		if d := c.srv.cfg.WSIdleTimeout; d > 0 {
			c.idleDL = c.lp.now + int64(d)
		}
		if err := w.seq.Frame(h); err != nil {
			c.wsFail(err)
			return false
		}
		w.hdr, w.pos, w.inBody = h, 0, true
		if h.Op.IsData() {
			w.utf.Reset()
		}
		if h.Length > 0 {
			return true
		}
		b = nil
	}
	h := &w.hdr
	k := h.Length - w.pos
	if int64(len(b)) < k {
		k = int64(len(b))
	}
	p := b[:k]
	if h.Masked {
		ws.Mask(h.Mask, int(w.pos), p)
	}
	w.pos += k
	done := w.pos == h.Length
	if h.Op.IsControl() {
		if !done || w.ctrl != nil {
			if w.ctrl == nil {
				w.ctrl = c.lp.getBuf(125)
			}
			w.ctrl = append(w.ctrl, p...)
		}
		if !done {
			c.inDiscard(int(k))
			return false
		}
		payload := p
		if w.ctrl != nil {
			payload = w.ctrl
		}
		w.inBody = false
		c.wsControl(h.Op, payload)
		if w.ctrl != nil {
			c.lp.putBuf(w.ctrl)
			w.ctrl = nil
		}
		c.inDiscard(int(k))
		return !c.closing && c.st == stWS
	}
	compressed := w.seq.Compressed()
	text := w.seq.MessageOp() == ws.OpText
	if text && !compressed && !w.utf.Write(p) {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	if w.h.WSFrames && !compressed {
		return c.wsFrameDelivery(p, k, done)
	}
	msgDone := done && h.Fin
	if msgDone && w.msg == nil && !compressed {
		// Fast path: a whole unfragmented message in the input: no copy.
		w.inBody = false
		if text && !w.utf.Done() {
			c.wsFail(ws.ErrInvalidUTF8)
			return false
		}
		c.wsDeliver(WSFrame{Type: w.seq.MessageOp(), Final: true, Payload: p})
		c.inDiscard(int(k))
		return !c.closing && c.st == stWS
	}
	if w.msg == nil {
		w.msg = c.lp.getBuf(int(min(w.seq.MessageSize(), 64<<10)))
	}
	w.msg = append(w.msg, p...)
	c.inDiscard(int(k))
	if !done {
		return false
	}
	w.inBody = false
	if !h.Fin {
		return true
	}
	msg := w.msg
	if compressed {
		out, err := w.fl.decomp.Decompress(c.lp.inflate[:0], msg, w.maxMsg)
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
	} else if text && !w.utf.Done() {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	c.wsDeliver(WSFrame{Type: w.seq.MessageOp(), Final: true, Payload: msg})
	if c.ws != nil && c.ws.msg != nil {
		c.lp.putBuf(c.ws.msg)
		c.ws.msg = nil
	}
	if cap(c.lp.inflate) > 1<<20 {
		c.lp.inflate = nil
	}
	return !c.closing && c.st == stWS
}

// wsFrameDelivery hands each complete frame to a handler that asked for
// frames (URIHandler.WSFrames): a frame split across reads is gathered first.
func (c *Session) wsFrameDelivery(p []byte, k int64, done bool) bool {
	w := c.ws
	h := &w.hdr
	if !done || w.msg != nil {
		if w.msg == nil {
			w.msg = c.lp.getBuf(int(min(h.Length, 64<<10)))
		}
		w.msg = append(w.msg, p...)
		c.inDiscard(int(k))
		if !done {
			return false
		}
		p = w.msg
		k = 0
	}
	w.inBody = false
	if h.Fin && w.seq.MessageOp() == ws.OpText && !w.utf.Done() {
		c.wsFail(ws.ErrInvalidUTF8)
		return false
	}
	c.wsDeliver(WSFrame{Type: h.Op, Final: h.Fin, Fragmented: !(h.Fin && h.Op != ws.OpContinuation), Payload: p})
	if k > 0 {
		c.inDiscard(int(k))
	}
	if c.ws != nil && c.ws.msg != nil {
		c.lp.putBuf(c.ws.msg)
		c.ws.msg = nil
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
	err, panicked := c.srv.callHandler(c, r)
	c.inHandler = false
	c.lru.Store(c.lp.stamp())
	r.isWS = false
	r.wsFrame = WSFrame{}
	if (err != nil || panicked) && !c.closing && c.ws != nil {
		c.srv.log.Debug("httpd: WebSocket handler failed; closing", "session", c.id, "err", err)
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
	c.srv.log.Debug("httpd: WebSocket protocol error", "session", c.id, "err", err)
	if f := c.srv.cfg.OnEvent; f != nil {
		f(Event{Kind: EventError, ID: c.id, Fd: c.fd, Err: err})
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
	c.lingerDL = c.lp.now + int64(c.srv.cfg.LingerTimeout)
}

// wsRelease returns the session's WebSocket buffers and flate state.
func (c *Session) wsRelease() {
	w := c.ws
	if w == nil {
		return
	}
	if w.msg != nil {
		c.lp.putBuf(w.msg)
		w.msg = nil
	}
	if w.ctrl != nil {
		c.lp.putBuf(w.ctrl)
		w.ctrl = nil
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
	return r.s.ws.subproto
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
	if w.deflate && f.Type.IsData() && !f.Fragmented && len(payload) >= wsCompressMin {
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
	p := c.p
	h := c.h
	s := c.srv
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
		} else if o := p.Header("Origin"); o != nil && !sameOrigin(o, p.Host()) {
			status = 403
		}
	}
	if status != 0 {
		return c.wsRefuse(status, b, n)
	}
	w := &wsConn{h: h, maxMsg: h.WSMaxMessage}
	if w.maxMsg <= 0 {
		w.maxMsg = DefaultWSMaxMessage
	}
	w.subproto, _ = ws.SelectSubprotocolFields(protos[:np], h.Subprotocols)
	var extResp []byte
	if h.WSDeflate != nil && ne > 0 {
		params, resp, ok := ws.NegotiateDeflate(exts[:ne], *h.WSDeflate)
		fl := &wsFlate{}
		if ok && fl.comp.Init(params.ServerMaxWindowBits, !params.ServerNoContextTakeover, h.WSDeflate.Level) == nil &&
			fl.decomp.Init(params.ClientMaxWindowBits, !params.ClientNoContextTakeover) == nil {
			w.deflate, w.fl = true, fl
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
		c.consume(n)
		if !keep {
			c.closeAfterReply()
		}
		return !c.closing && c.st == stHead
	}
	out := append(c.lp.out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	out = ws.AcceptKey(out, key)
	out = append(out, "\r\n"...)
	if w.subproto != "" {
		out = append(out, "Sec-WebSocket-Protocol: "...)
		out = append(out, w.subproto...)
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
	w.fp.Config = ws.ParserConfig{AllowRSV1: w.deflate, RequireMask: true}
	w.seq.MaxFragments = h.WSMaxFragments
	w.seq.Init(w.maxMsg)
	c.upgrade.Store(true)
	c.served++
	c.lru.Store(c.lp.stamp())
	c.inDiscard(n)
	c.st = stWS
	c.h = nil
	c.releaseRequest()
	c.headDL, c.recvDL, c.idleDL = 0, 0, 0
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
	r.reset(c, nil, c.p, nil)
	if status == 426 {
		_ = r.SetHeader("Sec-WebSocket-Version", "13")
	}
	keep := c.replyErrorReq(r, status, "", false)
	if c.closing || c.st == stLinger {
		return false
	}
	c.consume(n)
	return keep && !c.closing
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
