package main

import (
	"net"

	"github.com/valyala/fasthttp"
)

func init() { register("fasthttp", startFastHTTP) }

// fastHTTPPlaintext serves GET /plaintext. fasthttp writes Date (cached per
// second) and Server (Server.Name) itself.
func fastHTTPPlaintext(ctx *fasthttp.RequestCtx) {
	if !ctx.IsGet() || string(ctx.Path()) != "/plaintext" {
		ctx.Error("Not Found", fasthttp.StatusNotFound)
		return
	}
	ctx.SetContentType("text/plain")
	ctx.SetBodyString(hello)
}

func startFastHTTP(c config) (func() error, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	s := &fasthttp.Server{Handler: fastHTTPPlaintext, Name: "fasthttp"}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return func() error {
		if err := s.Shutdown(); err != nil {
			return err
		}
		return <-done
	}, nil
}
