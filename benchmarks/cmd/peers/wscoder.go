package main

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

func init() { register("ws-coder", startWSCoder) }

func startWSCoder(c config) (func() error, error) {
	opts := &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled}
	if c.deflate {
		opts.CompressionMode = websocket.CompressionContextTakeover
	}
	return startHTTPWS(c, func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, opts)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		conn.SetReadLimit(wsMaxMessage)
		ctx := context.Background()
		for {
			typ, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if err := conn.Write(ctx, typ, msg); err != nil {
				return
			}
		}
	})
}
