package demo

import (
	_ "embed"
	"log/slog"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/codec/ws"
)

//go:embed index.html
var indexHTML []byte

// registerWS adds the ESP ws_echo_server routes: GET /ws echoes text and
// binary messages; the text "Trigger async" makes the server send
// "Async data" through queued work, as ESP's example does with
// httpd_queue_work and httpd_ws_send_frame_async. GET / serves a page whose
// script uses it.
func registerWS(srv *httpd.Server, log *slog.Logger) error {
	if err := srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/", Method: "GET",
		Handler: func(r *httpd.Request) error {
			r.SetType("text/html; charset=utf-8")
			return r.Send(indexHTML)
		},
	}); err != nil {
		return err
	}
	if err := registerChat(srv); err != nil {
		return err
	}
	return srv.RegisterURIHandler(httpd.URIHandler{
		URI: "/ws", Method: "GET", IsWebSocket: true,
		Subprotocols: []string{"chat"},
		WSMaxMessage: 16 << 20,
		WSDeflate:    &ws.DeflateConfig{},
		Handler: func(r *httpd.Request) error {
			if r.IsWSHandshake() {
				log.Debug("/ws handshake done", "session", r.Session().ID(), "subprotocol", r.WSSubprotocol())
				return nil
			}
			f, _ := r.WSFrame()
			if f.Type == httpd.WSText && string(f.Payload) == "Trigger async" {
				srv := r.Server()
				id := r.Session().ID()
				return srv.QueueWork(id, func(s *httpd.Session) {
					_ = s.WSSend(httpd.WSFrame{Type: httpd.WSText, Payload: []byte("Async data")})
				})
			}
			return r.WSSend(httpd.WSFrame{Type: f.Type, Payload: f.Payload})
		},
	})
}
