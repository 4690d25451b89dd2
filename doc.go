// Package httpd is an HTTP/1.1 server with the programming model of ESP-IDF's
// esp_http_server, built for many connections on few cores.
//
// Start a server, register URI handlers with a user context, keep a context
// per session with a free callback, queue work into a session's event loop
// from any goroutine, stop the server:
//
//	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:8080"})
//	if err != nil {
//		return err
//	}
//	defer srv.Stop()
//	srv.RegisterURIHandler(httpd.URIHandler{
//		URI:    "/hello",
//		Method: "GET",
//		Handler: func(r *httpd.Request) error {
//			r.SetType("text/plain")
//			return r.SendString("Hello World!")
//		},
//	})
//
// # Threading
//
// Every session belongs to one event loop (Config.EventLoops). Its parsing,
// handler calls, session-context changes, queued work and close run on that
// loop, so session state needs no locks. Handlers run on the loop and must
// not block; a handler registered with Blocking runs on a bounded worker pool
// and streams its body with Request.Recv. QueueWork, TriggerClose and the
// other Server methods may be called from any goroutine: their work travels
// through per-loop queues, and a doorbell datagram on the loopback UDP control
// socket wakes the loop.
//
// # Lifetimes
//
// A Request and every slice it returns are valid until the handler returns.
// A SessionID stays valid for the session's life; after that it is stale and
// every call with it reports ErrStaleSession without touching any other
// session.
//
// # Limits
//
// Every limit is a Config field with a documented default: request line
// (414), header bytes and fields (431), body (413), queued output per
// session, header, receive, send and idle timeouts, open sessions.
package httpd
