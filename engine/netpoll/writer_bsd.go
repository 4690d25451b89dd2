//go:build (darwin || freebsd) && (amd64 || arm64)

package netpoll

import (
	"errors"

	"golang.org/x/sys/unix"
)

func pollCreate() (int, error) {
	fd, err := unix.Kqueue()
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}

func kevent(pfd, fd int, filter, flags int) error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], fd, filter, flags)
	_, err := unix.Kevent(pfd, ch[:], nil, nil)
	return err
}

func pollAddRead(pfd, fd int) error { return kevent(pfd, fd, unix.EVFILT_READ, unix.EV_ADD) }

// pollArmWrite registers fd for one EVFILT_WRITE report (EV_ONESHOT: the
// filter is deleted once it fired).
func pollArmWrite(pfd, fd int, _ bool) error {
	return kevent(pfd, fd, unix.EVFILT_WRITE, unix.EV_ADD|unix.EV_ENABLE|unix.EV_ONESHOT)
}

// pollDelete drops a filter that has not fired (ENOENT when it has).
func pollDelete(pfd, fd int) { _ = kevent(pfd, fd, unix.EVFILT_WRITE, unix.EV_DELETE) }

// pollWait waits for reports and appends the ready descriptors; stop is true
// once the wake pipe is readable.
func pollWait(pfd, wakeR int, ready []int32) ([]int32, bool) {
	var evs [64]unix.Kevent_t
	for {
		n, err := unix.Kevent(pfd, nil, evs[:], nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return ready, true
		}
		for _, ev := range evs[:n] {
			if int(ev.Ident) == wakeR {
				return ready, true
			}
			ready = append(ready, int32(ev.Ident))
		}
		return ready, false
	}
}
