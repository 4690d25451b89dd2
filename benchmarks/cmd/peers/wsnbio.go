package main

import (
	"context"
	"net/http"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func init() { register("ws-nbio", startWSNbio) }

// startNbioEngine runs nbhttp in non-blocking mode (IOModNonBlocking: every
// connection served by c.loops poller goroutines, no goroutine per
// connection) with handler on the mux.
func startNbioEngine(c config, mux *http.ServeMux) (func() error, error) {
	logging.SetLevel(logging.LevelError)
	eng := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{c.addr},
		Handler:                 mux,
		IOMod:                   nbhttp.IOModNonBlocking,
		NPoller:                 c.loops,
		MaxLoad:                 1 << 20,
		ReleaseWebsocketPayload: true,
	})
	if err := eng.Start(); err != nil {
		return nil, err
	}
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return eng.Shutdown(ctx)
	}, nil
}

func startWSNbio(c config) (func() error, error) {
	up := websocket.NewUpgrader()
	up.EnableCompression(c.deflate)
	// data is released after the callback (ReleaseWebsocketPayload);
	// WriteMessage copies it into the connection's output first.
	up.OnMessage(func(conn *websocket.Conn, typ websocket.MessageType, data []byte) {
		_ = conn.WriteMessage(typ, data)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if _, err := up.Upgrade(w, r, nil); err != nil {
			return
		}
	})
	return startNbioEngine(c, mux)
}
