package nethttp

// This file builds the *http.Request of an evhttpd request.

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"unsafe"

	httpd "github.com/evhttpd/httpd"
)

// ErrStale is returned by a ResponseWriter or request Body used after its
// handler returned.
var ErrStale = errors.New("nethttp: ResponseWriter or Body used after the handler returned")

// exchange is what one request allocates: the http.Request handed to the
// handler with its URL, the handles through which the handler reaches the
// pooled writer and the body, and room for the header values and strings
// of an API client's head (a browser's, larger, gets an allocation of its
// own). It is never reused, so a handler that keeps any of it keeps only
// its own request. Its size is what every request costs the garbage
// collector: 896 bytes (a size class), against 1792 with room for a
// browser's head.
type exchange struct {
	req  http.Request
	url  url.URL
	body body
	rw   handle
	gate gate
	vals [8]string
	str  [strRoom]byte // the head's strings, when they fit
}

// gate counts the body's calls into the httpd.Request in progress, and
// is shut when the handler returns: no call starts after that (ErrStale).
// The server reuses the request's memory (internal/reuse) unless a call
// was still running then, from a goroutine the handler left behind
// (http.TimeoutHandler's, say); such a request is pinned and left to the
// garbage collector.
type gate struct{ n atomic.Int32 }

const gateShut = 1 << 30

// enter starts a call; false once the gate is shut.
func (g *gate) enter() bool {
	for {
		v := g.n.Load()
		if v&gateShut != 0 {
			return false
		}
		if g.n.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

func (g *gate) leave() { g.n.Add(-1) }

// shut shuts the gate and reports whether a call is still in progress.
func (g *gate) shut() (busy bool) {
	return g.n.Add(gateShut)&^gateShut != 0
}

// strRoom is the head's strings (target, remote address, header names and
// values) an exchange holds: what Go's client, curl or wrk send.
const strRoom = 256

// body is the request's http.Request.Body.
type body struct {
	x      *exchange
	r      *httpd.Request // reached only through x.gate
	closed bool
}

func (b *body) Read(p []byte) (int, error) {
	if err := b.enter(); err != nil {
		return 0, err
	}
	defer b.x.gate.leave()
	if len(p) == 0 {
		return 0, nil
	}
	return b.r.Recv(p)
}

// WriteTo writes the rest of the body to w (io.WriterTo, which io.Copy
// uses): from the buffer the server received it in, without the copy
// into a buffer of the caller's that Read makes (httpd.Request.WriteTo).
func (b *body) WriteTo(w io.Writer) (int64, error) {
	if err := b.enter(); err != nil {
		return 0, err
	}
	defer b.x.gate.leave()
	return b.r.WriteTo(w)
}

// enter starts a call into the request through the gate; when it returns
// nil the caller leaves the gate once done.
func (b *body) enter() error {
	if !b.x.gate.enter() {
		return ErrStale
	}
	if b.closed {
		b.x.gate.leave()
		return http.ErrBodyReadAfterClose
	}
	return nil
}

// Close stops further reads; the server skips (or, past its drain limit,
// closes on) what the handler left unread, as net/http does.
func (b *body) Close() error {
	b.closed = true
	return nil
}

// buildRequest fills x.req from r. All strings of the head share one
// allocation.
func buildRequest(x *exchange, r *httpd.Request) error {
	target := r.URI()
	var ab [64]byte
	addr := appendAddr(ab[:0], r)
	n := len(target) + len(addr)
	nh := r.NumHeaders()
	for i := 0; i < nh; i++ {
		k, v := r.HeaderAt(i)
		n += len(k) + len(v)
	}
	buf := x.str[:0]
	if n > len(x.str) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, target...)
	tEnd := len(buf)
	buf = append(buf, addr...)
	aEnd := len(buf)
	type span struct{ k0, k1, v1 int }
	var spans [32]span
	sp := spans[:0]
	fields := nh // those that go to the Header map: all but Host
	for i := 0; i < nh; i++ {
		k, v := r.HeaderAt(i)
		k0 := len(buf)
		buf = appendCanonical(buf, k)
		k1 := len(buf)
		if string(buf[k0:k1]) == "Host" {
			fields--
		}
		buf = append(buf, v...)
		sp = append(sp, span{k0, k1, len(buf)})
	}
	s := unsafe.String(unsafe.SliceData(buf), len(buf))

	q := &x.req
	// The context is set through WithContext on a value that does not
	// escape, so that it costs no second Request.
	*q = *(&http.Request{}).WithContext(r.Context())
	q.Method = r.Method()
	q.RequestURI = s[:tEnd]
	q.RemoteAddr = s[tEnd:aEnd]
	q.ProtoMajor, q.ProtoMinor = 1, r.ProtoMinor()
	q.Proto = "HTTP/1.1"
	if q.ProtoMinor == 0 {
		q.Proto = "HTTP/1.0"
	}
	q.TLS = r.TLS()

	// Host goes to q.Host: a request with no other field gets an empty
	// map, whose storage comes with its first entry.
	h := make(http.Header, fields)
	vals := x.vals[:0] // the first values; any more get a slice each
	for _, e := range sp {
		k, v := s[e.k0:e.k1], s[e.k1:e.v1]
		if k == "Host" {
			if q.Host == "" {
				q.Host = v
			}
			continue
		}
		if old, ok := h[k]; ok {
			h[k] = append(old, v)
			continue
		}
		if len(vals) < cap(vals) {
			vals = append(vals, v)
			h[k] = vals[len(vals)-1 : len(vals) : len(vals)]
		} else {
			h[k] = []string{v}
		}
	}
	q.Header = h

	if err := parseTarget(&x.url, q.RequestURI, q.Method); err != nil {
		return err
	}
	q.URL = &x.url
	if strings.IndexByte(r.Pattern(), '{') >= 0 {
		// The server routes with httpd.MatchPattern: its wildcards are the
		// request's path values (copied: the path may live in a buffer
		// the server reuses).
		r.PathValues(func(name, value string) { q.SetPathValue(name, strings.Clone(value)) })
		q.Pattern = r.Pattern()
	}
	if x.url.Host != "" {
		// Absolute-form: its authority wins over Host (RFC 9112 §3.2.2).
		q.Host = x.url.Host
	}

	cl := r.ContentLength()
	switch {
	case cl > 0:
		q.ContentLength = cl
		q.Body = &x.body
	case cl < 0 && chunked(h):
		q.ContentLength = -1
		q.TransferEncoding = chunkedTE
		delete(h, "Transfer-Encoding")
		q.Body = &x.body
	default:
		q.Body = http.NoBody
	}
	x.body = body{x: x, r: r}
	q.Close = r.ProtoMinor() == 0 && !hasToken(h["Connection"], "keep-alive") || hasToken(h["Connection"], "close")
	return nil
}

var chunkedTE = []string{"chunked"}

func chunked(h http.Header) bool {
	return hasToken(h["Transfer-Encoding"], "chunked")
}

func hasToken(vs []string, tok string) bool {
	for _, v := range vs {
		for len(v) > 0 {
			i := strings.IndexByte(v, ',')
			f := v
			if i >= 0 {
				f, v = v[:i], v[i+1:]
			} else {
				v = ""
			}
			if strings.EqualFold(strings.TrimSpace(f), tok) {
				return true
			}
		}
	}
	return false
}

// parseTarget fills u from a request-target (RFC 9112 §3.2) the server's
// parser already validated.
func parseTarget(u *url.URL, t, method string) error {
	*u = url.URL{}
	switch {
	case t == "*":
		u.Path = "*"
		return nil
	case method == "CONNECT" && !strings.HasPrefix(t, "/"):
		u.Host = t // authority-form
		return nil
	case !strings.HasPrefix(t, "/"):
		// Absolute-form: rare enough for the general parser.
		v, err := url.ParseRequestURI(t)
		if err != nil {
			return err
		}
		*u = *v
		return nil
	}
	path, query, hasQ := strings.Cut(t, "?")
	if hasQ {
		u.RawQuery = query
		u.ForceQuery = query == ""
	}
	if strings.IndexByte(path, '%') < 0 {
		u.Path = path
		return nil
	}
	p, err := url.PathUnescape(path)
	if err != nil {
		return err
	}
	u.Path = p
	u.RawPath = path
	if u.EscapedPath() != path || u.RawPath == "" {
		return nil
	}
	// RawPath is kept only when it differs from Path's default encoding.
	if (&url.URL{Path: p}).EscapedPath() == path {
		u.RawPath = ""
	}
	return nil
}

// appendCanonical appends a header name in net/http's canonical form
// ("content-type" becomes "Content-Type"). The server's parser admitted
// only token characters, which is when textproto canonicalises.
func appendCanonical(dst, k []byte) []byte {
	upper := true
	for _, c := range k {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// appendAddr appends the client's address as net/http shows it
// ("ip:port").
func appendAddr(dst []byte, r *httpd.Request) []byte {
	if ap := r.RemoteAddrPort(); ap.IsValid() {
		return ap.AppendTo(dst)
	}
	if a := r.RemoteAddr(); a != nil {
		return append(dst, a.String()...)
	}
	return dst
}

var (
	_ io.ReadCloser = (*body)(nil)
	_ io.WriterTo   = (*body)(nil)
)
