// Package engine is evhttpd's poller adapter: the only package that imports
// gnet. It runs N gnet v2 event loops and gives the protocol driver a small,
// gnet-free surface: Conn (one TCP connection, used on its own loop), Handler
// (the loop's callbacks), and Engine (Start, Wake, StopAccepting, Stop,
// Stats). A netpoll backend can later sit behind the same interfaces.
//
//	e, err := engine.Start(engine.Config{Addr: "127.0.0.1:0", Loops: 1}, h)
//	if err != nil {
//		return err
//	}
//	defer e.Stop(context.Background())
//	_ = e.Wake(0) // from any goroutine: h.OnWake(0) runs on loop 0
//
// # What it owns
//
// The TCP listener and its acceptor goroutine, the gnet engine with its
// loops, the UDP control socket (one gnet socket per loop on one port), the
// per-loop doorbell sender sockets, and a timer wheel per loop. Every Handler
// call for a connection runs on that connection's loop; OnClose runs exactly
// once per opened connection, never inside another callback (closes asked
// for inside a callback, and closes gnet performs inside a failed Write, are
// finished when the callback returns).
//
// # Why not gnet's acceptor
//
// gnet's accept path answers every accept error other than EAGAIN, EINTR,
// ECONNRESET and ECONNABORTED with ErrAcceptSocket, which ends the poll loop
// and shuts the whole engine down: one EMFILE would stop the server. So the
// engine gives gnet no TCP listener. Its own goroutine accepts on a
// net.Listener and, when Accept fails (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...),
// pauses AcceptBackoffMin, doubling up to AcceptBackoffMax, logging one
// warning per episode. Each accepted connection goes to a loop chosen round
// robin through gnet's EventLoop.Enroll, which duplicates the descriptor,
// closes the original and registers the duplicate on the loop. Enrollment
// results are collected in order (at most EnrollQueue in flight, 8 per loop by
// default: gnet runs each enrolment on a pooled goroutine that outlives it by
// 10 s, so the bound also caps the goroutines a burst leaves behind); one that
// failed for lack of descriptors also pauses the acceptor. Stop first stops
// accepting and waits for every enrollment, so no connection can slip in
// after gnet closed the others.
//
// # Doorbells
//
// gnet is started on "udp://"+CtrlAddr, so every loop gets its own UDP
// socket on the same port (SO_REUSEPORT, which gnet forces for UDP). A port
// of 0 is first resolved by binding a placeholder socket with SO_REUSEPORT,
// kept until gnet's sockets are bound. On Linux the kernel picks the
// receiving socket by a hash of the 4-tuple, on the BSDs one socket receives
// everything. So every doorbell names its target loop (ctrl.AppendDoorbell,
// with the instance token), and a loop that receives one for another loop
// forwards it through that loop's task queue (gnet's Execute). gnet has no
// loop index: Start enrolls one throwaway socket per loop through gnet's
// round-robin balancer and numbers the loops in the order their OnOpen
// reports them. It then calibrates: probes from fresh connected sockets
// until each loop owns a sender whose datagrams land on it (bounded by
// CalibrationProbes); loops never reached use forwarding.
//
// Wake sets a bit in the loop's bell word and sends a datagram only when the
// word was zero, so at most one doorbell per loop is in flight and a burst of
// Wakes costs one datagram and one OnWake. A failed send (EAGAIN, ENOBUFS)
// falls back to Execute. Datagrams that fail ctrl.ParseDoorbell are counted
// and dropped without allocating. A datagram can still vanish (a full
// receive buffer under a flood of junk): the ticker re-delivers any bell that
// stayed rung through two ticks while its loop served nothing, so no wake is
// lost for longer than about two TimerResolution steps.
//
// # Timers and ticks
//
// gnet's ticker runs on its own goroutine; every TimerResolution it rings a
// tick bit on each loop, and the loop itself advances its hashed timing
// wheel (TimerSlots slots of TimerResolution each), finishes CloseWrites
// whose output drained, and runs OnTick every TickInterval. A connection's
// timer is an intrusive list entry in its Conn: SetTimer and cancel are O(1)
// and allocate nothing; there is no goroutine or time.Timer per connection.
//
// # Limits of gnet that show through
//
// gnet keeps one logger for the whole process (the last engine started
// sets it) and a process-wide worker pool used by Enroll, whose idle
// goroutines linger for up to about 20s after use; they are gnet's, not an
// engine's. Another program of the same user can join the control port's
// reuseport group and steal doorbells; the token keeps its datagrams out,
// and the ticker's re-delivery keeps lost wakes from hanging a loop.
package engine
