package nethttp

// This file holds the entry points: Handler adapts an http.Handler to an
// evhttpd handler, Mount registers one on the Blocking pool.

import (
	"net/http"
	"unsafe"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/internal/reuse"
)

// Handler returns an evhttpd handler that serves h. Register it Blocking
// (Mount does) unless h never blocks; see the package doc.
func Handler(h http.Handler) httpd.HandlerFunc {
	if h == nil {
		h = http.NotFoundHandler()
	}
	return func(r *httpd.Request) error { return serve(h, r) }
}

// Mount registers h on srv for u.URI (matched by the server's
// Config.URIMatch) and u.Method, every method when empty, as a Blocking
// handler: the requests run on the worker pool. u's other fields apply
// (MaxBodySize, UserCtx); its Handler is replaced.
func Mount(srv *httpd.Server, u httpd.URIHandler, h http.Handler) error {
	if u.Method == "" {
		u.Method = httpd.MethodAny
	}
	u.Handler = Handler(h)
	u.Blocking = true
	reuse.Mark(&u) // serve refuses every use of the httpd.Request after the handler returned
	return srv.RegisterURIHandler(u)
}

// serve runs one request through h.
func serve(h http.Handler, r *httpd.Request) (err error) {
	x := new(exchange)
	if err := buildRequest(x, r); err != nil {
		return r.SendErr(400, "")
	}
	w := writers.Get().(*writer)
	w.r, w.req = r, &x.req
	x.rw.w.Store(w)
	defer func() {
		// The handler's objects lose their way to the pooled state first:
		// a late Write or Read fails with ErrStale.
		x.rw.w.Store(nil)
		if x.gate.shut() {
			reuse.Pin(r) // a goroutine of the handler's is still in a body call
		}
		if v := recover(); v != nil {
			w.reset()
			if v == http.ErrAbortHandler {
				err = errAbort // the session closes without a log line of its own
				return
			}
			panic(v)
		}
		w.hdr = x.rw.hdr
		w.finish()
		w.reset()
	}()
	h.ServeHTTP(&x.rw, &x.req)
	return nil
}

// errAbort ends a request whose handler panicked with http.ErrAbortHandler.
var errAbort = http.ErrAbortHandler

func (w *writer) reset() {
	buf := w.buf[:0]
	if cap(buf) > bufSize {
		buf = make([]byte, 0, bufSize)
	}
	*w = writer{buf: buf}
	writers.Put(w)
}

func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
