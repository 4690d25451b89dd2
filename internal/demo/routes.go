// Package demo holds the routes of the demo server (cmd/demo), the ESP
// examples' routes, so that tests and interop suites run against exactly
// what `go run ./cmd/demo` serves.
package demo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"

	httpd "github.com/evhttpd/httpd"
)

// echoChunk is the piece size /echo reads and writes; a body that fits in
// one piece is echoed with Content-Length, a larger one streams back chunked.
const echoChunk = 64 << 10

// Start starts a server with the demo's routes.
func Start(cfg httpd.Config, log *slog.Logger) (*httpd.Server, error) {
	srv, err := httpd.Start(cfg)
	if err != nil {
		return nil, err
	}
	if err := Register(srv, log); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// Register adds the demo's routes to srv.
func Register(srv *httpd.Server, log *slog.Logger) error {
	handlers := []httpd.URIHandler{
		{URI: "/hello", Method: "GET", Handler: hello(log), UserCtx: "Hello World!"},
		{URI: "/echo", Method: "POST", Handler: echo, Blocking: true, MaxBodySize: 64 << 20},
		{URI: "/echo", Method: "PUT", Handler: echo, Blocking: true, MaxBodySize: 64 << 20},
		{URI: "/adder", Method: "GET", Handler: adderGet},
		{URI: "/adder", Method: "PUT", Handler: adderPut},
		{URI: "/adder", Method: "POST", Handler: adderPost},
		{URI: "/events", Method: "GET", Handler: events, Blocking: true},
	}
	for _, h := range handlers {
		if err := srv.RegisterURIHandler(h); err != nil {
			return err
		}
	}
	return registerWS(srv, log)
}

// hello answers GET /hello as the ESP simple example does: it logs a few
// request headers and query values and replies with its user context.
func hello(log *slog.Logger) httpd.HandlerFunc {
	return func(r *httpd.Request) error {
		if log.Enabled(context.Background(), slog.LevelDebug) {
			log.Debug("/hello", "host", string(r.Header("Host")),
				"Test-Header-1", string(r.Header("Test-Header-1")),
				"Test-Header-2", string(r.Header("Test-Header-2")))
			for _, k := range []string{"query1", "query2", "query3"} {
				if v, ok := r.QueryValue(k); ok {
					log.Debug("/hello query", "key", k, "value", string(v))
				}
			}
		}
		_ = r.SetHeader("Custom-Header-1", "Custom-Value-1")
		_ = r.SetHeader("Custom-Header-2", "Custom-Value-2")
		return r.SendString(r.UserCtx().(string))
	}
}

// echo streams the request body back (a blocking handler using Recv, as
// ESP's echo_post_handler does with httpd_req_recv).
func echo(r *httpd.Request) error {
	if v := r.Header("Custom"); v != nil {
		if err := r.SetHeader("Custom", string(v)); err != nil {
			return r.SendErr(400, "Custom header value not allowed")
		}
	}
	buf := make([]byte, echoChunk)
	n, err := io.ReadFull(recvReader{r}, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return r.Send(buf[:n])
	case errors.Is(err, httpd.ErrRecvTimeout):
		return r.SendErr(408, "")
	case err != nil:
		return err
	}
	if err := r.SendChunk(buf[:n]); err != nil {
		return err
	}
	for {
		n, err := r.Recv(buf)
		if n > 0 {
			if err := r.SendChunk(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return r.SendChunk(nil)
		}
		if err != nil {
			return err
		}
	}
}

type recvReader struct{ r *httpd.Request }

func (rr recvReader) Read(p []byte) (int, error) { return rr.r.Recv(p) }

// adder keeps a running sum per session, like ESP's persistent_sockets
// example: the session context is created on first use and freed by the
// server when the connection closes.
type adder struct{ sum int64 }

func sessionAdder(r *httpd.Request) *adder {
	if a, ok := r.SessCtx().(*adder); ok {
		return a
	}
	a := &adder{}
	r.SetSessCtx(a, func(any) {})
	return a
}

func bodyInt(r *httpd.Request) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(string(r.Body())), 10, 64)
	return v, err == nil
}

func adderGet(r *httpd.Request) error {
	return r.SendString(strconv.FormatInt(sessionAdder(r).sum, 10))
}

func adderPut(r *httpd.Request) error {
	v, ok := bodyInt(r)
	if !ok {
		return r.SendErr(400, "Body must be an integer")
	}
	sessionAdder(r).sum = v
	return r.SendString(strconv.FormatInt(v, 10))
}

func adderPost(r *httpd.Request) error {
	v, ok := bodyInt(r)
	if !ok {
		return r.SendErr(400, "Body must be an integer")
	}
	a := sessionAdder(r)
	a.sum += v
	return r.SendString(strconv.FormatInt(a.sum, 10))
}
