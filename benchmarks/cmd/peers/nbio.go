package main

import (
	"io"
	"net/http"
	"strconv"
)

func init() { register("nbio", startNbioHTTP) }

var helloLen = []string{strconv.Itoa(len(hello))}

// nbioPlaintext serves GET /plaintext. nbhttp writes Date itself but sends
// a chunked body unless Content-Length is set, so it is set here to match
// the other peers' replies.
func nbioPlaintext(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Server"] = []string{"nbio"}
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = helloLen
	_, _ = io.WriteString(w, hello)
}

func startNbioHTTP(c config) (func() error, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", nbioPlaintext)
	return startNbioEngine(c, mux)
}
