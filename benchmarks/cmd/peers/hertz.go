//go:build !nohertz

package main

import (
	"context"
	"io"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/hlog"
)

// hertz (with its default netpoll transport on Linux) is optional: build
// with -tags nohertz where it does not compile.
func init() { register("hertz", startHertz) }

// hertzPlaintext serves GET /plaintext; hertz writes Date and
// "Server: hertz" itself.
func hertzPlaintext(_ context.Context, ctx *app.RequestContext) {
	ctx.SetContentType("text/plain")
	ctx.SetBodyString(hello)
}

func startHertz(c config) (func() error, error) {
	hlog.SetOutput(io.Discard)
	h := server.New(server.WithHostPorts(c.addr), server.WithDisablePrintRoute(true),
		server.WithExitWaitTime(time.Second))
	h.GET("/plaintext", hertzPlaintext)
	done := make(chan error, 1)
	go func() { done <- h.Run() }()
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			return err
		}
		return <-done
	}, nil
}
