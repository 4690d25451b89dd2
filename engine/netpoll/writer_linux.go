//go:build linux && (amd64 || arm64 || loong64)

package netpoll

import (
	"errors"

	"golang.org/x/sys/unix"
)

func pollCreate() (int, error) { return unix.EpollCreate1(unix.EPOLL_CLOEXEC) }

func pollAddRead(pfd, fd int) error {
	return unix.EpollCtl(pfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

// pollArmWrite registers fd for one EPOLLOUT report (EPOLLONESHOT: after it
// fired the descriptor stays registered but silent until armed again).
func pollArmWrite(pfd, fd int, first bool) error {
	ev := &unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLONESHOT, Fd: int32(fd)}
	op := unix.EPOLL_CTL_MOD
	if first {
		op = unix.EPOLL_CTL_ADD
	}
	err := unix.EpollCtl(pfd, op, fd, ev)
	switch {
	case errors.Is(err, unix.EEXIST):
		err = unix.EpollCtl(pfd, unix.EPOLL_CTL_MOD, fd, ev)
	case errors.Is(err, unix.ENOENT):
		err = unix.EpollCtl(pfd, unix.EPOLL_CTL_ADD, fd, ev)
	}
	return err
}

func pollDelete(pfd, fd int) { _ = unix.EpollCtl(pfd, unix.EPOLL_CTL_DEL, fd, nil) }

// pollWait waits for reports and appends the ready descriptors; stop is true
// once the wake pipe is readable.
func pollWait(pfd, wakeR int, ready []int32) ([]int32, bool) {
	var evs [64]unix.EpollEvent
	for {
		n, err := unix.EpollWait(pfd, evs[:], -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return ready, true
		}
		for _, ev := range evs[:n] {
			if int(ev.Fd) == wakeR {
				return ready, true
			}
			ready = append(ready, ev.Fd)
		}
		return ready, false
	}
}
