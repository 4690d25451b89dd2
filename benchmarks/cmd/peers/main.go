// Command peers runs one server of the side-by-side benchmarks (cmd/suite,
// http.sh). The HTTP servers answer GET /plaintext with the 13-byte body
// "Hello, World!", Content-Type text/plain, and Date and Server headers:
//
//	peers -server gnet-raw  -addr 127.0.0.1:8080 -loops 1
//	peers -server fasthttp  -procs 1
//	peers -server nethttp
//	peers -server evhttpd
//	peers -server hertz
//	peers -server nbio
//
// gnet-raw is the ceiling: a gnet v2 server that does not parse at all and
// answers one canned response per "\r\n\r\n" it finds.
//
// The WebSocket servers (ws-evhttpd, ws-gws, ws-gorilla, ws-coder,
// ws-gobwas, ws-nbio) echo every text or binary message received on GET /ws
// back with the same type. -deflate lets them negotiate permessage-deflate
// (RFC 7692) where the library supports it; ws-gobwas does not (its
// low-level API leaves extensions to the caller) and refuses the flag.
//
// SIGUSR1 makes the process collect garbage and return free memory to the
// OS (debug.FreeOSMemory), for cmd/wsload -idle -gc; with PEERS_MEMSTATS
// set in the environment it then prints the runtime's memory statistics to
// stderr (a diagnostic for where idle memory goes).
//
// -cpuprofile writes a CPU profile of the whole run to a file, for finding
// where a server spends its time under load; -memprofile writes a heap
// profile when the process is signalled to stop, before the server closes
// its connections (for the idle-memory comparison).
//
// Each server lives in its own file and registers itself from init, so
// adding one is one file.
//
// The process serves until SIGINT or SIGTERM, then stops its server and
// exits. It prints "ready <addr>" on stdout once the server accepts
// connections.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// hello is the body of every plaintext reply.
const hello = "Hello, World!"

// config is what every server is started with.
type config struct {
	addr    string // TCP address to listen on, host:port
	loops   int    // event loops, for the servers that have them
	deflate bool   // negotiate permessage-deflate (WebSocket servers)
	// memprofile, when set, names the file run writes a heap profile to
	// when signalled, while the server still holds its connections.
	memprofile string
	// engineOptions is passed to evhttpd as Config.EngineOptions.
	engineOptions any
}

// errNoDeflate is returned by WebSocket servers whose library cannot
// negotiate permessage-deflate.
var errNoDeflate = errors.New("peers: this server does not support -deflate")

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
	deflate := flag.Bool("deflate", false, "WebSocket servers: negotiate permessage-deflate")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memprofile := flag.String("memprofile", "", "on SIGINT/SIGTERM, write a heap profile to this file before stopping the server")
	flag.Parse()
	if *memprofile != "" {
		// Record every allocation: idle connections hold many small ones
		// that the default 512 KiB sampling would mostly miss.
		runtime.MemProfileRate = 1
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(1)
		}
	}
	err := run(*server, config{addr: *addr, loops: *loops, deflate: *deflate, memprofile: *memprofile}, *procs)
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
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
	// SIGUSR1 collects garbage and returns freed memory to the OS, so that
	// cmd/wsload -idle -gc can read the server's live footprint next to
	// its raw RSS.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	go func() {
		for range usr1 {
			debug.FreeOSMemory() // runs a GC first
			if os.Getenv("PEERS_MEMSTATS") != "" {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				fmt.Fprintf(os.Stderr, "memstats heapAlloc=%d heapInuse=%d heapIdle=%d heapReleased=%d stackInuse=%d mspanInuse=%d mcacheInuse=%d buckHash=%d gcSys=%d otherSys=%d sys=%d goroutines=%d\n",
					m.HeapAlloc, m.HeapInuse, m.HeapIdle, m.HeapReleased, m.StackInuse, m.MSpanInuse, m.MCacheInuse, m.BuckHashSys, m.GCSys, m.OtherSys, m.Sys, runtime.NumGoroutine())
			}
		}
	}()
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
	if c.memprofile != "" {
		if err := writeHeapProfile(c.memprofile); err != nil {
			stop()
			return err
		}
	}
	return stop()
}

// writeHeapProfile collects garbage and writes the live heap to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
