package engine

import (
	"context"
	"errors"
	"net"
	"time"
)

// The contract, in terms every backend keeps: a loop is a serial context,
// not necessarily one goroutine. One loop's callbacks never overlap, and
// each happens after the one before it (its effects are visible); a
// connection's callbacks, its timer, and the OnWake and OnTick of its loop
// all run on that loop. On gnet a loop is one poller goroutine; on netpoll
// it is a lock that netpoll's handler goroutines and the loop's own
// goroutine take in turn. So state owned by a loop needs no lock, but code
// must not assume which goroutine runs it.

// Conn is one TCP connection as the protocol driver sees it. Unless marked,
// methods may be called only on the connection's own loop, inside a Handler
// callback of that loop. A Conn must not be used after its OnClose
// returned: methods then report ErrClosed or do nothing.
type Conn interface {
	// Peek returns every inbound byte buffered now, contiguous. The slice is
	// valid until Discard or until the current callback returns, whichever
	// comes first; copy what must outlive that.
	Peek() []byte
	// Discard drops the first n buffered inbound bytes (all when n is at
	// least InboundBuffered).
	Discard(n int)
	// InboundBuffered reports how many inbound bytes Peek would return.
	InboundBuffered() int
	// Write writes p now or queues what the socket did not take; it never
	// blocks. p is copied before Write returns and output keeps its order.
	// It returns ErrClosed on a closed connection and ErrWriteShut after
	// CloseWrite. A write error closes the connection: OnClose follows
	// after the current callback returns.
	Write(p []byte) error
	// OutboundBuffered reports exactly how many written bytes still wait in
	// the engine for the socket (not counting the kernel's send buffer).
	OutboundBuffered() int
	// CloseWrite shuts the write side (shutdown SHUT_WR) once everything
	// written so far has left: at once when nothing is queued, else when the
	// queue drains (checked after the connection's callbacks and on every
	// TimerResolution tick).
	CloseWrite() error
	// Close closes the connection after the current callback returns; OnClose
	// then runs with a nil error. It never calls OnClose itself. Idempotent.
	Close()
	// Reset closes the connection like Close, but abortively: SO_LINGER 0,
	// so the close sends a TCP RST and the kernel drops what is still
	// unsent instead of holding it (FIN-WAIT-1) for a peer that does not
	// read. Idempotent; after Close it only sets the linger.
	Reset()
	// PauseRead stops (true) or resumes (false) reading the socket: while
	// paused the engine leaves arriving bytes in the kernel, whose receive
	// window then stops the peer (TCP flow control), so a client that
	// keeps sending while its replies pile up costs no engine buffer.
	// Peer closes and errors are still reported. It reports whether the
	// backend could do it; one that cannot keeps reading (the caller then
	// bounds what accumulates itself). Resuming a connection that is not
	// paused does nothing.
	PauseRead(paused bool) bool
	// SetTimer arms the connection's single timer: OnTimer runs on the loop
	// after about d (TimerResolution granularity, never early). A new call
	// replaces the pending one; d <= 0 cancels.
	SetTimer(d time.Duration)
	// Fd returns the socket's file descriptor (valid until OnClose).
	Fd() int
	// LocalAddr and RemoteAddr are fixed at accept time and return copies
	// the caller may keep. Call them on the loop or once OnClose ran.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
	// Loop returns the owning loop's index, 0..Loops()-1, fixed for the
	// connection's life.
	Loop() int
	// Context and SetContext hold one value for the driver.
	Context() any
	SetContext(v any)
}

// InputSizer is what a Conn implements when the buffer that keeps its
// unconsumed input can be sized from a hint.
type InputSizer interface {
	// ExpectInput tells the engine that the caller waits until n input
	// bytes are buffered before it consumes any (a request body it takes
	// whole): a buffer that must grow meanwhile grows towards n in larger
	// steps, and not past it, instead of doubling (each growth copies what
	// is held). The hint ends with the next Discard or Take. It never
	// makes the engine allocate more than a few times what has arrived (in
	// its buffers or the socket's), so a client that announces a large
	// body and sends little costs little. An engine may also read what the
	// socket holds straight into its buffer while the hint stands (gnet
	// does), saving a copy.
	ExpectInput(n int)
}

// LocalWaker is what an Engine implements when it has a cheaper way than
// the control socket's doorbell datagram to wake a loop for work that
// goroutines of this process queued (the server's workers handing
// requests back).
type LocalWaker interface {
	// WakeLocal is Wake without the datagram: the same bell, so wakes of
	// either kind coalesce, delivered by the engine's own in-process
	// wake-up. It may allocate a little (gnet: its task and queue node,
	// against the five allocations and two system calls of a datagram's
	// round trip).
	WakeLocal(loop int) error
}

// Taker is what a Conn implements when it can hand its buffered input
// over without a copy.
type Taker interface {
	// Take removes the first n buffered inbound bytes (at most
	// InboundBuffered) and returns a buffer the caller owns, holding them
	// at buf[off:off+n]: the engine never reads or writes it again until
	// the caller gives it back with Recycle. An engine whose bytes sit in a
	// buffer of its own (input kept across callbacks) gives that buffer
	// away and copies only what follows the n bytes; bytes still in a
	// shared read buffer are copied into a new one.
	Take(n int) (buf []byte, off int)
	// Recycle gives back a buffer Take returned, once nothing uses it any
	// more, for the engine to reuse. Any goroutine may call it; a buffer
	// that is never given back is left to the garbage collector.
	Recycle(buf []byte)
}

// Handler receives the engine's events. Every method runs on a loop (see
// the contract above) and must not block it.
type Handler interface {
	// OnOpen runs on c's loop when c joined it; the driver may Write and
	// Close here.
	OnOpen(c Conn)
	// OnTraffic runs when inbound bytes arrived.
	OnTraffic(c Conn)
	// OnClose runs exactly once per opened connection, on its loop, also
	// at Stop, after every other callback of the connection and never from
	// inside another callback of the same loop. err is nil for a local
	// close (Close, Stop) and otherwise says why the connection ended (peer
	// EOF or reset, write error).
	OnClose(c Conn, err error)
	// OnTimer runs when c's timer expired.
	OnTimer(c Conn)
	// OnWake runs on loop after Wake(loop). Wakes that arrive before the
	// loop got to run OnWake coalesce into one OnWake, which runs after
	// all of them.
	OnWake(loop int)
	// OnTick runs on each loop about every Config.TickInterval.
	OnTick(loop int, now time.Time)
}

// Engine is a running backend: the loops, the acceptor and the control
// socket. Start one with Start; stop it with Stop.
type Engine interface {
	// Addr returns the bound TCP address.
	Addr() net.Addr
	// CtrlAddr returns the bound UDP control (doorbell) address. Datagrams
	// that do not carry the instance token are dropped and counted.
	CtrlAddr() net.Addr
	// Loops returns the number of loops.
	Loops() int
	// Wake makes OnWake(loop) run on that loop soon, after this call. Safe
	// from any goroutine, concurrently, and allocation-free. Wakes that find
	// one on its way add nothing to it (one OnWake serves them all). It
	// returns ErrLoop for a bad index and ErrStopped once Stop began.
	Wake(loop int) error
	// StopAccepting closes the listener: no new connection is accepted.
	// Open connections are not touched. Safe from any goroutine, also from
	// a loop; idempotent.
	StopAccepting()
	// Stop stops the engine: no new accepts, connections being handed to a
	// loop join it and are closed with the rest (OnClose for each, on its
	// loop), the loops end and the control socket closes; no callback runs
	// after it returned. It blocks until then or until ctx is done (the
	// shutdown goes on in the background and a later Stop waits for it
	// again). Safe concurrently and more than once; never from a loop.
	Stop(ctx context.Context) error
	// Stats returns the counters.
	Stats() Stats
}

// Stats are cumulative counters since Start. Fields a backend has no use
// for stay zero.
type Stats struct {
	Accepted       uint64 // connections accepted from the listener
	AcceptErrors   uint64 // failed Accept calls (each one followed by a back-off pause)
	AcceptBackoffs uint64 // back-off episodes (runs of consecutive failures)
	EnrollErrors   uint64 // accepted connections that could not join a loop (closed)

	DoorbellsSent      uint64 // gnet: doorbell datagrams written by Wake and the ticker
	DoorbellsReceived  uint64 // valid doorbells read from the control socket (gnet: probes included)
	DoorbellsDropped   uint64 // datagrams that failed ParseDoorbell or named no loop
	DoorbellsForwarded uint64 // gnet: doorbells that landed on another loop and were handed on
	WakeFallbacks      uint64 // gnet: doorbells delivered through the loop's task queue because the datagram send failed
	BellRescues        uint64 // gnet: doorbells presumed lost (not served for two ticks) and re-delivered
	LocalWakes         uint64 // gnet: WakeLocal calls that found the bell silent and queued gnet's task

	Wakes       uint64 // OnWake calls
	Ticks       uint64 // OnTick calls
	TimersFired uint64 // OnTimer calls

	DirectLoops int // gnet: loops that have a calibrated sender of their own; the rest get forwarded doorbells
}

// Errors returned by the engine.
var (
	ErrClosed    = errors.New("engine: connection closed")
	ErrWriteShut = errors.New("engine: write after CloseWrite")
	ErrStopped   = errors.New("engine: stopped")
	ErrLoop      = errors.New("engine: loop index out of range")
	ErrNoHandler = errors.New("engine: nil Handler")
	ErrCtrl      = errors.New("engine: control socket unreachable")
)
