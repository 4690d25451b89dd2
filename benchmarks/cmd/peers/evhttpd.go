//go:build !noevhttpd

package main

import (
	"log/slog"

	httpd "github.com/evhttpd/httpd"
)

// This file is the only one that imports the root package; http.sh builds
// with -tags noevhttpd while the root package does not compile.
func init() { register("evhttpd", startEvhttpd) }

// evhttpdPlaintext serves GET /plaintext on the event loop. evhttpd writes
// Date (cached per second) itself; Server is set to match the peers' reply.
func evhttpdPlaintext(r *httpd.Request) error {
	if err := r.SetType("text/plain"); err != nil {
		return err
	}
	if err := r.SetHeader("Server", "evhttpd"); err != nil {
		return err
	}
	return r.SendString(hello)
}

func startEvhttpd(c config) (func() error, error) {
	quietLogger := slog.New(slog.DiscardHandler)
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Logger: quietLogger})
	if err != nil {
		return nil, err
	}
	err = srv.RegisterURIHandler(httpd.URIHandler{URI: "/plaintext", Method: "GET", Handler: evhttpdPlaintext})
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return srv.Stop, nil
}
