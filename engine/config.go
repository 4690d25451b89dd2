package engine

import (
	"errors"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/evhttpd/httpd/ctrl"
)

// Config configures an Engine. The zero value is valid: every field states
// its default, which Start fills in. Start rejects an invalid Config with an
// error wrapping ErrConfig; it never panics on one.
type Config struct {
	// Addr is the TCP listen address. Default "127.0.0.1:8080"; a port of 0
	// picks a free port (read it back with Engine.Addr).
	Addr string

	// Listener, when not nil, is used instead of Addr. It must yield
	// *net.TCPConn or *net.UnixConn (what gnet can enroll). The Engine owns
	// it from Start on and closes it in StopAccepting.
	Listener net.Listener

	// Loops is the number of event loops. Default runtime.GOMAXPROCS(0);
	// 1 gives ESP's single server task. At most MaxLoops.
	Loops int

	// CtrlAddr is the UDP control (doorbell) socket address. Default
	// "127.0.0.1:0". The host must be a loopback IP literal: the doorbell
	// socket is never exposed to the network.
	CtrlAddr string

	// Token is the per-instance doorbell token (make it with ctrl.NewToken).
	// Datagrams that do not carry it are dropped. Default: all zero means
	// Start draws a random token itself.
	Token [16]byte

	// TimerResolution is the slot width of the per-loop timer wheels and the
	// period of the tick doorbell. Default 50ms; at least 1ms.
	TimerResolution time.Duration

	// TimerSlots is the number of slots in each loop's timer wheel, rounded
	// up to a power of two. Timers further out than TimerSlots*TimerResolution
	// still work (they wait extra rounds). Default 512; at most 1<<20.
	TimerSlots int

	// TickInterval is how often Handler.OnTick runs on each loop. Default 1s;
	// at least TimerResolution (ticks are delivered on resolution steps).
	TickInterval time.Duration

	// ReadBufferCap and WriteBufferCap are gnet's per-loop read buffer and
	// per-connection static outbound buffer sizes (rounded up to a power of
	// two by gnet). Default 64 KiB each.
	ReadBufferCap, WriteBufferCap int

	// AcceptBackoffMin is the first pause after a failed accept (EMFILE,
	// ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, ...). Each further consecutive
	// failure doubles it. Default 5ms.
	AcceptBackoffMin time.Duration

	// AcceptBackoffMax caps the accept back-off. Default 1s.
	AcceptBackoffMax time.Duration

	// TCPKeepAlive turns on TCP keep-alive probes on accepted connections
	// with this idle time and probe interval. Default 0: the OS default
	// (Go's listener enables probes every 15 s).
	TCPKeepAlive time.Duration

	// EnrollQueue caps how many accepted connections may be on their way
	// into an event loop at once; the acceptor waits when it is full.
	// gnet runs each enrolment on a pooled goroutine that lives on for 10 s
	// after its last use, so this bound is also how many such goroutines a
	// burst of connections leaves behind (each holds a stack of several
	// KiB). A small bound costs no connection rate: an enrolment is a short
	// hand-off to the loop (BenchmarkConnect). Default 8 per loop.
	EnrollQueue int

	// CalibrationProbes caps the probe datagrams Start sends to find, for
	// every loop, a sender socket whose datagrams the kernel delivers to that
	// loop. Loops not found this way are reached by forwarding. Default
	// 16*Loops+16.
	CalibrationProbes int

	// CalibrationTimeout bounds the wait for one batch of probes. Default 1s.
	CalibrationTimeout time.Duration

	// Logger receives the engine's and gnet's logs (gnet's Info and Debug at
	// Debug, Warn at Warn, Error and Fatal at Error). Nil means slog.Default().
	Logger *slog.Logger
}

// MaxLoops is the largest Config.Loops: gnet indexes at most 256 loops.
const MaxLoops = 256

// Defaults used by Start for zero Config fields.
const (
	DefaultAddr               = "127.0.0.1:8080"
	DefaultCtrlAddr           = "127.0.0.1:0"
	DefaultTimerResolution    = 50 * time.Millisecond
	DefaultTimerSlots         = 512
	DefaultTickInterval       = time.Second
	DefaultBufferCap          = 64 << 10
	DefaultAcceptBackoffMin   = 5 * time.Millisecond
	DefaultAcceptBackoffMax   = time.Second
	DefaultEnrollQueuePerLoop = 8
	DefaultCalibrationTimeout = time.Second

	maxTimerSlots = 1 << 20
)

// ErrConfig is wrapped by every error Start returns for an invalid Config.
var ErrConfig = errors.New("engine: invalid config")

type configError string

func (e configError) Error() string { return "engine: invalid config: " + string(e) }
func (e configError) Unwrap() error { return ErrConfig }

// withDefaults returns c with every zero field set to its default, or an
// error wrapping ErrConfig.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" && c.Listener == nil {
		c.Addr = DefaultAddr
	}
	if c.Loops < 0 || c.Loops > MaxLoops {
		return c, configError("Loops must be in 0..256")
	}
	if c.Loops == 0 {
		c.Loops = min(runtime.GOMAXPROCS(0), MaxLoops)
	}
	if c.CtrlAddr == "" {
		c.CtrlAddr = DefaultCtrlAddr
	}
	if c.Token == ([16]byte{}) {
		t, err := ctrl.NewToken()
		if err != nil {
			return c, err
		}
		c.Token = t
	}
	if c.TimerResolution < 0 || c.TickInterval < 0 || c.AcceptBackoffMin < 0 ||
		c.AcceptBackoffMax < 0 || c.CalibrationTimeout < 0 {
		return c, configError("negative duration")
	}
	if c.TimerResolution == 0 {
		c.TimerResolution = DefaultTimerResolution
	}
	if c.TimerResolution < time.Millisecond {
		return c, configError("TimerResolution below 1ms")
	}
	if c.TimerSlots < 0 || c.TimerSlots > maxTimerSlots {
		return c, configError("TimerSlots must be in 0..1<<20")
	}
	if c.TimerSlots == 0 {
		c.TimerSlots = DefaultTimerSlots
	}
	slots := 1
	for slots < c.TimerSlots {
		slots <<= 1
	}
	c.TimerSlots = slots
	if c.TickInterval == 0 {
		c.TickInterval = DefaultTickInterval
	}
	if c.TickInterval < c.TimerResolution {
		return c, configError("TickInterval below TimerResolution")
	}
	if c.ReadBufferCap < 0 || c.WriteBufferCap < 0 {
		return c, configError("negative buffer cap")
	}
	if c.ReadBufferCap == 0 {
		c.ReadBufferCap = DefaultBufferCap
	}
	if c.WriteBufferCap == 0 {
		c.WriteBufferCap = DefaultBufferCap
	}
	if c.AcceptBackoffMin == 0 {
		c.AcceptBackoffMin = DefaultAcceptBackoffMin
	}
	if c.AcceptBackoffMax == 0 {
		c.AcceptBackoffMax = DefaultAcceptBackoffMax
	}
	if c.AcceptBackoffMax < c.AcceptBackoffMin {
		return c, configError("AcceptBackoffMax below AcceptBackoffMin")
	}
	if c.EnrollQueue < 0 {
		return c, configError("negative EnrollQueue")
	}
	if c.EnrollQueue == 0 {
		c.EnrollQueue = DefaultEnrollQueuePerLoop * c.Loops
	}
	if c.CalibrationProbes < 0 {
		return c, configError("negative CalibrationProbes")
	}
	if c.CalibrationProbes == 0 {
		c.CalibrationProbes = 16*c.Loops + 16
	}
	if c.CalibrationTimeout == 0 {
		c.CalibrationTimeout = DefaultCalibrationTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// resolveCtrl parses a loopback UDP address. Only IP literals are accepted,
// so no resolver runs and nothing can map the name to a public interface.
func resolveCtrl(addr string) (*net.UDPAddr, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, configError("CtrlAddr: " + err.Error())
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, configError("CtrlAddr host must be a loopback IP literal")
	}
	ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, configError("CtrlAddr: " + err.Error())
	}
	if ip4 := ua.IP.To4(); ip4 != nil {
		ua.IP = ip4
	}
	return ua, nil
}
