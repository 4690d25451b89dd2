package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

func init() { register("nethttp", startNetHTTP) }

// netHTTPPlaintext serves GET /plaintext. net/http writes Date itself and
// Content-Length for a body this small.
func netHTTPPlaintext(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Server"] = []string{"nethttp"}
	h["Content-Type"] = []string{"text/plain"}
	_, _ = io.WriteString(w, hello)
}

func startNetHTTP(c config) (func() error, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	return serveNetHTTP(ln), nil
}

// serveNetHTTP serves GET /plaintext on ln with net/http and returns the
// function that shuts the server down.
func serveNetHTTP(ln net.Listener) func() error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", netHTTPPlaintext)
	s := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
