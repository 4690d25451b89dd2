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

func startEvhttpd(c config) (func() error, error) { return evhttpdPlainOn(c, "") }

// evhttpdPlainOn starts evhttpd on the named engine ("" for the default)
// serving /plaintext.
func evhttpdPlainOn(c config, eng string) (func() error, error) {
	return evhttpdOn(c, eng, httpd.URIHandler{URI: "/plaintext", Method: "GET", Handler: evhttpdPlaintext})
}

// evhttpdWSOn starts evhttpd on the named engine serving the WebSocket
// echo at /ws.
func evhttpdWSOn(c config, eng string) (func() error, error) {
	h := httpd.URIHandler{URI: "/ws", Method: "GET", IsWebSocket: true, Handler: evhttpdWSEcho}
	if c.deflate {
		h.WSDeflate = &ws.DeflateConfig{}
	}
	return evhttpdOn(c, eng, h)
}

// evhttpdOn starts evhttpd on the named engine with one handler and a
// silent logger, and returns its Stop.
func evhttpdOn(c config, eng string, h httpd.URIHandler) (func() error, error) {
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Engine: eng, EngineOptions: c.engineOptions, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := srv.RegisterURIHandler(h); err != nil {
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

func startWSEvhttpd(c config) (func() error, error) { return evhttpdWSOn(c, "") }
