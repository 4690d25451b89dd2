package main

import (
	"net/http"

	"github.com/gorilla/websocket"
)

func init() { register("ws-gorilla", startWSGorilla) }

func startWSGorilla(c config) (func() error, error) {
	up := &websocket.Upgrader{EnableCompression: c.deflate}
	return startHTTPWS(c, func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetReadLimit(wsMaxMessage)
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	})
}
