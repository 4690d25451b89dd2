// Command peers runs one HTTP/1.1 server for the plaintext benchmark
// (http.sh). Every server answers GET /plaintext with the 13-byte body
// "Hello, World!", Content-Type text/plain, and Date and Server headers:
//
//	peers -server gnet-raw  -addr 127.0.0.1:8080 -loops 1
//	peers -server fasthttp  -procs 1
//	peers -server nethttp
//	peers -server evhttpd
//
// gnet-raw is the ceiling: a gnet v2 server that does not parse at all and
// answers one canned response per "\r\n\r\n" it finds. Each server lives in
// its own file and registers itself from init, so adding one is one file.
//
// The process serves until SIGINT or SIGTERM, then stops its server and
// exits. It prints "ready <addr>" on stdout once the server accepts
// connections.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// hello is the body of every plaintext reply.
const hello = "Hello, World!"

// config is what every server is started with.
type config struct {
	addr  string // TCP address to listen on, host:port
	loops int    // event loops, for the servers that have them
}

// startFunc starts a server listening on c.addr and returns a function that
// stops it and releases everything it holds.
type startFunc func(c config) (stop func() error, err error)

var servers = map[string]startFunc{}

// register adds a server under name; called from init.
func register(name string, start startFunc) {
	if _, dup := servers[name]; dup {
		panic("peers: server " + name + " registered twice")
	}
	servers[name] = start
}

func names() string {
	n := make([]string, 0, len(servers))
	for k := range servers {
		n = append(n, k)
	}
	slices.Sort(n)
	return strings.Join(n, ", ")
}

func main() {
	server := flag.String("server", "gnet-raw", "server to run: "+names())
	addr := flag.String("addr", "127.0.0.1:8080", "TCP address to listen on")
	loops := flag.Int("loops", 1, "event loops (gnet-raw, evhttpd)")
	procs := flag.Int("procs", 0, "GOMAXPROCS; 0 keeps the runtime's value")
	flag.Parse()
	if err := run(*server, config{addr: *addr, loops: *loops}, *procs); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

func run(server string, c config, procs int) error {
	start, ok := servers[server]
	if !ok {
		return fmt.Errorf("unknown server %q (have %s)", server, names())
	}
	if c.loops < 1 {
		return fmt.Errorf("-loops must be at least 1, have %d", c.loops)
	}
	if procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	stop, err := start(c)
	if err != nil {
		return err
	}
	if err := waitListening(c.addr, 5*time.Second); err != nil {
		stop()
		return err
	}
	fmt.Println("ready", c.addr)
	<-sig
	return stop()
}

// waitListening dials addr until a connection succeeds or d has passed, so
// that "ready" means ready for every server, including the ones whose
// listener starts on another goroutine.
func waitListening(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not listening on %s after %v: %w", addr, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
