package netpoll

import (
	"github.com/evhttpd/httpd/engine"
)

// Name is the name the backend registers under (on the platforms it
// supports: see Supported).
const Name = "netpoll"

// Options are the netpoll backend's own settings, passed as
// engine.Config.Options (a *Options). The zero value is valid: every field
// states its default.
type Options struct {
	// BufferSize is the size of a new connection's first input buffer and
	// the smallest buffer node netpoll allocates (netpoll's
	// Config.BufferSize and LinkBufferCap, 8 KiB and 4 KiB by default).
	// netpoll keeps one such node per idle connection, so it is most of
	// what an idle connection costs; nodes grow with the traffic a
	// connection sees. These are process-wide settings of netpoll: the
	// first Start of this backend in a process applies them (a later Start
	// asking for another size is an ErrConfig), and other users of netpoll
	// in the process see them too. Default 512 bytes (an idle WebSocket
	// connection at 10,000 then costs about 3.6 KiB of RSS, against 7.3
	// KiB with netpoll's sizes); -1 leaves netpoll's settings as they are
	// (call netpoll.Configure in your init instead).
	BufferSize int

	// Pooled runs a connection's OnRequest, as netpoll does by default, on
	// a goroutine from netpoll's pool. Without it (the default) the poller
	// goroutine that read the input runs it inline, as an event loop does:
	// no goroutine hand-off per readable event (plain keep-alive requests
	// on one core: about 14% more per second), and netpoll gets one poller
	// per loop, up to GOMAXPROCS, so the loops still run in parallel.
	// evhttpd's own callbacks never block, so inline is safe for it. Like
	// BufferSize, netpoll's runner is process-wide: set Pooled when the
	// process also serves Kitex or Hertz, whose handlers block and must not
	// run on a poller.
	Pooled bool
}

// MaxLoops is the largest engine.Config.Loops on netpoll. A loop is a lock
// and one goroutine, so the bound is only the server's own (1024).
const MaxLoops = 1024

// DefaultBufferSize is Options.BufferSize's default.
const DefaultBufferSize = 512

// options returns the Options cfg carries with every zero field set to its
// default, or an error wrapping engine.ErrConfig.
func options(cfg engine.Config) (Options, error) {
	o, err := engine.BackendOptions[Options](cfg)
	if err != nil {
		return o, err
	}

	switch {
	case o.BufferSize < -1:
		return o, engine.ConfigError("BufferSize must be -1, 0 or positive")
	case o.BufferSize > 1<<20:
		return o, engine.ConfigError("BufferSize above 1 MiB")
	case o.BufferSize == 0:
		o.BufferSize = DefaultBufferSize
	}
	return o, nil
}
