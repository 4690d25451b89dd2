// Command demo serves the routes of esp_http_server's examples:
//
//	GET /hello            200 "Hello World!" with two custom headers
//	POST, PUT /echo        echoes the body, copying the Custom header
//	GET, PUT, POST /adder  a per-session accumulator freed when the connection closes
//	GET /ws                WebSocket echo (subprotocol chat, permessage-deflate, 16 MiB
//	                       messages); the text "Trigger async" gets "Async data" back
//	GET /chat              WebSocket chat room: a greeting after the 101, every text
//	                       message broadcast to every member
//	GET /events            Server-Sent Events: a counter once a second (?every=200ms, ?count=N)
//	GET /                  a page whose script talks to /ws
//
// and, through the net/http bridge (package nethttp), on the Blocking pool:
//
//	/std/                  a ServeMux behind gzip and an access log: GET /std/items
//	                       lists the items as JSON, GET, PUT and DELETE /std/items/{id}
//	GET /static/           http.FileServer over sample files (listing, Range, 304s)
//	/debug/pprof/          net/http/pprof, only when listening on loopback
//
// HEAD is served by the GET handlers; another method on a known URI gets 405
// with Allow (DELETE /hello), and an absolute-form target
// (GET http://host/hello) is routed by its path.
//
// With -tls it serves the same routes over HTTPS (and wss) with a generated
// self-signed certificate whose directory it prints.
//
// With -engine netpoll it runs on cloudwego/netpoll instead of gnet (on the
// platforms netpoll supports).
//
// Usage: go run ./cmd/demo [-addr 127.0.0.1:8080] [-loops N] [-engine gnet|netpoll] [-tls] [-v]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	httpd "github.com/evhttpd/httpd"
	"github.com/evhttpd/httpd/engine"
	_ "github.com/evhttpd/httpd/engine/netpoll" // -engine netpoll
	"github.com/evhttpd/httpd/internal/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "TCP address to listen on")
	loops := flag.Int("loops", 0, "event loops (0: GOMAXPROCS)")
	verbose := flag.Bool("v", false, "debug logging")
	useTLS := flag.Bool("tls", false, "serve HTTPS with a generated self-signed certificate")
	eng := flag.String("engine", engine.DefaultBackend, fmt.Sprintf("poller backend, one of %v", engine.Backends()))
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := httpd.Config{Addr: *addr, EventLoops: *loops, Engine: *eng, Logger: log}
	scheme := "http://"
	if *useTLS {
		tcfg, dir, err := selfSignedTLS()
		if err != nil {
			log.Error("generating the TLS certificate failed", "err", err)
			os.Exit(1)
		}
		cfg.TLS, cfg.OnEvent, scheme = tcfg, logHTTPSEvents(log), "https://"
		log.Info("self-signed certificate written", "dir", dir,
			"try", "curl --cacert "+filepath.Join(dir, "cert.pem")+" https://"+*addr+"/hello")
	}
	srv, err := demo.Start(cfg, log)
	if err != nil {
		log.Error("start failed", "err", err)
		os.Exit(1)
	}
	log.Info("evhttpd demo listening", "addr", scheme+srv.Addr().String(), "engine", *eng)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
