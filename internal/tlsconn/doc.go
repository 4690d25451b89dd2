// Package tlsconn is the TLS machine under evhttpd's HTTPS: a Conn is the
// server side of one TLS connection (RFC 8446, and RFC 5246 for TLS 1.2
// clients) driven by an event loop through the calls of the root
// package's Transport interface (Recv, Send, Pending, Flush, Close), with
// no access to the session that carries it. What it needs from the server
// it gets from a Host (Wake, and two notices: the handshake completed, the
// output sent before it could not be encrypted) and from the Params it is
// made with (the tls.Config, a Pool, the handshake timeout); what it
// reports it returns as errors that match the sentinels in conn.go. The
// root package wraps it: NewTLSTransport makes one Conn per session and
// maps the notices onto Config.OnEvent and the server's log.
//
// crypto/tls drives a tls.Conn over an in-memory net.Conn (memConn):
//
//   - The handshake runs off the loop, because crypto/tls's handshake
//     blocks on reads and its errors are sticky, and crypto/tls offers an
//     event-driven handshake only for QUIC (tls.QUICConn): a handshake in
//     progress keeps its state on a goroutine's stack. The loop stages the
//     client's bytes in memConn and the goroutine's reads wait for them;
//     its writes are staged in memConn and the loop writes them (Flush)
//     when the goroutine calls Host.Wake, before it waits for the peer and
//     when the handshake ends.
//   - The goroutine holds one of the Pool's worker slots only while it
//     computes. When memConn has no client bytes for it, it gives its slot
//     back before it waits, and once the loop has staged more it takes a
//     slot again, in one FIFO line with the other runnable handshakes. So
//     at most the Pool's workers handshakes burn CPU at once, and a client
//     that goes silent mid-handshake costs a parked goroutine (about 8 KiB
//     of stack) and its handshake state but no worker: stalled clients do
//     not delay another client's handshake.
//   - A handshake is admitted only once the first TLS record (the
//     ClientHello) is complete, so a client that stalls before it costs no
//     goroutine. From then until it ends it holds one of the Pool's
//     workers + queue places, which bounds the parked goroutines; past
//     them a new handshake is refused with ErrHandshakeBusy. An admitted
//     handshake gets its goroutine when it first gets a slot, so one
//     waiting for its first slot costs none.
//   - The handshake deadline counts from New; when it passes, a handshake
//     not yet running fails at once and a running one fails on its
//     context, both with ErrHandshakeTimeout.
//   - Once the handshake ends its goroutine marks the Conn established (or
//     failed) and wakes the Host; from then on no goroutine exists for the
//     connection. Recv lends the received bytes to memConn and calls
//     tls.Conn.Read until memConn reports "would block", a temporary
//     net.Error, which crypto/tls does not keep as a sticky error after the
//     handshake. A record cut anywhere waits in crypto/tls's own buffer.
//     Send encrypts with tls.Conn.Write straight into the wire buffer.
//
// A loop drives a Conn the way the root package's pump does:
//
//	n, plain, err := c.Recv(raw, plain) // n bytes of raw used; the rest is offered again
//	wire = c.Flush(wire)                // handshake flights, alerts
//	wire, err = c.Send(wire, reply)     // records of reply
//	wire = c.Close(wire)                // close_notify (RFC 8446 §6.1)
package tlsconn
