package engine

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Acceptor is the accept goroutine the backends share. It does not give the
// listener to the poller library: gnet's accept path treats EMFILE like any
// other accept error and shuts the whole engine down, and netpoll's retries
// on a fixed schedule from a goroutine of its own. Here a failed Accept is
// counted and followed by a pause (BackoffMin doubling up to BackoffMax),
// so descriptor exhaustion costs a few accept calls per second instead of
// a busy loop, and serving resumes by itself once descriptors are free.
//
// Each accepted connection goes to Handoff, which gives it to a loop. A
// hand-off that finishes later returns a wait function; results are
// collected in order by a second goroutine, with at most Queue in flight,
// and a hand-off that failed for lack of descriptors also pauses the
// acceptor. Fill in the exported fields, then call Start once.
type Acceptor struct {
	Listener   net.Listener
	BackoffMin time.Duration
	BackoffMax time.Duration
	KeepAlive  time.Duration // > 0: TCP keep-alive probes with this idle time and interval
	Queue      int           // asynchronous hand-offs in flight; at least 1
	Log        *slog.Logger

	// Handoff gives nc to a loop; the backend owns nc from then on, also
	// when it reports an error. A nil wait means the hand-off is complete;
	// otherwise wait blocks until it is and reports how it went.
	Handoff func(nc net.Conn) (wait func() error, err error)

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	reaped   chan struct{}
	queue    chan func() error
	pressure atomic.Bool // a hand-off failed for lack of descriptors

	accepted, acceptErrors, backoffs, handoffErrors atomic.Uint64
}

// Start starts the accept and result goroutines.
func (a *Acceptor) Start() {
	a.stop = make(chan struct{})
	a.done = make(chan struct{})
	a.reaped = make(chan struct{})
	a.queue = make(chan func() error, max(a.Queue, 1))
	go a.reap()
	go a.run()
}

// Stop closes the listener: no new connection is accepted. Idempotent,
// safe from any goroutine.
func (a *Acceptor) Stop() {
	a.stopOnce.Do(func() {
		close(a.stop)
		a.Listener.Close()
	})
}

// Wait blocks until both goroutines ended: every accepted connection is in
// a loop or was closed. Call Stop first.
func (a *Acceptor) Wait() {
	<-a.done
	<-a.reaped
}

// AcceptorStats are the acceptor's counters.
type AcceptorStats struct {
	Accepted, AcceptErrors, AcceptBackoffs, HandoffErrors uint64
}

// Stats returns the counters.
func (a *Acceptor) Stats() AcceptorStats {
	return AcceptorStats{a.accepted.Load(), a.acceptErrors.Load(), a.backoffs.Load(), a.handoffErrors.Load()}
}

func (a *Acceptor) run() {
	defer close(a.done)
	defer close(a.queue) // lets reap finish once the queued results are in
	var (
		backoff time.Duration
		timer   *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	pause := func(err error) bool {
		if backoff == 0 {
			backoff = a.BackoffMin
			a.backoffs.Add(1)
			a.Log.Warn("engine: accept failing, backing off", "err", err, "max", a.BackoffMax)
		} else {
			backoff = min(2*backoff, a.BackoffMax)
		}
		if timer == nil {
			timer = time.NewTimer(backoff)
		} else {
			timer.Reset(backoff)
		}
		select {
		case <-timer.C:
			return true
		case <-a.stop:
			return false
		}
	}
	for {
		if a.pressure.Swap(false) {
			// A hand-off failed for lack of descriptors: pause before
			// accepting the next connection into the same shortage.
			if !pause(unix.EMFILE) {
				return
			}
		}
		nc, err := a.Listener.Accept()
		if err != nil {
			select {
			case <-a.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.acceptErrors.Add(1)
			if !temporary(err) {
				a.Log.Error("engine: accept", "err", err)
			}
			if !pause(err) {
				return
			}
			continue
		}
		a.accepted.Add(1)
		if d := a.KeepAlive; d > 0 {
			// Socket options live on the socket, so a descriptor the
			// backend duplicates keeps them.
			if tc, ok := nc.(*net.TCPConn); ok {
				_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: d, Count: 9})
			}
		}
		wait, err := a.Handoff(nc)
		switch {
		case err != nil:
			a.HandoffFailed(err)
		case wait == nil:
			if backoff > 0 {
				backoff = a.joined(backoff)
			}
		case backoff == 0:
			a.queue <- wait
		default:
			// In a back-off episode a successful accept proves little:
			// the hand-off may need one more descriptor (gnet's dup). So
			// hand-offs are waited for, one at a time, and each one that
			// joined a loop halves the pause; the episode ends when it
			// falls below BackoffMin. Leaving at the first success would
			// let a burst of accepts eat the descriptors the failed
			// hand-offs just gave back, and fail again together.
			if err := wait(); err != nil {
				a.HandoffFailed(err)
				continue
			}
			backoff = a.joined(backoff)
		}
	}
}

// joined shortens a back-off episode after a connection joined a loop.
func (a *Acceptor) joined(backoff time.Duration) time.Duration {
	if backoff /= 2; backoff < a.BackoffMin {
		a.Log.Info("engine: accepting again after back-off")
		return 0
	}
	return backoff
}

// HandoffFailed counts a connection that could not join a loop (the
// backend closed it); lack of descriptors pauses the acceptor.
func (a *Acceptor) HandoffFailed(err error) {
	a.handoffErrors.Add(1)
	if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
		a.pressure.Store(true)
	}
	a.Log.Debug("engine: connection could not join a loop", "err", err)
}

// reap collects hand-off results in order.
func (a *Acceptor) reap() {
	defer close(a.reaped)
	for wait := range a.queue {
		if err := wait(); err != nil {
			a.HandoffFailed(err)
		}
	}
}

// temporary reports whether err is a resource shortage or a connection that
// died in the accept queue: conditions that pass by themselves.
func temporary(err error) bool {
	for _, errno := range [...]unix.Errno{unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM, unix.ECONNABORTED, unix.EINTR, unix.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// ErrNotSocket is returned by DupConn for a connection that is not a socket
// the backend can own (*net.TCPConn, *net.UnixConn).
var ErrNotSocket = errors.New("engine: listener yielded a connection that is not a TCP or Unix socket")

// DupConn takes the descriptor out of an accepted *net.TCPConn or
// *net.UnixConn: it duplicates it (close-on-exec, non-blocking, the same
// socket with its options) and closes nc, so the Go runtime's poller lets
// go of it and the backend's poller can own the duplicate. nc is closed in
// every case.
func DupConn(nc net.Conn) (int, error) {
	defer nc.Close()
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return -1, ErrNotSocket
	}
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	// O_NONBLOCK belongs to the open file description the duplicate shares,
	// so it is already set; setting it again costs one call and makes the
	// hand-off independent of how nc was made.
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
