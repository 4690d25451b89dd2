// Package engine is evhttpd's boundary with the poller: the small,
// poller-free surface the protocol driver is written against, a registry of
// backends that implement it, and the poller-independent parts those
// backends share.
//
//   - Conn is one TCP connection, used on its own loop; Handler receives a
//     loop's callbacks; Engine is a running backend (Addr, CtrlAddr, Loops,
//     Wake, StopAccepting, Stop, Stats).
//
//   - Backends register themselves by name in their package's init, the way
//     database/sql drivers do, so importing a backend's package is what links
//     it and its dependencies into a program. Config.Backend picks one:
//     "gnet" (engine/gnet, panjf2000/gnet v2, the default, imported by the
//     httpd package) or "netpoll" (engine/netpoll, cloudwego/netpoll, linux,
//     darwin and freebsd).
//
//   - Config holds what every backend understands; Config.Options carries a
//     backend's own settings (*gnet.Options, *netpoll.Options). Every
//     invalid setting, a backend's own limits included, is reported by an
//     error wrapping ErrConfig.
//
//     e, err := engine.Start(engine.Config{Addr: "127.0.0.1:0", Loops: 1}, h)
//     if err != nil {
//     return err
//     }
//     defer e.Stop(context.Background())
//     _ = e.Wake(0) // from any goroutine: h.OnWake(0) runs on loop 0
//
// # The contract
//
// A loop is a serial context, not necessarily one goroutine: one loop's
// callbacks never overlap and each sees the effects of the one before; a
// connection's callbacks, its timer, and its loop's OnWake and OnTick all
// run on that loop. OnClose runs exactly once per opened connection, after
// its other callbacks and never from inside another callback (closes asked
// for inside a callback are finished when it returns). Idle connections
// hold no goroutine. Write never blocks and OutboundBuffered is exact, so
// the driver's backpressure can count on it. Leftover input stays buffered
// until the driver discards it, and the engine does not call OnTraffic
// again for it until new bytes arrive.
//
// # Shared parts
//
// Acceptor is the accept goroutine both backends use instead of their
// library's: a failed Accept (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...) pauses
// AcceptBackoffMin, doubling up to AcceptBackoffMax, with one warning per
// episode, and the hand-off to a loop is the backend's. Core is a loop's
// poller-independent state: the Bell that coalesces wake-ups (Wake sets a
// bit and delivers only when the word was zero, so a burst of Wakes costs
// one delivery and one OnWake), the close bookkeeping (closes requested
// inside callbacks, OnClose owed for closes the poller performed inside a
// callback, CloseWrites waiting for the outbound queue to drain), the
// hashed timer Wheel (TimerSlots slots of TimerResolution; a connection's
// timer is an intrusive TimerLink, so SetTimer allocates nothing and no
// goroutine or time.Timer exists per connection) and the tick clock that
// runs OnTick every TickInterval.
//
// # The control socket
//
// Every backend binds a loopback UDP control socket (CtrlAddr). A datagram
// is only ever a doorbell: it names a loop and carries the per-instance
// token (ctrl.AppendDoorbell); anything else is counted and dropped without
// allocating. How Wake reaches a loop is the backend's: gnet registers one
// UDP socket per loop in the loop's own poller and sends a datagram; netpoll
// cannot register an arbitrary descriptor, so its loops are woken through
// a channel and the control socket is read by one goroutine of its own (see
// each backend's package documentation).
//
// Package enginetest is the conformance suite every backend passes.
package engine
