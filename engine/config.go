package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"time"

	"github.com/evhttpd/httpd/ctrl"
)

// Config configures an Engine. The zero value is valid: every field states
// its default, which Start fills in. Start rejects an invalid Config with an
// error wrapping ErrConfig; it never panics on one. The fields here mean the
// same on every backend; what only one backend has goes in Options.
type Config struct {
	// Backend names the registered backend to run (see Register):
	// "gnet" or, once its package is imported, "netpoll". Default
	// DefaultBackend.
	Backend string

	// Options are the backend's own settings: a pointer to the Options
	// type of the backend's package (gnet.Options, netpoll.Options). Nil
	// means that backend's defaults; a value of another type is an
	// ErrConfig.
	Options any

	// Addr is the TCP listen address. Default "127.0.0.1:8080"; a port of 0
	// picks a free port (read it back with Engine.Addr).
	Addr string

	// Listener, when not nil, is used instead of Addr. It must yield
	// *net.TCPConn or *net.UnixConn (sockets a poller can own). The Engine
	// owns it from Start on and closes it in StopAccepting.
	Listener net.Listener

	// Loops is the number of event loops. Default runtime.GOMAXPROCS(0);
	// 1 gives ESP's single server task. Each backend has its own maximum
	// (gnet 256, netpoll 1024); more is an ErrConfig.
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

	// Logger receives the engine's logs and, where the backend can route
	// them, its poller library's. Nil means slog.Default().
	Logger *slog.Logger
}

// Defaults used by Start for zero Config fields.
const (
	DefaultAddr             = "127.0.0.1:8080"
	DefaultCtrlAddr         = "127.0.0.1:0"
	DefaultTimerResolution  = 50 * time.Millisecond
	DefaultTimerSlots       = 512
	DefaultTickInterval     = time.Second
	DefaultAcceptBackoffMin = 5 * time.Millisecond
	DefaultAcceptBackoffMax = time.Second

	maxTimerSlots = 1 << 20
)

// ErrConfig is wrapped by every error Start returns for an invalid Config.
var ErrConfig = errors.New("engine: invalid config")

type configError string

func (e configError) Error() string { return "engine: invalid config: " + string(e) }
func (e configError) Unwrap() error { return ErrConfig }

// ConfigError returns an error wrapping ErrConfig with msg: backends report
// their own limits with it.
func ConfigError(msg string) error { return configError(msg) }

// WithDefaults returns c with every zero field set to its default, or an
// error wrapping ErrConfig. maxLoops is the backend's limit on Loops; the
// default Loops is GOMAXPROCS capped at it. Backends call it first in Start.
func (c Config) WithDefaults(maxLoops int) (Config, error) {
	if c.Addr == "" && c.Listener == nil {
		c.Addr = DefaultAddr
	}
	if c.Loops < 0 || c.Loops > maxLoops {
		return c, configError("Loops must be in 0.." + strconv.Itoa(maxLoops) + " on the " + c.Backend + " backend")
	}
	if c.Loops == 0 {
		c.Loops = min(runtime.GOMAXPROCS(0), maxLoops)
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
		c.AcceptBackoffMax < 0 || c.TCPKeepAlive < 0 {
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
	if c.AcceptBackoffMin == 0 {
		c.AcceptBackoffMin = DefaultAcceptBackoffMin
	}
	if c.AcceptBackoffMax == 0 {
		c.AcceptBackoffMax = DefaultAcceptBackoffMax
	}
	if c.AcceptBackoffMax < c.AcceptBackoffMin {
		return c, configError("AcceptBackoffMax below AcceptBackoffMin")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// ResolveCtrl parses a loopback UDP address (Config.CtrlAddr). Only IP literals are accepted,
// so no resolver runs and nothing can map the name to a public interface.
func ResolveCtrl(addr string) (*net.UDPAddr, error) {
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

// BackendOptions returns the backend options of cfg: the zero O when
// cfg.Options is nil, a copy of *O, and a ConfigError naming the type the
// backend takes for anything else.
func BackendOptions[O any](cfg Config) (O, error) {
	var o O
	switch v := cfg.Options.(type) {
	case nil:
	case *O:
		if v != nil {
			o = *v
		}
	default:
		return o, ConfigError(fmt.Sprintf("the %s backend takes %T, not %T", cfg.Backend, (*O)(nil), v))
	}
	return o, nil
}

// Prepare is what every backend's Start does first: it refuses a nil
// Handler, names the backend in cfg, fills cfg's defaults under the
// backend's loop limit, and resolves the control address.
func Prepare(cfg Config, h Handler, backend string, maxLoops int) (Config, *net.UDPAddr, error) {
	if h == nil {
		return cfg, nil, ErrNoHandler
	}
	cfg.Backend = backend
	cfg, err := cfg.WithDefaults(maxLoops)
	if err != nil {
		return cfg, nil, err
	}
	ctrl, err := ResolveCtrl(cfg.CtrlAddr)
	return cfg, ctrl, err
}
