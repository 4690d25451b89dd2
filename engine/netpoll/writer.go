//go:build (linux && (amd64 || arm64 || loong64)) || ((darwin || freebsd) && (amd64 || arm64))

package netpoll

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// writePoller tells loops when a socket takes output again. netpoll offers
// no way to learn that without handing it the output (and its Flush then
// blocks until the socket took everything), so the engine keeps one epoll
// or kqueue instance of its own, where a socket is registered for
// writability, one shot, only while output waits. One goroutine per engine
// waits on it; an idle connection is not in it at all.
type writePoller struct {
	pfd   int // epoll or kqueue
	wakeR int // pipe: closing wakes the goroutine
	wakeW int
	mu    sync.Mutex
	conns map[int32]*conn // armed descriptors (under mu)
	done  chan struct{}
}

func newWritePoller() (*writePoller, error) {
	pfd, err := pollCreate()
	if err != nil {
		return nil, err
	}
	var p [2]int
	syscall.ForkLock.RLock()
	err = unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		unix.Close(pfd)
		return nil, err
	}
	wp := &writePoller{pfd: pfd, wakeR: p[0], wakeW: p[1], conns: map[int32]*conn{}, done: make(chan struct{})}
	if err := pollAddRead(pfd, wp.wakeR); err != nil {
		wp.closeFds()
		return nil, err
	}
	return wp, nil
}

// arm registers w's socket for one writability report (on w's loop).
func (wp *writePoller) arm(w *conn) error {
	if w.armed {
		return nil
	}
	wp.mu.Lock()
	defer wp.mu.Unlock()
	if err := pollArmWrite(wp.pfd, int(w.fd), !w.polled); err != nil {
		return err
	}
	wp.conns[w.fd] = w
	w.armed, w.polled = true, true
	return nil
}

// forget removes w's socket before its descriptor closes (on w's loop):
// the descriptor number may come back for another connection.
func (wp *writePoller) forget(w *conn) {
	wp.mu.Lock()
	defer wp.mu.Unlock()
	pollDelete(wp.pfd, int(w.fd))
	if wp.conns[w.fd] == w {
		delete(wp.conns, w.fd)
	}
	w.armed, w.polled = false, false
}

// run waits for writability and hands each ready connection to deliver.
func (wp *writePoller) run(deliver func(*conn)) {
	defer close(wp.done)
	var ready []int32
	for {
		var stop bool
		ready, stop = pollWait(wp.pfd, wp.wakeR, ready[:0])
		if stop {
			return
		}
		wp.mu.Lock()
		for _, fd := range ready {
			w := wp.conns[fd]
			if w == nil {
				continue
			}
			delete(wp.conns, fd) // one shot: the loop arms again if needed
			wp.mu.Unlock()
			deliver(w)
			wp.mu.Lock()
		}
		wp.mu.Unlock()
	}
}

// close stops the goroutine and closes the poller.
func (wp *writePoller) close() {
	_, _ = unix.Write(wp.wakeW, []byte{1})
	<-wp.done
	wp.closeFds()
}

func (wp *writePoller) closeFds() {
	unix.Close(wp.pfd)
	unix.Close(wp.wakeR)
	unix.Close(wp.wakeW)
}
