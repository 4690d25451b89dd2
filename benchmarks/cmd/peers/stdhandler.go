package main

import (
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// The net/http handler of the bridge comparison (bridge.sh), served by
// three servers: evhttpd's bridge ("bridge", "bridge-loop"), net/http
// ("nethttp-std") and fasthttp's adaptor ("fhadaptor"):
//
//	GET /plaintext   "Hello, World!" as text/plain, with a Server header
//	POST /upload     reads the body through r.Body and answers its length
//	GET /download    1 MiB written with one Write (no Content-Length: chunked)
func init() {
	register("nethttp-std", startNetHTTPStd)
	register("fhadaptor", startFastHTTPAdaptor)
}

var download = make([]byte, 1<<20)

func stdHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Server"] = []string{"bench"}
		h["Content-Type"] = []string{"text/plain"}
		_, _ = io.WriteString(w, hello)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		var buf [32 << 10]byte
		n, err := io.CopyBuffer(io.Discard, r.Body, buf[:])
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header()["Content-Type"] = []string{"text/plain"}
		_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
	})
	mux.HandleFunc("GET /download", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/octet-stream"}
		_, _ = w.Write(download)
	})
	return mux
}

func startNetHTTPStd(c config) (func() error, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	s := &http.Server{Handler: stdHandler()}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return func() error {
		err := s.Close()
		<-done
		return err
	}, nil
}

func startFastHTTPAdaptor(c config) (func() error, error) {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return nil, err
	}
	s := &fasthttp.Server{Handler: fasthttpadaptor.NewFastHTTPHandler(stdHandler()), Name: "bench",
		MaxRequestBodySize: 8 << 20}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	return func() error {
		if err := s.Shutdown(); err != nil {
			return err
		}
		return <-done
	}, nil
}
