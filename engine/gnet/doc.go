// Package gnet is the engine backend on panjf2000/gnet v2 event loops:
// the only package that imports gnet. It registers as "gnet", the default
// engine (the httpd package imports it). Its own settings are in Options.
//
// # Loops
//
// A loop is one gnet event loop, one goroutine polling epoll or kqueue:
// every Handler call for a connection runs on it. gnet calls OnClose
// synchronously inside a failed Write; the backend then defers the
// Handler's OnClose until the callback returns (engine.Core).
//
// # Accepting
//
// gnet's accept path answers every accept error other than EAGAIN, EINTR,
// ECONNRESET and ECONNABORTED with ErrAcceptSocket, which ends the poll loop
// and shuts the whole engine down: one EMFILE would stop the server. So the
// backend gives gnet no TCP listener; engine.Acceptor accepts and backs off,
// and each accepted connection goes to a loop chosen round robin through
// gnet's EventLoop.Enroll, which duplicates the descriptor, closes the
// original and registers the duplicate on the loop. Enrolment results are
// collected in order (at most Options.EnrollQueue in flight, 8 per loop by
// default: gnet runs each enrolment on a pooled goroutine that outlives it
// by 10 s, so the bound also caps the goroutines a burst leaves behind);
// one that failed for lack of descriptors also pauses the acceptor. Stop
// first stops accepting and waits for every enrolment, so no connection can
// slip in after gnet closed the others.
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
// Options.CalibrationProbes); loops never reached use forwarding.
//
// Wake rings the loop's engine.Bell and sends a datagram only when the bell
// was silent. A failed send (EAGAIN, ENOBUFS) falls back to Execute. A
// datagram can still vanish (a full receive buffer under a flood of junk):
// the ticker re-delivers any bell that stayed rung through two ticks while
// its loop served nothing (engine.BellWatch), so no wake is lost for longer
// than about two TimerResolution steps.
//
// WakeLocal (engine.LocalWaker) rings the same bell but delivers a silent
// one through Execute, an eventfd write, instead of a datagram: the
// server uses it for what its own workers hand back to a loop, where a
// datagram's send, receive and gnet's five allocations per datagram read
// cost about 4% of a Blocking request on one core. QueueWork and the
// other wakes open to users still ring the doorbell.
//
// # Timers and ticks
//
// gnet's ticker runs on its own goroutine; every TimerResolution it rings a
// tick bit on each loop's bell, and the loop itself advances its timer
// wheel, finishes CloseWrites whose output drained, and runs OnTick every
// TickInterval.
//
// # Limits of gnet that show through
//
// At most MaxLoops (256) loops. gnet keeps one logger for the whole process
// (the last engine started sets it) and a process-wide worker pool used by
// Enroll, whose idle goroutines linger for up to about 20s after use; they
// are gnet's, not an engine's. Another program of the same user can join
// the control port's reuseport group and steal doorbells; the token keeps
// its datagrams out, and the ticker's re-delivery keeps lost wakes from
// hanging a loop.
package gnet
