package gnet

import (
	"time"

	"github.com/evhttpd/httpd/engine"
)

// Options are the gnet backend's own settings, passed as engine.Config.Options
// (a *Options). The zero value is valid: every field states its default.
type Options struct {
	// ReadBufferCap and WriteBufferCap are gnet's per-loop read buffer and
	// per-connection static outbound buffer sizes (rounded up to a power of
	// two by gnet). Default 64 KiB each.
	ReadBufferCap, WriteBufferCap int

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

	// LogDebug passes gnet's own debug and info lines (its start-up banner,
	// per-connection notes) to the logger, at Debug. Without it they are
	// dropped, so a server logging at Debug shows only evhttpd's lines;
	// gnet's warnings and errors always reach the logger. Default false.
	LogDebug bool
}

// MaxLoops is the largest engine.Config.Loops on gnet: gnet indexes at most
// 256 loops.
const MaxLoops = 256

// Defaults used by Start for zero Options fields.
const (
	DefaultBufferCap          = 64 << 10
	DefaultEnrollQueuePerLoop = 8
	DefaultCalibrationTimeout = time.Second
)

// options returns the Options cfg carries with every zero field set to its
// default, or an error wrapping engine.ErrConfig.
func options(cfg engine.Config) (Options, error) {
	o, err := engine.BackendOptions[Options](cfg)
	if err != nil {
		return o, err
	}

	switch {
	case o.ReadBufferCap < 0 || o.WriteBufferCap < 0:
		return o, engine.ConfigError("negative buffer cap")
	case o.EnrollQueue < 0:
		return o, engine.ConfigError("negative EnrollQueue")
	case o.CalibrationProbes < 0:
		return o, engine.ConfigError("negative CalibrationProbes")
	case o.CalibrationTimeout < 0:
		return o, engine.ConfigError("negative CalibrationTimeout")
	}
	if o.ReadBufferCap == 0 {
		o.ReadBufferCap = DefaultBufferCap
	}
	if o.WriteBufferCap == 0 {
		o.WriteBufferCap = DefaultBufferCap
	}
	if o.EnrollQueue == 0 {
		o.EnrollQueue = DefaultEnrollQueuePerLoop * cfg.Loops
	}
	if o.CalibrationProbes == 0 {
		o.CalibrationProbes = 16*cfg.Loops + 16
	}
	if o.CalibrationTimeout == 0 {
		o.CalibrationTimeout = DefaultCalibrationTimeout
	}
	return o, nil
}
