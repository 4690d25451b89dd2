//go:build !noevhttpd

package main

import (
	"log/slog"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/codec/ws"
)

// This file is the only one that imports the root package; http.sh builds
// with -tags noevhttpd while the root package does not compile.
func init() {
	register("evhttpd", startEvhttpd)
	register("ws-evhttpd", startWSEvhttpd)
}

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

// evhttpdWSEcho answers every message on the event loop with a copy of the
// same type; f.Payload is valid only during the call, and WSSend copies it
// into the session's output before returning.
func evhttpdWSEcho(r *httpd.Request) error {
	if r.IsWSHandshake() {
		return nil
	}
	f, _ := r.WSFrame()
	return r.WSSend(httpd.WSFrame{Type: f.Type, Payload: f.Payload})
}

func startWSEvhttpd(c config) (func() error, error) {
	quietLogger := slog.New(slog.DiscardHandler)
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Logger: quietLogger})
	if err != nil {
		return nil, err
	}
	h := httpd.URIHandler{URI: "/ws", Method: "GET", IsWebSocket: true, Handler: evhttpdWSEcho}
	if c.deflate {
		h.WSDeflate = &ws.DeflateConfig{}
	}
	if err := srv.RegisterURIHandler(h); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv.Stop, nil
}
