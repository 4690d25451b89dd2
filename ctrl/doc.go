// Package ctrl is the control channel of an evhttpd server: the way any
// goroutine hands work to an event loop without locks and without waking the
// loop more often than needed.
//
// It owns two things, both free of I/O:
//
//   - Queue, a bounded lock-free multi-producer single-consumer ring of Items
//     per event loop, with an armed flag that tells a producer when the
//     consumer is idle and must be woken.
//   - The doorbell datagram codec (AppendDoorbell, ParseDoorbell). The server
//     registers a loopback UDP socket with its poller; a producer that Push
//     told to ring sends one doorbell to it. The datagram carries only the
//     loop index, a Kind hint, a sequence number and the server's random
//     Token: work never travels in it, and a datagram that fails to parse is
//     dropped, so junk on the control port cannot queue anything.
//
// A producer, on any goroutine:
//
//	ring, err := q.Push(ctrl.Item{Kind: kindWork, Arg: fn, ID: uint64(id)})
//	if err != nil {
//		return err // ctrl.ErrFull: the loop is saturated
//	}
//	if ring {
//		buf = ctrl.AppendDoorbell(buf[:0], token, loop, ctrl.KindWork, 0)
//		conn.Write(buf) // to the control socket
//	}
//
// The loop, on a doorbell or whenever the last Drain reported more:
//
//	if _, kind, _, ok := ctrl.ParseDoorbell(pkt, token); ok && kind == ctrl.KindWork {
//		_, more = q.Drain(256, run)
//	}
//
// The ring follows Dmitry Vyukov's bounded queue (per-cell sequence numbers);
// the doorbell's CRC is CRC-32C (RFC 3720 §B.4 describes the polynomial).
package ctrl
