// Package enginetest is the conformance suite every engine backend must
// pass: black-box tests of the engine.Engine, engine.Conn and
// engine.Handler contract over real loopback sockets (echo with pipelining,
// exactly-once OnClose, closes from every callback, CloseWrite after a
// large queued write, a peer's last bytes before its OnClose, Write that
// never blocks with an exact OutboundBuffered, leftover input kept without
// OnTraffic re-running for it, no goroutine per idle connection, timers,
// ticks, Wake from many goroutines, junk on the control socket, EMFILE
// back-off, allocation gates, leaks after Stop).
// A backend's package runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		enginetest.Run(t, enginetest.Suite{Backend: "mybackend"})
//	}
//
// What the suite checks of loops is the contract's, not one poller's: the
// callbacks of one loop never overlap and a connection's callbacks run on
// its loop; it does not require a loop to be one goroutine.
package enginetest
