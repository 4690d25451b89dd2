package nethttp

// This file holds the http.ResponseWriter: net/http's framing rules on top
// of evhttpd's reply calls, and the Flusher, Hijacker and
// ResponseController methods.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	httpd "github.com/evhttpd/httpd"
	hc "github.com/evhttpd/httpd/codec/http"
)

// bufSize is how much reply a handler may write before the head leaves:
// a reply finished within it gets a Content-Length, a longer one is
// chunked (net/http's bufferBeforeChunkingSize is 2 KiB).
const bufSize = 4 << 10

// sniffLen is how much of the body http.DetectContentType looks at.
const sniffLen = 512

// writer is the pooled state of one reply.
type writer struct {
	r      *httpd.Request
	req    *http.Request
	hdr    http.Header
	buf    []byte
	status int  // the final status chosen by WriteHeader, 0 before
	sent   bool // the head went out through r
	hijack bool
	err    error // the first error of the reply: later writes return it
}

var writers = sync.Pool{New: func() any { return &writer{buf: make([]byte, 0, bufSize)} }}

// handle is what the handler holds as its http.ResponseWriter: it reaches
// the pooled writer only while the handler runs.
type handle struct {
	w   atomic.Pointer[writer]
	hdr http.Header // the handler's header map, kept after it returns
}

func (h *handle) live() *writer { return h.w.Load() }

// Header returns the reply's header map, as net/http's.
func (h *handle) Header() http.Header {
	if h.hdr == nil {
		h.hdr = make(http.Header, 4)
		if w := h.live(); w != nil {
			w.hdr = h.hdr
		}
	}
	return h.hdr
}

func (h *handle) WriteHeader(code int) {
	if w := h.live(); w != nil {
		w.writeHeader(code)
	}
}

func (h *handle) Write(p []byte) (int, error) {
	w := h.live()
	if w == nil {
		return 0, ErrStale
	}
	return w.write(p)
}

// WriteString writes s without converting it to a byte slice first.
func (h *handle) WriteString(s string) (int, error) {
	w := h.live()
	if w == nil {
		return 0, ErrStale
	}
	return w.write(unsafeBytes(s))
}

// Flush sends the head and what was written so far (http.Flusher).
func (h *handle) Flush() { _ = h.FlushError() }

// FlushError is Flush that reports the error (http.ResponseController).
func (h *handle) FlushError() error {
	w := h.live()
	if w == nil {
		return ErrStale
	}
	return w.flush()
}

// Hijack takes the connection over (http.Hijacker); see httpd.Request.Hijack.
func (h *handle) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w := h.live()
	if w == nil {
		return nil, nil, ErrStale
	}
	return w.hijackConn()
}

// SetReadDeadline bounds the waits of Body.Read (http.ResponseController).
func (h *handle) SetReadDeadline(t time.Time) error {
	w := h.live()
	if w == nil {
		return ErrStale
	}
	return w.r.SetReadDeadline(t)
}

// SetWriteDeadline bounds the waits of Write and Flush for a slow client.
func (h *handle) SetWriteDeadline(t time.Time) error {
	w := h.live()
	if w == nil {
		return ErrStale
	}
	return w.r.SetWriteDeadline(t)
}

// EnableFullDuplex succeeds: the body can always be read while the reply
// is written (http.ResponseController).
func (h *handle) EnableFullDuplex() error {
	if h.live() == nil {
		return ErrStale
	}
	return nil
}

func (w *writer) writeHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http
	}
	if w.status != 0 || w.hijack {
		return // superfluous, as net/http (which logs it)
	}
	if code >= 100 && code <= 199 && code != 101 {
		if code == 100 {
			return // the server answers Expect: 100-continue itself
		}
		w.informational(code)
		return
	}
	w.status = code
}

// informational sends a 1xx with the header fields set so far (103 Early
// Hints carries its Link fields this way).
func (w *writer) informational(code int) {
	var fields []string
	for k, vs := range w.hdr {
		for _, v := range vs {
			fields = append(fields, k, v)
		}
	}
	if err := w.r.SendInformational(code, fields...); err != nil && w.err == nil && !errors.Is(err, httpd.ErrInformational) {
		w.err = err
	}
}

func (w *writer) write(p []byte) (int, error) {
	if w.hijack {
		return 0, http.ErrHijacked
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if !w.sent {
		if len(w.buf)+len(p) <= bufSize {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		if _, err := w.sendHead(p, false); err != nil {
			return 0, err
		}
	}
	if err := w.send(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// send writes body bytes after the head.
func (w *writer) send(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if err := w.r.SendChunk(p); err != nil {
		if errors.Is(err, httpd.ErrLengthMismatch) {
			err = http.ErrContentLength
		}
		w.err = err
		return err
	}
	return nil
}

func (w *writer) flush() error {
	if w.hijack {
		return http.ErrHijacked
	}
	if w.err != nil {
		return w.err
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.sent {
		if _, err := w.sendHead(nil, false); err != nil {
			return err
		}
	}
	if err := w.r.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}

// sendHead sends the head and the buffered bytes as the start of a
// streamed reply (more, which the caller sends next, is sniffed with
// them); or, when final, the whole reply unless it has trailers. It
// reports whether trailers were declared.
func (w *writer) sendHead(more []byte, final bool) (trailers bool, err error) {
	r := w.r
	w.sent = true
	code := w.status
	trailers = w.applyHeader(code)
	if code != http.StatusOK {
		if err := r.SetStatus(code); err != nil {
			w.err = err
			return trailers, err
		}
	}
	if _, have := w.hdr["Content-Type"]; !have && bodyAllowed(code) && w.hdr.Get("Content-Encoding") == "" {
		sniff := w.buf
		if len(sniff) < sniffLen && len(more) > 0 {
			sniff = append(sniff, more[:min(len(more), sniffLen-len(sniff))]...)
			w.buf = sniff[:len(w.buf)]
		}
		if len(sniff) > 0 {
			_ = r.SetType(http.DetectContentType(sniff))
		}
	}
	if final && !trailers {
		err := r.Send(w.buf)
		if err != nil {
			if errors.Is(err, httpd.ErrLengthMismatch) {
				err = http.ErrContentLength
			}
			w.err = err
		}
		return false, err
	}
	if err := r.SendHead(); err != nil {
		w.err = err
		return trailers, err
	}
	return trailers, w.send(w.buf)
}

// applyHeader hands the handler's header fields to the reply and reports
// whether trailers were declared.
func (w *writer) applyHeader(code int) (trailers bool) {
	r := w.r
	_ = r.OmitContentType()
	noBody := !bodyAllowed(code)
	for k, vs := range w.hdr {
		switch k {
		case "Content-Type":
			if noBody && code == http.StatusNotModified || len(vs) == 0 {
				continue
			}
			_ = r.SetType(vs[0])
			continue
		case "Content-Length":
			if noBody || len(vs) == 0 {
				continue
			}
			if n, err := strconv.ParseInt(strings.TrimSpace(vs[0]), 10, 64); err == nil && n >= 0 {
				_ = r.SetHeader("Content-Length", strconv.FormatInt(n, 10))
			}
			continue
		case "Connection":
			if hasToken(vs, "close") {
				_ = r.SetHeader("Connection", "close")
			}
			continue
		case "Transfer-Encoding", "Date":
			continue // the server's own
		case "Trailer":
			trailers = true
		}
		if strings.HasPrefix(k, http.TrailerPrefix) {
			trailers = true
			continue
		}
		for _, v := range vs {
			// A field the server refuses (CR or LF in it, past
			// MaxRespHeaders) is dropped: it never reaches the wire.
			_ = r.SetHeader(k, v)
		}
	}
	return trailers
}

// finish completes the reply after the handler returned.
func (w *writer) finish() {
	if w.hijack || w.err != nil {
		return
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.sent {
		if tr, err := w.sendHead(nil, true); err != nil || !tr {
			return
		}
	}
	w.setTrailers()
	_ = w.r.SendChunk(nil)
}

// setTrailers gives the reply the trailer values the handler set: those of
// names it declared in "Trailer", and http.TrailerPrefix keys.
func (w *writer) setTrailers() {
	for _, v := range w.hdr["Trailer"] {
		for _, name := range strings.Split(v, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			for _, tv := range w.hdr[name] {
				_ = w.r.SetTrailer(name, tv)
			}
		}
	}
	for k, vs := range w.hdr {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			for _, tv := range vs {
				_ = w.r.SetTrailer(name, tv)
			}
		}
	}
}

// hijackConn hands the connection over. A 101 (or other status) set with
// WriteHeader and not yet sent is written first, as net/http does.
func (w *writer) hijackConn() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijack {
		return nil, nil, http.ErrHijacked
	}
	var head []byte
	if w.status != 0 && !w.sent {
		head = hc.AppendStatusLine(nil, w.r.ProtoMinor(), w.status, "")
		for k, vs := range w.hdr {
			for _, v := range vs {
				if b, err := hc.AppendHeader(head, k, v); err == nil {
					head = b
				}
			}
		}
		head = append(head, "\r\n"...)
	} else if w.sent || len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			return nil, nil, err
		}
	}
	c, err := w.r.Hijack()
	if err != nil {
		if errors.Is(err, httpd.ErrCannotHijack) {
			return nil, nil, http.ErrNotSupported
		}
		return nil, nil, err
	}
	w.hijack = true
	if len(head) > 0 {
		if _, err := c.Write(head); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	return c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)), nil
}

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199 || code == 204 || code == 304)
}

var (
	_ http.ResponseWriter = (*handle)(nil)
	_ http.Flusher        = (*handle)(nil)
	_ http.Hijacker       = (*handle)(nil)
)
