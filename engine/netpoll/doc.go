// Package netpoll is the engine backend on cloudwego/netpoll (v0.7.2), the
// poller under CloudWeGo's Kitex and Hertz. Importing the package registers
// it as "netpoll" (on linux amd64, arm64 and loong64, darwin and freebsd
// amd64 and arm64, where netpoll builds; elsewhere it registers nothing and
// Supported is false):
//
//	import _ "github.com/evhttpd/httpd/engine/netpoll"
//
//	srv, err := httpd.Start(httpd.Config{Engine: "netpoll"})
//
// netpoll is not an event-loop library: it polls sockets on a few
// process-wide poller goroutines, reads into a buffer per connection, and
// runs the connection's OnRequest, by default on a pooled goroutine (this
// backend runs it on the poller instead: see Options.Pooled) while unread
// bytes remain; its Flush blocks until the socket took everything, and it has no
// API to register another descriptor. This package builds evhttpd's loops
// on top of that, with the guarantees of engine's contract.
//
// # Loops
//
// A loop is a mutex plus one goroutine of its own. netpoll's OnRequest
// task (run by the poller goroutine that read the input, or by a pooled
// goroutine with Options.Pooled) takes the loop's mutex to run OnTraffic; the acceptor takes it
// to run OnOpen; the loop's goroutine takes it to run OnWake, OnTick,
// timers, write readiness and peer closes. So one loop's callbacks never
// overlap and each sees what the one before did, but they do not all run
// on one goroutine. Connections are spread over the loops round robin;
// which of netpoll's pollers reads a connection is netpoll's business.
//
// # Input
//
// During OnTraffic the driver reads netpoll's buffer in place (a buffer
// that spans netpoll's nodes is copied once by netpoll's Peek). What the
// driver leaves unconsumed is copied into a buffer of the connection before
// OnRequest returns: netpoll would otherwise run OnRequest again at once,
// for ever, while a partial request waits for its next byte. The copy is
// returned to the loop when the driver consumed it, so an idle connection
// holds no buffer of ours and no goroutine.
//
// # Output
//
// Write goes to the socket directly (write(2), non-blocking); what the
// socket does not take waits in the connection's output buffer, so
// OutboundBuffered is exact. The engine keeps one epoll (kqueue on the
// BSDs) instance of its own, where a socket is registered one-shot for
// writability only while output waits; one goroutine per engine waits on
// it and hands ready connections to their loop. netpoll's own output path
// is never used.
//
// # Closing
//
// When netpoll finds the peer gone it runs the connection's close callbacks
// (after its last OnRequest returned) and then closes the descriptor. The
// backend's callback hands the connection to its loop and waits until the
// loop ran OnClose, so the loop never writes to a descriptor netpoll closed
// (and maybe handed to a new connection). OnClose then reports io.EOF:
// netpoll does not say whether the peer closed or reset. When the loop
// closes a connection it runs OnClose first and then tells netpoll.
//
// # Wake and the control socket
//
// netpoll cannot register the UDP control socket, so Wake does not use it:
// it rings the loop's bell (engine.Bell) and, when the bell was silent,
// signals the loop's goroutine through a channel (no system call when that
// goroutine is running anyway). The control socket is still bound on
// CtrlAddr and read by one goroutine of the engine (through the Go
// runtime's poller): a datagram with the instance token that names a loop
// rings that loop like Wake, anything else is counted in
// Stats.DoorbellsDropped and dropped. The datagram path therefore costs a
// goroutine hop that gnet's does not, and Stats.DoorbellsSent stays 0.
//
// # Process-wide settings and what outlives an engine
//
// netpoll's pollers, its runner (inline or pooled) and its buffer sizes
// belong to the process. The first Start applies Options.BufferSize
// (default 512 bytes instead of netpoll's 8 KiB: netpoll keeps one buffer
// node per idle connection) and Options.Pooled (default: tasks run inline
// on the pollers, with one poller per loop up to GOMAXPROCS), and routes
// netpoll's log to that engine's Logger at Debug.
// netpoll's pollers start on first use and run until the process exits.
//
// # Costs
//
// netpoll allocates once per readable event (the task closure of its
// OnRequest dispatch; with Options.Pooled, once more for the goroutine
// closure of its pooled worker); the engine adds nothing. Each connection costs netpoll's connection state,
// a 32-entry iovec array netpoll keeps for output it never sends here, and
// one input buffer node of at least BufferSize, beside the engine's own
// wrapper (about 200 bytes). See the README for the measured idle cost.
//
// Not supported here: gnet's per-loop UDP doorbells, and sockets other than
// TCP and Unix streams (netpoll has no UDP connections).
package netpoll
