//go:build !noevhttpd

package main

import (
	"log/slog"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/nethttp"
)

// The bridge servers of bridge.sh: stdHandler mounted on evhttpd with
// nethttp.Mount, its requests on the Blocking worker pool ("bridge"), and
// the same handler registered without Blocking so that it runs on the loop
// ("bridge-loop": what a handler that never blocks may choose).
func init() {
	register("bridge", func(c config) (func() error, error) { return startBridge(c, true) })
	register("bridge-loop", func(c config) (func() error, error) { return startBridge(c, false) })
}

func startBridge(c config, blocking bool) (func() error, error) {
	srv, err := httpd.Start(httpd.Config{Addr: c.addr, EventLoops: c.loops, Logger: slog.New(slog.DiscardHandler),
		URIMatch: httpd.MatchPattern, MaxBodySize: 8 << 20})
	if err != nil {
		return nil, err
	}
	u := httpd.URIHandler{URI: "/", Method: httpd.MethodAny}
	if blocking {
		err = nethttp.Mount(srv, u, stdHandler())
	} else {
		u.Handler = nethttp.Handler(stdHandler())
		err = srv.RegisterURIHandler(u)
	}
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return srv.Stop, nil
}
