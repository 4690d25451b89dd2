package httpd

// This file holds Request: what a handler reads of the request (method,
// target, headers, query, cookies, body) and the reply it writes (status,
// headers, whole, chunked or flushed bodies).

import (
	"errors"
	"io"
	"net"
	"strconv"
	"unsafe"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/internal/ascii"
)

// Request is one HTTP request and its reply (ESP's httpd_req_t). It is valid
// only until the handler returns; every slice it hands out shares that
// lifetime: copy what you keep (bytes.Clone, strings.Clone).
type Request struct {
	s   *Session
	h   *handler
	p   *hc.Parser // nil when the head did not parse (error handlers)
	srv *Server

	body     []byte // buffered body (loop handlers)
	bodyRead int    // bytes of body returned by Recv (loop handlers)

	// Reply state.
	status     int
	reason     string
	ctype      string
	hdrs       []byte // validated "Name: value\r\n" lines
	nhdrs      int
	headSent   bool
	chunked    bool  // the reply is chunked (SendChunk)
	fixedLen   int64 // Content-Length the handler set with SetHeader, -1 if none
	sentBody   int64 // body bytes written after the head
	done       bool  // the reply is complete
	wantClose  bool  // the reply carries Connection: close
	badReply   bool  // the reply broke its own framing: close the session
	headMethod bool  // HEAD: never write body bytes

	// Blocking handlers.
	blocking bool
	reuse    bool // a reused blockingRequest (internal/reuse)
	pinned   bool // reuse.Pin: left to the garbage collector after all
	bp       *bodyPipe
	wbuf     []byte // reply bytes produced on the worker, not yet handed to the loop
	keep     bool   // the session may stay open (set when the handler is done)

	headEvent bool // the loop emitted EventHeadersSent for a worker's reply

	// Detached replies (async.go): on the loop's Request, the handle the
	// handler took; on a detached copy, its own handle.
	async  *AsyncReply
	http10 bool // a detached reply to an HTTP/1.0 request (its parser is gone)

	// WebSocket.
	wsHandshake bool
	isWS        bool
	wsFrame     WSFrame

	// Lifecycle and net/http bridge support (requestx.go, context.go,
	// hijack.go).
	trailers   []byte      // validated "Name: value\r\n" trailer lines of a chunked reply
	noType     bool        // the reply carries no Content-Type (OmitContentType)
	closeDelim bool        // an HTTP/1.0 reply of unknown length: the close ends it
	remote     net.Addr    // worker-safe snapshots taken on the loop (Blocking)
	local      net.Addr    //
	tr         Transport   //
	hij        *hijackConn // set once a Blocking handler hijacked the connection
	recvd      int64       // body bytes Recv returned on a worker (Config.OnRequestDone)
	spare      *blockChunk // a pooled chunk whose buffer wbuf is (blocking.go)
}

// Reply errors.
var (
	ErrHeaderInvalid   = errors.New("httpd: header name or value not allowed (CR, LF, CTL or non-token)")
	ErrTooManyHeaders  = errors.New("httpd: response header limit reached")
	ErrHeadersSent     = errors.New("httpd: response headers already sent")
	ErrReplyDone       = errors.New("httpd: response already complete")
	ErrLengthMismatch  = errors.New("httpd: body length differs from the Content-Length set")
	ErrRecvTimeout     = errors.New("httpd: receive timeout")
	ErrBodyInterrupted = errors.New("httpd: body interrupted: the client closed or sent a bad body")
)

func (r *Request) reset(s *Session, h *handler, p *hc.Parser, body []byte) {
	hdrs := r.hdrs[:0]
	// Cleared in place, then set: a composite literal would be built in a
	// temporary and copied, twice the stores on every request.
	*r = Request{}
	r.s, r.h, r.p, r.srv, r.body, r.hdrs = s, h, p, s.lp.srv, body, hdrs
	r.status, r.fixedLen = 200, -1
	if p != nil {
		m := p.Method()
		r.headMethod = len(m) == 4 && string(m) == "HEAD"
	}
}

// resetReply drops whatever reply the handler started but did not send.
func (r *Request) resetReply() {
	r.status, r.reason, r.ctype = 200, "", ""
	r.hdrs, r.nhdrs = r.hdrs[:0], 0
	r.chunked, r.fixedLen, r.sentBody = false, -1, 0
	r.done, r.wantClose, r.badReply = false, false, false
	r.wbuf = r.wbuf[:0]
	r.trailers, r.noType = nil, false
}

// Session returns the session the request arrived on.
func (r *Request) Session() *Session { return r.s }

// UserCtx returns the handler's user context (ESP's user_ctx).
func (r *Request) UserCtx() any {
	if r.h == nil {
		return nil
	}
	return r.h.UserCtx
}

// SessCtx returns the session context (ESP's req->sess_ctx).
func (r *Request) SessCtx() any { return r.s.Ctx() }

// SetSessCtx sets the session context and its free function (ESP's
// req->sess_ctx and req->free_ctx); see Session.SetCtx.
func (r *Request) SetSessCtx(v any, free func(any)) { r.s.SetCtx(v, free) }

// Method returns the request method. Common methods return constant strings;
// others are copied.
func (r *Request) Method() string {
	if r.p == nil {
		return ""
	}
	return methodString(r.p.Method())
}

func methodString(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "HEAD":
		return "HEAD"
	case "DELETE":
		return "DELETE"
	case "OPTIONS":
		return "OPTIONS"
	case "PATCH":
		return "PATCH"
	}
	return string(m)
}

// URI returns the raw request-target, query included (ESP's req->uri).
func (r *Request) URI() []byte {
	if r.p == nil {
		return nil
	}
	return r.p.Target()
}

// Path returns the request-target without its query.
func (r *Request) Path() []byte {
	if r.p == nil {
		return nil
	}
	return r.p.Path()
}

// Query returns the raw query string without '?', nil if none (ESP's
// httpd_req_get_url_query_str). Nothing is decoded.
func (r *Request) Query() []byte {
	if r.p == nil {
		return nil
	}
	return r.p.RawQuery()
}

// QueryValue returns the raw value of key in the query (ESP's
// httpd_query_key_value). Nothing is decoded: see codec/http.Unescape.
func (r *Request) QueryValue(key string) ([]byte, bool) {
	return hc.QueryValue(r.Query(), key)
}

// Header returns the first value of the named header, case-insensitively,
// nil if absent (ESP's httpd_req_get_hdr_value_str).
func (r *Request) Header(name string) []byte {
	if r.p == nil {
		return nil
	}
	return r.p.Header(name)
}

// NumHeaders returns the number of header fields.
func (r *Request) NumHeaders() int {
	if r.p == nil {
		return 0
	}
	return r.p.NumHeaders()
}

// HeaderAt returns header field i in arrival order.
func (r *Request) HeaderAt(i int) (name, value []byte) { return r.p.HeaderAt(i) }

// Cookie returns the value of the named cookie (ESP's
// httpd_req_get_cookie_val).
func (r *Request) Cookie(name string) ([]byte, bool) {
	return hc.CookieValue(r.Header("Cookie"), name)
}

// ContentLength returns the declared body length, -1 for a chunked body or
// none (ESP's req->content_len, which is 0 there).
func (r *Request) ContentLength() int64 {
	if r.p == nil {
		return -1
	}
	return r.p.ContentLength()
}

// Body returns the whole request body, buffered before the handler ran.
// Blocking handlers read the body with Recv instead; Body returns nil there.
func (r *Request) Body() []byte { return r.body }

// ProtoMinor returns 0 for HTTP/1.0 and 1 for HTTP/1.1.
func (r *Request) ProtoMinor() int {
	if r.p == nil {
		return 1
	}
	return r.p.Minor()
}

// Recv reads body bytes into p (ESP's httpd_req_recv). In a blocking
// handler it streams the body as it arrives, waiting at most the receive
// timeout (ErrRecvTimeout); in a loop handler it reads from the buffered
// body. It returns 0, io.EOF at the end of the body. In a blocking handler,
// a Recv after the handler returned (from a goroutine it left behind) fails
// with ErrReplyDone.
func (r *Request) Recv(p []byte) (int, error) {
	if r.bp != nil {
		n, err := r.bp.read(p, r.srv.cfg.RecvWaitTimeout, r)
		r.recvd += int64(n)
		return n, err
	}
	if r.bodyRead >= len(r.body) {
		return 0, io.EOF
	}
	n := copy(p, r.body[r.bodyRead:])
	r.bodyRead += n
	return n, nil
}

// ErrInvalidStatus is returned by SetStatus and SetStatusText for a code
// outside 100-599 (RFC 9110 §15); the status is left unchanged.
var ErrInvalidStatus = errors.New("httpd: status code outside 100-599")

// SetStatus sets the reply status (ESP's httpd_resp_set_status). Default
// 200. A code outside 100-599 is refused with ErrInvalidStatus, and after
// the head was sent the call returns ErrHeadersSent.
func (r *Request) SetStatus(code int) error {
	switch {
	case code < 100 || code > 599:
		return ErrInvalidStatus
	case r.headSent:
		return ErrHeadersSent
	}
	r.status, r.reason = code, ""
	return nil
}

// SetStatusText sets the reply status with a reason phrase of your own.
// A reason containing CR, LF or other control bytes is refused.
func (r *Request) SetStatusText(code int, reason string) error {
	if err := r.SetStatus(code); err != nil {
		return err
	}
	for i := 0; i < len(reason); i++ {
		if c := reason[i]; c < ' ' && c != '\t' || c == 0x7f {
			return ErrHeaderInvalid
		}
	}
	r.status, r.reason = code, reason
	return nil
}

// SetType sets the Content-Type (ESP's httpd_resp_set_type). Default
// "text/html", ESP's default. After the head was sent it returns
// ErrHeadersSent.
func (r *Request) SetType(ct string) error {
	if r.headSent {
		return ErrHeadersSent
	}
	if !hc.ValidHeaderValue(ct) {
		return ErrHeaderInvalid
	}
	r.ctype = ct
	return nil
}

// SetHeader adds a reply header (ESP's httpd_resp_set_hdr). A name or value
// that could split the header (CR, LF, NUL, other controls, a non-token name)
// is refused and never reaches the wire. Setting Content-Length makes the
// reply fixed-length: the body sent must have exactly that many bytes, or the
// session is closed. Transfer-Encoding and Connection are managed by the
// server: set Connection: close to close the session after the reply.
func (r *Request) SetHeader(name, value string) error {
	if r.headSent {
		return ErrHeadersSent
	}
	if r.nhdrs >= r.srv.cfg.MaxRespHeaders {
		return ErrTooManyHeaders
	}
	switch {
	case ascii.EqualFoldString(name, "Content-Type"):
		// One Content-Type: the reply's own, never a second line.
		return r.SetType(value)
	case ascii.EqualFoldString(name, "Content-Length"):
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return ErrHeaderInvalid
		}
		r.fixedLen = n
		return nil
	case ascii.EqualFoldString(name, "Transfer-Encoding"):
		return ErrHeaderInvalid
	case ascii.EqualFoldString(name, "Connection"):
		if ascii.EqualFoldString(value, "close") {
			r.wantClose = true
			return nil
		}
		return ErrHeaderInvalid
	}
	b, err := hc.AppendHeader(r.hdrs, name, value)
	if err != nil {
		return ErrHeaderInvalid
	}
	r.hdrs = b
	r.nhdrs++
	return nil
}

// Send writes the whole reply with body (ESP's httpd_resp_send). body is
// copied before Send returns.
func (r *Request) Send(body []byte) error {
	if r.done {
		return ErrReplyDone
	}
	if r.headSent {
		return ErrHeadersSent
	}
	n := int64(len(body))
	if r.fixedLen >= 0 && r.fixedLen != n {
		if !r.headMethod || n != 0 {
			r.badReply = true
			r.srv.log.Debug("httpd: handler body length differs from its Content-Length",
				"session", r.s.id, "set", r.fixedLen, "sent", len(body))
			return ErrLengthMismatch
		}
		// A HEAD reply without a body announces the length a GET
		// would have (RFC 9110 §9.3.2).
		n = r.fixedLen
	}
	r.writeHead(n, false)
	err := r.writeBody(body)
	r.done = true
	return err
}

// SendString is Send with a string body.
func (r *Request) SendString(body string) error {
	return r.Send(unsafe.Slice(unsafe.StringData(body), len(body)))
}

// SendChunk writes p as one chunk of a chunked reply (ESP's
// httpd_resp_send_chunk); the first call sends the head. An empty p ends the
// reply. When the handler set Content-Length, chunks are written as plain
// body bytes and their total must equal it. A reply left open when the
// handler returns is ended by the server.
func (r *Request) SendChunk(p []byte) error {
	if r.done {
		return ErrReplyDone
	}
	if !r.headSent {
		r.writeHead(r.fixedLen, r.fixedLen < 0)
	}
	if len(p) == 0 {
		return r.endReply()
	}
	if !r.chunked && !r.closeDelim && r.sentBody+int64(len(p)) > r.fixedLen {
		r.badReply = true
		return ErrLengthMismatch
	}
	return r.writeBody(p)
}

// endReply completes a streamed reply.
func (r *Request) endReply() error {
	if r.done {
		return nil
	}
	r.done = true
	if r.chunked {
		if !r.headMethod {
			r.appendLastChunk()
		}
		return nil
	}
	if r.fixedLen >= 0 && r.sentBody != r.fixedLen {
		r.badReply = true
		r.srv.log.Debug("httpd: handler body length differs from its Content-Length",
			"session", r.s.id, "set", r.fixedLen, "sent", r.sentBody)
		return ErrLengthMismatch
	}
	return nil
}

var lastChunk = []byte("0\r\n\r\n")

// SendErr replies with an error status and a message (ESP's
// httpd_resp_send_err); an empty msg uses ESP's default text for the
// status. The Content-Type is the one set with SetType, else text/html.
// The session stays open unless the status requires closing.
func (r *Request) SendErr(status int, msg string) error {
	if r.headSent {
		return ErrHeadersSent
	}
	if err := r.SetStatus(status); err != nil {
		return err
	}
	if msg == "" {
		msg = hc.ErrorBody(status)
	}
	return r.SendString(msg)
}

// Flush sends the reply bytes produced so far to the client now: a
// streamed reply (SendChunk) reaches the client before the handler goes on,
// as Server-Sent Events and progress reports need. Without Flush, a loop
// handler's reply is written when the handler returns (together with the
// replies to other requests read in the same event), and a Blocking
// handler's whenever 16 KiB of it accumulate and when the handler returns.
// In a Blocking handler Flush waits, like SendChunk, while the client is
// more than MaxOutbound/2 behind, and returns ErrSendTimeout or
// ErrSessionClosed when the client is gone.
func (r *Request) Flush() error {
	if r.blocking {
		return r.flushWorker(true)
	}
	if r.isWS || r.s.closing {
		return nil
	}
	r.s.flush()
	return nil
}

// HeadersSent reports whether the reply head was written.
func (r *Request) HeadersSent() bool { return r.headSent }

// writeHead appends the status line and headers. n is the body length, -1
// for chunked.
func (r *Request) writeHead(n int64, chunked bool) {
	if r.p != nil && !r.p.KeepAlive() {
		r.wantClose = true
	}
	if r.status == 408 || r.bp != nil && r.bp.broken() {
		// A 408 ends the connection (RFC 9110 §15.5.9), and so does a
		// reply to a request whose body broke off: what is left of the
		// body cannot be told from a next request.
		r.wantClose = true
	}
	if r.s.lp.srv.stopping() {
		r.wantClose = true
	}
	if chunked && (r.p != nil && r.p.Minor() == 0 || r.http10) && hc.BodyAllowed(r.status) {
		// An HTTP/1.0 client knows no chunked coding (RFC 9112 §7.1): a
		// body of unknown length ends with the connection.
		chunked, r.closeDelim, r.wantClose = false, true, true
		n = -1
	}
	b := r.outBuf()
	minor := 1
	if r.p != nil && r.p.Minor() == 0 || r.http10 {
		minor = 0
	}
	b = hc.AppendStatusLine(b, minor, r.status, r.reason)
	if ct := r.ctype; ct != "" || !r.noType {
		if ct == "" {
			ct = "text/html"
		}
		b = append(b, "Content-Type: "...)
		b = append(b, ct...)
		b = append(b, "\r\n"...)
	}
	if r.blocking {
		b = hc.AppendDate(b)
	} else {
		b = hc.AppendDateAt(b, r.s.lp.wall)
	}
	b = append(b, r.hdrs...)
	if hc.BodyAllowed(r.status) {
		if chunked {
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
			r.chunked = true
		} else if n >= 0 {
			b = hc.AppendContentLength(b, n)
		}
	}
	if r.wantClose {
		b = append(b, "Connection: close\r\n"...)
	} else if r.p != nil && r.p.Minor() == 0 || r.http10 {
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	r.setOut(b)
	r.headSent = true
	if !r.blocking { // a worker's events are emitted by the loop (blockEvents)
		r.s.emit(EventHeadersSent, 0)
	}
}

// writeBody appends body bytes to the reply. On a worker it reports a
// session that closed (ErrSessionClosed) or a send timeout, so a streaming
// handler stops instead of writing into the void.
func (r *Request) writeBody(p []byte) error {
	r.sentBody += int64(len(p))
	if r.headMethod || !hc.BodyAllowed(r.status) || len(p) == 0 {
		return nil
	}
	if len(p) >= directWriteMin {
		if r.blocking {
			return r.writeLent(p)
		}
		if !r.s.closing {
			r.writeDirect(p)
			return nil
		}
	}
	if r.chunked {
		r.setOut(hc.AppendChunk(r.outBuf(), p))
	} else {
		r.appendOut(p)
	}
	if r.blocking {
		return r.flushWorker(false)
	}
	r.s.emit(EventSentData, len(p))
	return nil
}

// directWriteMin is the body write from which the handler's bytes go to
// the connection from its own slice: writeDirect on the loop, writeLent
// from a worker.
const directWriteMin = 32 << 10

// writeDirect sends a large body write of a loop handler without copying
// it into the loop's output buffer: what the buffer holds (the head, a
// chunk-size line) is written, then p itself. The engine copies only what
// the socket does not take at once, and the loop's buffer does not grow to
// the size of the reply (to be dropped after it).
func (r *Request) writeDirect(p []byte) {
	c := r.s
	if r.chunked {
		c.lp.out = hc.AppendChunkSize(c.lp.out, len(p))
	}
	c.writeAfterOut(p)
	if r.chunked {
		c.lp.out = append(c.lp.out, '\r', '\n')
	}
	c.emit(EventSentData, len(p))
}

func (r *Request) appendOut(p []byte) { r.setOut(append(r.outBuf(), p...)) }

// outBuf returns where reply bytes go: the loop's output buffer for loop
// handlers, the request's own buffer on a worker.
func (r *Request) outBuf() []byte {
	if r.blocking {
		return r.workerOut()
	}
	return r.s.lp.out
}

// workerOut is outBuf on a worker.
func (r *Request) workerOut() []byte {
	if r.wbuf == nil && r.spare == nil {
		// A spent chunk's buffer, and the chunk to hand it over in.
		if r.spare = spareChunk(); r.spare != nil {
			r.wbuf = r.spare.b[:0]
		}
	}
	return r.wbuf
}

func (r *Request) setOut(b []byte) {
	if r.blocking {
		r.wbuf = b
		return
	}
	r.s.lp.out = b
}

// finish completes the reply after the handler returned (err is its result;
// panicked reports a recovered panic) and reports whether the session may
// stay open.
func (r *Request) finish(err error, panicked bool) (keep bool) {
	if err != nil || panicked {
		if !r.headSent {
			// Only the reply state is reset: on a worker the loop may be
			// reading r.bp at the same time, so the request's other fields
			// must not be rewritten.
			r.resetReply()
			status := 500
			if !panicked && errors.Is(err, ErrRecvTimeout) {
				status = 408 // the body was too slow (RFC 9110 §15.5.9)
			}
			r.SetStatus(status)
			r.wantClose = true
			_ = r.SendString(hc.ErrorBody(status))
		}
		return false
	}
	if !r.headSent {
		// A handler that sent nothing gets an empty 200, as net/http does.
		_ = r.Send(nil)
	} else if !r.done {
		_ = r.endReply()
	}
	return !r.wantClose && !r.badReply
}

// Server returns the server handling the request.
func (r *Request) Server() *Server { return r.srv }
