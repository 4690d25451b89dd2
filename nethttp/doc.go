// Package nethttp runs net/http handlers on evhttpd's event loops: mount
// an http.Handler (a ServeMux or chi router with its middleware,
// http.FileServer, net/http/pprof, promhttp, a gorilla or coder WebSocket
// upgrader) at any URI the server's matcher accepts, and it is served by
// evhttpd's HTTP/1 machine instead of net/http's.
//
//	srv, _ := httpd.Start(httpd.Config{Addr: "127.0.0.1:8080", URIMatch: httpd.MatchWildcard})
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /api/items/{id}", getItem)
//	nethttp.Mount(srv, httpd.URIHandler{URI: "/api/*"}, mux)
//
// # Where handlers run
//
// Mount registers a Blocking handler: each request runs on the server's
// worker pool (Config.BlockingWorkers), never on a loop, so an
// http.Handler may block as net/http handlers do. When every worker is
// busy the client gets 503 at once. The request body streams from the
// loop with backpressure (64 KiB wait between the loop and the handler;
// a 1 GiB upload never sits in memory), and the reply goes back to the
// loop in pieces, the handler waiting while the client is more than
// MaxOutbound/2 behind. A handler that hijacks the connection (WebSocket)
// keeps its worker until it returns; the connection may outlive it.
// Handler, registered without Blocking, runs the handler on the loop
// instead: for handlers that never block, it saves the hand-off to a
// worker; the body is then buffered whole before the handler runs, and
// Hijack is refused.
//
// # The *http.Request
//
// Method, URL (origin-form and absolute-form; Path decoded, RawPath kept
// when it differs), Proto, ProtoMajor/Minor, Header (canonical keys; Host
// moved to Host as net/http does), Host, RemoteAddr, RequestURI,
// ContentLength (-1 for chunked), TransferEncoding, TLS (on HTTPS), Body
// (http.NoBody when there is none) and Context: cancelled when the client
// goes away, the server stops or the handler returns. PathValue works when
// the mounted handler is an http.ServeMux (it sets the values itself) and
// for the wildcards of the server's own pattern matcher (httpd.MatchPattern).
// Trailers of a chunked request body are not delivered (Trailer is nil).
//
// # The http.ResponseWriter
//
// net/http's framing rules: a reply the handler finishes within 4 KiB
// (net/http: 2 KiB) gets a Content-Length, a longer or flushed one is
// chunked (an HTTP/1.0 client gets the body ended by closing instead); a
// Content-Length the handler sets is kept and enforced; Content-Type is
// sniffed from the first 512 bytes with http.DetectContentType unless the
// handler set one (a nil value suppresses it) or a Content-Encoding; 1xx
// (103 Early Hints) are sent at once with the header fields set so far;
// 204, 304 and 1xx replies carry no body fields. Trailers declared in the
// "Trailer" header or set with http.TrailerPrefix are sent after the last
// chunk (a reply with trailers is always chunked). The server writes its
// own Date and Connection fields: those of the handler are ignored
// ("Connection: close" excepted, which closes after the reply). It
// implements http.Flusher, http.Hijacker, io.StringWriter and what
// http.NewResponseController uses (Flush, Hijack, SetReadDeadline,
// SetWriteDeadline, EnableFullDuplex: reading the body while writing the
// reply always works here).
//
// # Lifetimes
//
// The request and writer state is pooled: under Mount, the server's own
// memory for a request too, once the handler returned (1.3 KiB less
// garbage per request). A ResponseWriter or request Body used after the
// handler returned fails (ErrStale) and never touches a later request; a
// goroutine still inside a Body call when the handler returns (one left
// by http.TimeoutHandler, say) keeps its request's memory from reuse
// until the garbage collector takes it. The *http.Request itself, its
// Header map and its Context (cancelled once the handler returned) are
// the handler's own and are not reused.
package nethttp
