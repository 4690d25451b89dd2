package interop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/codec/ws"
)

// These tests check WebSocket contracts of the library itself (rather than
// the demo's routes) against independent clients: each starts a server of
// its own with the handlers the contract needs.

// startServer starts an evhttpd server on a free loopback port with the
// given handlers and stops it when the test ends (Stop after a Shutdown is
// a no-op). It returns the server.
func startServer(t *testing.T, hs ...httpd.URIHandler) *httpd.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv(logEnv) != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := httpd.Start(httpd.Config{Addr: "127.0.0.1:0", EventLoops: 2, Logger: log})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	for _, h := range hs {
		if err := srv.RegisterURIHandler(h); err != nil {
			t.Fatalf("RegisterURIHandler(%s): %v", h.URI, err)
		}
	}
	return srv
}

// welcomeHandlers serve /welcome, a WebSocket endpoint (permessage-deflate
// on) that greets each client from its handshake handler, so the greeting
// must follow the 101, and then echoes; and / , a page whose script opens
// /welcome and logs what arrives in #log.
func welcomeHandlers() []httpd.URIHandler {
	return []httpd.URIHandler{
		{URI: "/welcome", Method: "GET", IsWebSocket: true, WSDeflate: &ws.DeflateConfig{},
			Handler: func(r *httpd.Request) error {
				if r.IsWSHandshake() {
					return r.WSSend(httpd.WSFrame{Type: httpd.WSText, Payload: []byte("welcome, client " + r.Session().ID().String())})
				}
				f, _ := r.WSFrame()
				return r.WSSend(httpd.WSFrame{Type: f.Type, Payload: f.Payload})
			}},
		{URI: "/", Method: "GET", Handler: func(r *httpd.Request) error {
			_ = r.SetType("text/html; charset=utf-8")
			return r.SendString(welcomePage)
		}},
	}
}

const welcomePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>welcome</title></head>
<body><pre id="log"></pre>
<script>
const log = document.getElementById("log");
const ws = new WebSocket("ws://" + location.host + "/welcome");
ws.onmessage = (e) => {
  log.textContent += "received: " + e.data + "\n";
  if (e.data.startsWith("welcome")) ws.send("hello back");
};
ws.onclose = (e) => { log.textContent += "closed: " + e.code + "\n"; };
ws.onerror = () => { log.textContent += "error\n"; };
</script></body></html>
`

// TestGorillaWelcome: a frame the handler sends during the handshake
// reaches gorilla as the first message after a valid 101, with and without
// permessage-deflate.
func TestGorillaWelcome(t *testing.T) {
	srv := startServer(t, welcomeHandlers()...)
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[compress], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), goClientTimeout)
			defer cancel()
			d := websocket.Dialer{EnableCompression: compress, HandshakeTimeout: 10 * time.Second}
			c, _, err := d.DialContext(ctx, "ws://"+srv.Addr().String()+"/welcome", nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			deadline, _ := ctx.Deadline()
			_ = c.SetReadDeadline(deadline)
			typ, got, err := c.ReadMessage()
			if err != nil || typ != websocket.TextMessage || len(got) < 8 || string(got[:8]) != "welcome," {
				t.Fatalf("first message = %d %q, %v; want the welcome text", typ, got, err)
			}
			gorillaEcho(t, c, websocket.TextMessage, []byte("after the welcome"), "echo")
			gorillaClose(t, c, deadline)
		})
	}
}

// TestBrowserWelcome: headless Chromium opens a page whose script connects
// to /welcome; the greeting sent during the handshake arrives, and the
// connection carries on (the echo of the script's answer).
func TestBrowserWelcome(t *testing.T) {
	needFile(t, chromiumPath, "Debian package chromium")
	node := needCommand(t, "node", "Node.js")
	dir := needNodeModules(t, "playwright-core")
	srv := startServer(t, welcomeHandlers()...)
	runScript(t, browserTimeout, dir, node, "page.mjs", "http://"+srv.Addr().String()+"/",
		"received: welcome, client ", "received: hello back")
}

// echoHandler is a plain WebSocket echo endpoint at uri.
func echoHandler(uri string) httpd.URIHandler {
	return httpd.URIHandler{URI: uri, Method: "GET", IsWebSocket: true, Handler: func(r *httpd.Request) error {
		if r.IsWSHandshake() {
			return nil
		}
		f, _ := r.WSFrame()
		return r.WSSend(httpd.WSFrame{Type: f.Type, Payload: f.Payload})
	}}
}

// gorillaConnect dials path on srv and checks an echo.
func gorillaConnect(t *testing.T, srv *httpd.Server, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), goClientTimeout)
	defer cancel()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+srv.Addr().String()+path, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(goClientTimeout))
	gorillaEcho(t, c, websocket.TextMessage, []byte("before shutdown"), "echo")
	return c
}

// TestGorillaShutdown: Shutdown sends gorilla clients close 1001 (Going
// Away). Clients that answer (gorilla's default close handler echoes the
// close) and close let Shutdown return nil; one that never reads is forced
// closed when ctx ends, and Shutdown returns ctx's error.
func TestGorillaShutdown(t *testing.T) {
	wantGoingAway := func(t *testing.T, c *websocket.Conn) {
		t.Helper()
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("ReadMessage() error = %v; want a close frame with 1001", err)
		}
	}
	t.Run("clients answer", func(t *testing.T) {
		srv := startServer(t, echoHandler("/ws"))
		a, b := gorillaConnect(t, srv, "/ws"), gorillaConnect(t, srv, "/ws")
		shut := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), goClientTimeout)
		defer cancel()
		go func() { shut <- srv.Shutdown(ctx) }()
		for _, c := range []*websocket.Conn{a, b} {
			wantGoingAway(t, c)
			c.Close()
		}
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown = %v; want nil", err)
		}
	})
	t.Run("a client never answers", func(t *testing.T) {
		srv := startServer(t, echoHandler("/ws"))
		silent := gorillaConnect(t, srv, "/ws")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown = %v; want %v", err, context.DeadlineExceeded)
		}
		wantGoingAway(t, silent) // it was sent before the forced close
	})
}
