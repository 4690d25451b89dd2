//go:build !noevhttpd

package main

import (
	"log/slog"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/codec/ws"
	"github.com/evhttpd/httpd/engine/netpoll"
)

// evhttpd on its netpoll engine (cloudwego/netpoll, the poller under
// hertz): the same handlers as evhttpd.go, another poller underneath.
func init() {
	register("evhttpd-netpoll", startEvhttpdNetpoll)
	register("ws-evhttpd-netpoll", startWSEvhttpdNetpoll)
}

func startEvhttpdNetpoll(c config) (func() error, error) {
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Engine: netpoll.Name,
		Logger: slog.New(slog.DiscardHandler)})
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

func startWSEvhttpdNetpoll(c config) (func() error, error) {
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Engine: netpoll.Name,
		Logger: slog.New(slog.DiscardHandler)})
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
