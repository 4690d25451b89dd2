package engine

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// accept is the acceptor goroutine. It does not give the listener to gnet:
// gnet's accept path treats EMFILE like any other accept error and shuts the
// whole engine down. Here a failed Accept is counted and followed by a pause
// (AcceptBackoffMin doubling up to AcceptBackoffMax), so fd exhaustion costs
// a few accept calls per second instead of a busy loop, and serving resumes
// by itself once descriptors are free again.
func (e *Engine) accept() {
	defer close(e.acceptDone)
	defer close(e.enrollQ) // lets reap finish once the queued results are in
	var (
		backoff time.Duration
		timer   *time.Timer
		next    int
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	pause := func(err error) bool {
		if backoff == 0 {
			backoff = e.cfg.AcceptBackoffMin
			e.st.acceptBackoffs.Add(1)
			e.log.Warn("engine: accept failing, backing off", "err", err, "max", e.cfg.AcceptBackoffMax)
		} else {
			backoff = min(2*backoff, e.cfg.AcceptBackoffMax)
		}
		if timer == nil {
			timer = time.NewTimer(backoff)
		} else {
			timer.Reset(backoff)
		}
		select {
		case <-timer.C:
			return true
		case <-e.acceptStop:
			return false
		}
	}
	for {
		if e.fdPressure.Swap(false) {
			// An enrollment failed for lack of descriptors: pause before
			// accepting the next connection into the same shortage.
			if !pause(unix.EMFILE) {
				return
			}
		}
		nc, err := e.ln.Accept()
		if err != nil {
			select {
			case <-e.acceptStop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			e.st.acceptErrors.Add(1)
			if !temporary(err) {
				e.log.Error("engine: accept", "err", err)
			}
			if !pause(err) {
				return
			}
			continue
		}
		e.st.accepted.Add(1)
		if d := e.cfg.TCPKeepAlive; d > 0 {
			// Socket options live on the socket, so the descriptor gnet
			// duplicates keeps them.
			if tc, ok := nc.(*net.TCPConn); ok {
				_ = tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: d, Count: 9})
			}
		}
		loops := e.loopList()
		ls := loops[next%len(loops)]
		next++
		ch := e.enroll(ls, nc)
		switch {
		case ch == nil:
		case backoff == 0:
			e.enrollQ <- ch
		default:
			// In a back-off episode a successful accept proves little:
			// gnet's Enroll needs one more descriptor for its dup. So
			// enrollments are waited for, one at a time, and each one
			// that joined a loop halves the pause; the episode ends when
			// it falls below AcceptBackoffMin. Leaving at the first
			// success would let a burst of accepts eat the descriptors
			// the failed dups just gave back, and fail again together.
			var err error
			select {
			case res := <-ch:
				err = res.Err
			case <-e.runDone:
				err = ErrStopped
			}
			if err != nil {
				e.enrollFailed(err)
				continue
			}
			e.st.enrolled.Add(1)
			if backoff /= 2; backoff < e.cfg.AcceptBackoffMin {
				e.log.Info("engine: accepting again after back-off")
				backoff = 0
			}
		}
	}
}

// enroll hands nc to ls. gnet duplicates the descriptor, closes nc, and
// registers the duplicate on the loop, where OnOpen receives w as the
// connection's context. The result arrives later on a channel that reap
// collects, so the acceptor does not wait for a loop (except in a back-off
// episode, see accept). It returns nil if the conn was closed at once.
func (e *Engine) enroll(ls *loop, nc net.Conn) <-chan gnet.RegisteredResult {
	w := newConn()
	// EventLoop.Enroll takes the conn itself; the context only carries w.
	ctx := gnet.NewContext(context.Background(), w)
	ch, err := ls.gel.Enroll(ctx, nc)
	if err != nil {
		nc.Close()
		e.enrollFailed(err)
		return nil
	}
	return ch
}

func (e *Engine) enrollFailed(err error) {
	e.st.enrollErrors.Add(1)
	if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
		e.fdPressure.Store(true)
	}
	e.log.Debug("engine: connection could not join a loop", "err", err)
}

// reap collects enrollment results in order. Stop waits for it: once it
// returned, every accepted connection is either in a loop (and Stop's close
// of the loops closes it) or was closed by gnet.
func (e *Engine) reap() {
	defer close(e.reapDone)
	for ch := range e.enrollQ {
		select {
		case res := <-ch:
			if res.Err != nil {
				e.enrollFailed(res.Err)
			} else {
				e.st.enrolled.Add(1)
			}
		case <-e.runDone:
			// gnet ended on its own: queued registrations will never run.
			e.st.enrollErrors.Add(1)
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
