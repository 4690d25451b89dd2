package httpd

// This file holds the parts of the Request API that the net/http bridge
// (package nethttp) and access logs need beyond ESP's: informational (1xx)
// replies, trailers, a reply without Content-Type, per-request deadlines,
// the reply's status and size, addresses and TLS state a worker may read,
// and Read/Write so a Blocking handler can use io.Copy.

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	hc "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/internal/ascii"
)

// ErrInformational is returned by SendInformational for a status outside
// 100-199, for 101 (switching protocols is a final reply: Hijack), or once
// the final head was sent.
var ErrInformational = errors.New("httpd: informational replies are 1xx other than 101, before the final head")

// SendInformational sends an interim 1xx reply (RFC 9110 §15.2) before the
// final one, such as 103 Early Hints (RFC 8297) with its Link fields.
// fields alternates names and values ("Link", "</app.css>; rel=preload").
// It is sent at once. An HTTP/1.0 client gets nothing (a server must not
// send it 1xx replies, RFC 9110 §15.2) and the call returns nil.
func (r *Request) SendInformational(code int, fields ...string) error {
	if code < 100 || code > 199 || code == 101 || r.headSent || r.done || len(fields)%2 != 0 {
		return ErrInformational
	}
	if r.p != nil && r.p.Minor() == 0 || r.http10 || r.isWS {
		return nil
	}
	b := hc.AppendStatusLine(r.outBuf(), 1, code, "")
	for i := 0; i < len(fields); i += 2 {
		var err error
		if b, err = hc.AppendHeader(b, fields[i], fields[i+1]); err != nil {
			return ErrHeaderInvalid // b is dropped: nothing of this reply was kept
		}
	}
	r.setOut(append(b, "\r\n"...))
	if r.blocking {
		return r.flushWorker(true)
	}
	r.s.flush()
	return nil
}

// SetTrailer adds a trailer field to a chunked reply (RFC 9112 §7.1.2),
// sent after the last chunk. Announce it in the head with
// SetHeader("Trailer", name) so clients expect it. Trailers of a reply that
// is not chunked (Send, a Content-Length set) are dropped, as HTTP/1.1 has
// nowhere to put them. Fields that frame or route the message may not be
// trailers (RFC 9110 §6.5.1): Content-Length, Transfer-Encoding, Host and
// the like are refused with ErrHeaderInvalid.
func (r *Request) SetTrailer(name, value string) error {
	if r.done {
		return ErrReplyDone
	}
	for _, f := range [...]string{"Content-Length", "Transfer-Encoding", "Host", "Trailer", "Content-Type", "Connection", "Content-Encoding", "Content-Range", "Cache-Control", "Expect", "Max-Forwards", "Pragma", "Range", "TE", "Authorization", "Set-Cookie"} {
		if ascii.EqualFoldString(name, f) {
			return ErrHeaderInvalid
		}
	}
	if len(r.trailers) > r.srv.cfg.MaxHeaderBytes {
		return ErrTooManyHeaders
	}
	b, err := hc.AppendHeader(r.trailers, name, value)
	if err != nil {
		return ErrHeaderInvalid
	}
	r.trailers = b
	return nil
}

// appendLastChunk ends a chunked reply with its trailers, if any.
func (r *Request) appendLastChunk() {
	if len(r.trailers) == 0 {
		r.appendOut(lastChunk)
		return
	}
	b := append(r.outBuf(), "0\r\n"...)
	b = append(b, r.trailers...)
	r.setOut(append(b, "\r\n"...))
}

// OmitContentType sends the reply head without a Content-Type field
// unless SetType names one: for replies without a body, or whose type is
// unknown (RFC 9110 §8.3 lets the recipient guess then). Without it the
// head carries ESP's default, text/html.
func (r *Request) OmitContentType() error {
	if r.headSent {
		return ErrHeadersSent
	}
	r.noType, r.ctype = true, ""
	return nil
}

// Status returns the reply status: the one sent, or set so far (200 by
// default).
func (r *Request) Status() int { return r.status }

// BytesSent returns the reply body bytes the handler wrote so far (for a
// HEAD request, the bytes it would have sent), framing excluded.
func (r *Request) BytesSent() int64 { return r.sentBody }

// RemoteAddr returns the client's address. Unlike Session.RemoteAddr it
// may be called from a Blocking handler's goroutine. The session reads it
// once and its requests share the value: do not modify it.
func (r *Request) RemoteAddr() net.Addr {
	if r.blocking {
		return r.remote
	}
	a, _ := r.s.addrs()
	return a
}

// RemoteAddrPort returns the client's IP address (an IPv4 one unmapped)
// and port, without an allocation: for access logs, rate limits and the
// like. It is the zero AddrPort when the connection is not TCP over IP (a
// Unix socket). Safe in Blocking handlers.
func (r *Request) RemoteAddrPort() netip.AddrPort {
	if a, ok := r.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// LocalAddr returns the address the client connected to, like RemoteAddr
// safe in Blocking handlers.
func (r *Request) LocalAddr() net.Addr {
	if r.blocking {
		return r.local
	}
	_, a := r.s.addrs()
	return a
}

// TLS returns the TLS state of an HTTPS session (a new copy at each call),
// nil for plain HTTP. Safe in Blocking handlers.
func (r *Request) TLS() *tls.ConnectionState {
	tr := r.tr
	if !r.blocking {
		tr = r.s.transport()
	}
	t, ok := tr.(interface {
		ConnectionState() (tls.ConnectionState, bool)
	})
	if !ok {
		return nil
	}
	cs, ok := t.ConnectionState()
	if !ok {
		return nil
	}
	return &cs
}

// ErrNoDeadline is returned by SetReadDeadline and SetWriteDeadline outside
// a Blocking handler: a loop handler never waits.
var ErrNoDeadline = errors.New("httpd: deadlines apply to Blocking handlers only")

// SetReadDeadline bounds the waits of Recv (and of a hijacked connection's
// Read): once t has passed they return os.ErrDeadlineExceeded. It narrows,
// never widens, the server's limits (RecvWaitTimeout, BodyTimeout) on an
// unhijacked request. The zero t removes it. Any goroutine may call it; a
// Recv waiting at the time sees the new deadline.
func (r *Request) SetReadDeadline(t time.Time) error {
	if r.bp == nil {
		return ErrNoDeadline
	}
	r.bp.readDL.Store(deadlineNanos(t))
	r.bp.signal()
	return nil
}

// SetWriteDeadline bounds the waits of a Blocking handler's writes
// (SendChunk, Flush, and a hijacked connection's Write) for a client that
// reads slowly: once t has passed they return os.ErrDeadlineExceeded. The
// zero t removes it; SendWaitTimeout still applies.
func (r *Request) SetWriteDeadline(t time.Time) error {
	if r.bp == nil {
		return ErrNoDeadline
	}
	r.bp.writeDL.Store(deadlineNanos(t))
	r.bp.signal()
	return nil
}

func deadlineNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if n := t.UnixNano(); n > 0 {
		return n
	}
	return 1 // a deadline in the distant past: already expired
}

// deadlineWait returns how long a wait may last under the deadline dl
// (deadlineNanos; 0 none) and limit (0 none): ok is false when dl has
// passed, byDL whether the deadline, not the limit, ends the wait.
func deadlineWait(dl int64, limit time.Duration) (d time.Duration, byDL, ok bool) {
	if dl == 0 {
		return limit, false, true
	}
	left := time.Until(time.Unix(0, dl))
	if left <= 0 {
		return 0, true, false
	}
	if limit == 0 || left < limit {
		return left, true, true
	}
	return limit, false, true
}

// errDeadline is the error of a wait its deadline ended (net.Conn's).
var errDeadline = os.ErrDeadlineExceeded

// Read is Recv: a Request is an io.Reader over the request body, so
// io.Copy and json.Decoder read it directly (streaming, with backpressure,
// in Blocking handlers).
func (r *Request) Read(p []byte) (int, error) { return r.Recv(p) }

// Write sends p as part of a streamed reply (SendChunk; an empty p does
// nothing): a Request is an io.Writer for the reply, so io.Copy and
// json.Encoder write it directly. The head goes out with the first bytes,
// chunked unless a Content-Length was set.
func (r *Request) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.SendChunk(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// WriteTo writes the rest of the request body to w until its end: a
// Request is an io.WriterTo, so io.Copy(w, r) uses it. In a Blocking
// handler the bytes go to w from the buffer they arrived in, without the
// copy into a buffer of the caller's that Read makes; waits, timeouts and
// deadlines are Recv's. It returns the bytes written and the first error,
// nil at the end of the body; a w that writes less than it was given
// without an error ends it with io.ErrShortWrite.
func (r *Request) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if r.bp == nil {
		b := r.body[r.bodyRead:]
		if len(b) == 0 {
			return 0, nil
		}
		n, err := w.Write(b)
		r.bodyRead += n
		if err == nil && n < len(b) {
			err = io.ErrShortWrite
		}
		return int64(n), err
	}
	for {
		b, err := r.bp.next(r.srv.cfg.RecvWaitTimeout, r)
		if len(b) == 0 {
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		n, werr := w.Write(b)
		n = max(0, min(n, len(b)))
		r.bp.take(n, r)
		r.recvd += int64(n)
		total += int64(n)
		if werr == nil && n < len(b) {
			werr = io.ErrShortWrite
		}
		if werr != nil {
			return total, werr
		}
	}
}

var (
	_ io.Reader   = (*Request)(nil)
	_ io.Writer   = (*Request)(nil)
	_ io.WriterTo = (*Request)(nil)
)

// SendHead sends the reply head now, before any body byte (a stream whose
// first bytes come later: Server-Sent Events, net/http's Flush before
// Write). The body follows with SendChunk or Write and is chunked unless a
// Content-Length was set; an HTTP/1.0 client gets a body that ends with the
// connection instead.
func (r *Request) SendHead() error {
	if r.done {
		return ErrReplyDone
	}
	if r.headSent {
		return ErrHeadersSent
	}
	r.writeHead(r.fixedLen, r.fixedLen < 0)
	if r.blocking {
		return r.flushWorker(false)
	}
	return nil
}
