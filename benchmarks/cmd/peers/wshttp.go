package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// wsMaxMessage is the largest message every WebSocket peer accepts, set
// where a library's default is smaller than the benchmark's payloads.
const wsMaxMessage = 1 << 20

// hijacked tracks the connections a net/http server handed to a WebSocket
// library, so that stopping the server also closes them (http.Server
// forgets a connection once it is hijacked).
type hijacked struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (h *hijacked) state(c net.Conn, s http.ConnState) {
	if s != http.StateHijacked {
		return
	}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

// forget drops c once its handler is done with it.
func (h *hijacked) forget(c net.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *hijacked) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		c.Close()
	}
	clear(h.conns)
}

// startHTTPWS serves handler on GET /ws with net/http, for the WebSocket
// libraries that upgrade from an http.Handler (gws, gorilla, coder). Each
// upgraded connection gets the library's own goroutine(s).
func startHTTPWS(c config, handler http.HandlerFunc) (func() error, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	h := &hijacked{conns: make(map[net.Conn]struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", handler)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ConnState: h.state}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.Shutdown(ctx)
		h.closeAll()
		if err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}
