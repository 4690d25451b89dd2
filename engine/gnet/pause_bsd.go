//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import "golang.org/x/sys/unix"

// setReadInterest turns the kqueue read filter of fd off or on (the write
// filter is gnet's own business).
func setReadInterest(pfd, fd int, read, _ bool) error {
	flags := uint16(unix.EV_DISABLE)
	if read {
		flags = unix.EV_ENABLE
	}
	ev := unix.Kevent_t{Filter: unix.EVFILT_READ, Flags: flags}
	unix.SetKevent(&ev, fd, unix.EVFILT_READ, int(flags))
	_, err := unix.Kevent(pfd, []unix.Kevent_t{ev}, nil, nil)
	return err
}

// ioctlInq asks a socket how many received bytes it holds (conn.readAhead):
// FIONREAD, _IOR('f', 127, int), which x/sys/unix does not name here.
const ioctlInq = 0x4004667f
