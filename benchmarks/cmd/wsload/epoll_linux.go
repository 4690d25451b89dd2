package main

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// defaultEngine is the echo engine used without -engine.
const defaultEngine = engineEpoll

var errNoFD = errors.New("wsload: connection has no file descriptor")

// epollEngine drives the echo with -loops event loops, each one goroutine
// that owns an epoll instance and a share of the connections. Per batch of
// -depth messages a connection costs one write and, for small messages,
// one read; the clock is read once per epoll_wait.
type epollEngine struct {
	loops []*epollLoop
}

// epollLoop is one event loop. rbuf is the loop's read buffer: bytes in it
// live until the next read; only the per-connection parse state survives.
type epollLoop struct {
	epfd       int
	conns      []epollConn
	events     []syscall.EpollEvent
	rbuf       []byte
	batch      []byte // depth masked frames, written as one; read-only
	depth      int
	wantLen    int
	maxSamples int
	timeout    int64 // nanoseconds a batch may wait for its echoes
	sweep      int64 // nanoseconds between timeout sweeps
	live       int
}

// epollConn is one connection's state in its loop.
type epollConn struct {
	c        *client
	fd       int
	idx      int32 // index in the loop's conns, the epoll event's data
	r        echoReader
	sent     int64 // clock reading (ns since start) of the batch's send
	wOff     int   // bytes of the batch written so far
	pending  int   // echoes of the current batch not yet arrived
	wantOut  bool  // EPOLLOUT is registered: a batch write was partial
	dead     bool
	leftover []byte // bytes the handshake reader read past the response; aliases the client's bufio.Reader, parsed once at the start
}

// newEpollEngine takes the connections' descriptors out of the Go
// runtime: each is duplicated, the net.Conn closed (which removes the
// original from the runtime's poller, so the runtime sees no events for
// it), and the duplicate registered level-triggered for EPOLLIN with the
// loop that owns it.
func newEpollEngine(o options, conns []*client, batch []byte, wantLen int) (engine, error) {
	n := min(o.loops, len(conns))
	e := &epollEngine{}
	sweep := max(o.timeout/10, time.Millisecond)
	for i := range n {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			e.close()
			return nil, os.NewSyscallError("epoll_create1", err)
		}
		e.loops = append(e.loops, &epollLoop{
			epfd: fd, events: make([]syscall.EpollEvent, o.events), rbuf: make([]byte, o.readBuf),
			batch: batch, depth: o.depth, wantLen: wantLen, maxSamples: o.maxSamples,
			timeout: int64(o.timeout), sweep: int64(sweep),
			conns: make([]epollConn, 0, (len(conns)+n-1-i)/n),
		})
	}
	for i, c := range conns {
		l := e.loops[i%n]
		fd, err := detach(c.conn)
		if err != nil {
			e.close()
			return nil, err
		}
		ec := epollConn{c: c, fd: fd, idx: int32(len(l.conns)), r: newEchoReader(o.deflate)}
		if k := c.br.Buffered(); k > 0 {
			p, _ := c.br.Peek(k)
			ec.leftover = p
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: ec.idx}
		l.conns = append(l.conns, ec)
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			e.close()
			return nil, os.NewSyscallError("epoll_ctl", err)
		}
		l.live++
	}
	return e, nil
}

// detach returns a non-blocking duplicate of conn's descriptor and closes
// conn.
func detach(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errNoFD
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, os.NewSyscallError("dup", derr)
	}
	syscall.CloseOnExec(fd)
	conn.Close()
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}

func (e *epollEngine) run(start, end time.Time) {
	var wg sync.WaitGroup
	for _, l := range e.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(start, int64(end.Sub(start)))
		}()
	}
	wg.Wait()
}

func (e *epollEngine) close() {
	for _, l := range e.loops {
		for i := range l.conns {
			syscall.Close(l.conns[i].fd)
		}
		syscall.Close(l.epfd)
	}
}

// run sends every connection its first batch and then serves events until
// end (nanoseconds after base) or until no connection is left. The clock
// is read once after each epoll_wait and that reading stamps every send
// and every echo of the batch of events, so a latency sample can be off by
// up to the time the loop spends on one batch of at most -events events
// (a few microseconds per event), in either direction.
func (l *epollLoop) run(base time.Time, end int64) {
	now := int64(time.Since(base))
	for i := range l.conns {
		c := &l.conns[i]
		l.send(c, now)
		if len(c.leftover) > 0 && !c.dead {
			l.deliver(c, c.leftover, now)
			c.leftover = nil
		}
	}
	nextSweep := now + l.sweep
	for l.live > 0 {
		wait := min(end, nextSweep) - now
		ms := int((wait + int64(time.Millisecond) - 1) / int64(time.Millisecond))
		n, err := syscall.EpollWait(l.epfd, l.events, ms)
		now = int64(time.Since(base))
		if now >= end {
			return
		}
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			for i := range l.conns {
				l.fail(&l.conns[i], os.NewSyscallError("epoll_wait", err))
			}
			return
		}
		for _, ev := range l.events[:n] {
			c := &l.conns[ev.Fd]
			if c.dead {
				continue
			}
			if ev.Events&syscall.EPOLLOUT != 0 && c.wantOut {
				l.flush(c)
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 && !c.dead {
				l.read(c, now)
			}
		}
		if now >= nextSweep {
			for i := range l.conns {
				if c := &l.conns[i]; !c.dead && c.pending > 0 && now-c.sent > l.timeout {
					l.fail(c, errTimeout)
				}
			}
			nextSweep = now + l.sweep
		}
	}
}

// send starts a batch: depth frames in one write, stamped now.
func (l *epollLoop) send(c *epollConn, now int64) {
	c.sent, c.wOff, c.pending = now, 0, l.depth
	l.flush(c)
}

// flush writes what is left of the batch. A partial write registers
// EPOLLOUT until the rest is written.
func (l *epollLoop) flush(c *epollConn) {
	for c.wOff < len(l.batch) {
		n, errno := rawWrite(c.fd, l.batch[c.wOff:])
		switch errno {
		case 0:
			c.wOff += n
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if !c.wantOut {
				l.watch(c, syscall.EPOLLIN|syscall.EPOLLOUT)
				c.wantOut = true
			}
			return
		}
		l.fail(c, os.NewSyscallError("write", errno))
		return
	}
	if c.wantOut {
		l.watch(c, syscall.EPOLLIN)
		c.wantOut = false
	}
}

func (l *epollLoop) watch(c *epollConn, events uint32) {
	ev := syscall.EpollEvent{Events: events, Fd: c.idx}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		l.fail(c, os.NewSyscallError("epoll_ctl", err))
	}
}

// read makes one read; level triggering reports the connection again if
// more is buffered than rbuf holds.
func (l *epollLoop) read(c *epollConn, now int64) {
	n, errno := rawRead(c.fd, l.rbuf)
	switch {
	case errno == syscall.EAGAIN || errno == syscall.EINTR:
		return
	case errno != 0:
		l.fail(c, os.NewSyscallError("read", errno))
		return
	case n == 0:
		l.fail(c, io.ErrUnexpectedEOF)
		return
	}
	l.deliver(c, l.rbuf[:n], now)
}

// deliver parses b, counts and samples the echoes that ended in it, and
// sends the next batch once the current one is fully echoed.
func (l *epollLoop) deliver(c *epollConn, b []byte, now int64) {
	msgs, err := c.r.feed(b, l.wantLen)
	if msgs > c.pending {
		l.fail(c, errExtraEcho)
		return
	}
	c.pending -= msgs
	c.c.n += int64(msgs)
	for range min(msgs, l.maxSamples-len(c.c.samples)) {
		c.c.samples = append(c.c.samples, time.Duration(now-c.sent))
	}
	if err != nil {
		l.fail(c, err)
		return
	}
	if c.pending == 0 {
		l.send(c, now)
	}
}

// fail records err for the connection and stops watching it; its
// descriptor is closed with the engine.
func (l *epollLoop) fail(c *epollConn, err error) {
	if c.dead {
		return
	}
	c.dead = true
	c.c.err = err
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	l.live--
}

// rawRead and rawWrite bypass the runtime's system-call bookkeeping
// (entersyscall, exitsyscall): the descriptors are non-blocking, so the
// calls never park the thread.
func rawRead(fd int, p []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(r), e
}

func rawWrite(fd int, p []byte) (int, syscall.Errno) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	return int(r), e
}
