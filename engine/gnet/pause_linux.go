//go:build linux

package gnet

import "golang.org/x/sys/unix"

// setReadInterest changes the epoll interest of fd: reading on or off,
// writing kept when output is queued. The event carries the descriptor in
// its data, as gnet's default poller expects; when gnet later changes the
// interest itself (ModRead once its output queue drained) reading resumes,
// which is also when it should.
func setReadInterest(pfd, fd int, read, write bool) error {
	var ev uint32
	if read {
		ev |= unix.EPOLLIN | unix.EPOLLPRI
	}
	if write {
		ev |= unix.EPOLLOUT
	}
	return unix.EpollCtl(pfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Fd: int32(fd), Events: ev})
}

// ioctlInq asks a socket how many received bytes it holds (conn.readAhead).
const ioctlInq = unix.SIOCINQ
