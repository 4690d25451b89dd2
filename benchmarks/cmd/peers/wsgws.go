package main

import (
	"net/http"

	"github.com/lxzan/gws"
)

func init() { register("ws-gws", startWSGws) }

// gwsEcho echoes each message with the same opcode. message.Bytes() is
// valid until message.Close, which returns its buffer to gws's pool.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}

func startWSGws(c config) (func() error, error) {
	up := gws.NewUpgrader(gwsEcho{}, &gws.ServerOption{
		ReadMaxPayloadSize: wsMaxMessage,
		PermessageDeflate:  gws.PermessageDeflate{Enabled: c.deflate},
	})
	return startHTTPWS(c, func(w http.ResponseWriter, r *http.Request) {
		socket, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		// gws's documented pattern: ReadLoop on its own goroutine, so the
		// net/http handler returns.
		go socket.ReadLoop()
	})
}
