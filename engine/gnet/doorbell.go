package gnet

import (
	"context"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evhttpd/httpd/ctrl"
	"github.com/evhttpd/httpd/engine"
)

type probeResult struct {
	seq  uint32
	loop int
}

// Wake rings loop's doorbell (see engine.Engine): a datagram to the loop's
// own UDP socket, sent only when the bell was silent.
func (e *gnetEngine) Wake(loop int) error { return e.wake(loop, false) }

// WakeLocal rings loop's doorbell like Wake (engine.LocalWaker), but when
// the bell was silent delivers it through gnet's task queue (an eventfd or
// pipe write the loop's poller wakes on) rather than a datagram, which
// costs a send and a receive through the UDP stack and five allocations
// in gnet's read of it.
func (e *gnetEngine) WakeLocal(loop int) error { return e.wake(loop, true) }

func (e *gnetEngine) wake(loop int, local bool) error {
	loops := e.loopList()
	if loop < 0 || loop >= len(loops) {
		return engine.ErrLoop
	}
	e.wakeMu.RLock()
	defer e.wakeMu.RUnlock()
	if e.wakeClosed {
		return engine.ErrStopped
	}
	ls := loops[loop]
	if !local {
		e.ring(ls, engine.BellWork, ctrl.KindWork)
	} else if ls.Bell.Ring(engine.BellWork) {
		e.st.local.Add(1)
		ls.deliver()
	}
	return nil
}

// ring sets bit in ls's bell and, if the bell was silent, sends the doorbell.
// The caller holds wakeMu for reading or is the ticker, which gnet stops
// before Stop closes the senders.
func (e *gnetEngine) ring(ls *loop, bit uint32, kind ctrl.Kind) {
	if !ls.Bell.Ring(bit) {
		return // a delivery is already on its way and will see bit
	}
	fd := int(ls.sender.Load())
	if fd < 0 {
		fd = int(e.fallbackFd.Load()) // lands on another loop, which forwards it
	}
	var buf [ctrl.DoorbellLen]byte
	p := ctrl.AppendDoorbell(buf[:0], e.token, ls.Idx, kind, e.seq.Add(1))
	if _, err := unix.Write(fd, p); err != nil {
		// EAGAIN, ENOBUFS, ECONNREFUSED...: the wake must not be lost,
		// so it goes through the loop's own task queue instead.
		e.st.fallbacks.Add(1)
		ls.deliver()
		return
	}
	e.st.sent.Add(1)
}

// deliver queues the bell service on ls through gnet's task queue (an
// eventfd or pipe wake-up; reliable, unlike a datagram).
func (ls *loop) deliver() {
	_ = ls.gel.Execute(context.Background(), ls.task)
}

// ringTicks runs on gnet's ticker goroutine every TimerResolution. Besides
// the tick it detects lost doorbells: a bell that stayed rung through two
// ticks while the loop swapped nothing is re-delivered by task queue (a
// datagram can be dropped by a full receive buffer, say under a flood of
// junk; a loop that was merely busy gets a harmless extra service).
func (e *gnetEngine) ringTicks() {
	if !e.ready.Load() {
		return
	}
	for _, ls := range e.loopList() {
		if ls.watch.Stuck(&ls.Bell) {
			e.st.rescues.Add(1)
			ls.deliver()
		}
		e.ring(ls, engine.BellTick, ctrl.KindTick)
	}
}

// reservePort binds a UDP socket with SO_REUSEPORT on ua (port 0) to learn a
// free port that gnet's sockets can then share.
func reservePort(ua *net.UDPAddr) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	network := "udp4"
	if ua.IP.To4() == nil {
		network = "udp6"
	}
	return lc.ListenPacket(context.Background(), network, ua.String())
}

// newSender opens a non-blocking UDP socket connected to ua. A connected
// socket keeps its source port, so the kernel's reuseport hash sends all its
// datagrams to the same gnet socket, that is to the same loop.
func newSender(ua *net.UDPAddr) (int, error) {
	var (
		family = unix.AF_INET
		sa     unix.Sockaddr
	)
	if ip4 := ua.IP.To4(); ip4 != nil {
		s := &unix.SockaddrInet4{Port: ua.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		family = unix.AF_INET6
		s := &unix.SockaddrInet6{Port: ua.Port}
		copy(s.Addr[:], ua.IP.To16())
		sa = s
	}
	// ForkLock keeps a concurrent fork+exec from inheriting the fd before
	// it is marked close-on-exec (SOCK_CLOEXEC is not on every platform).
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, unix.SOCK_DGRAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err = unix.SetNonblock(fd, true); err == nil {
		err = unix.Connect(fd, sa)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// calibrate finds, for each loop, a sender socket whose datagrams the kernel
// delivers to that loop: probes go out from fresh sockets (fresh source
// ports), the loop that receives one reports it, and the first socket to
// reach a loop becomes its sender. Linux spreads the probes by hash; the BSDs
// give everything to one socket, so there the other loops stay without a
// sender and get their doorbells forwarded. Bounded by CalibrationProbes.
func (e *gnetEngine) calibrate() error {
	loops := e.loopList()
	n := len(loops)
	reached, sent := 0, 0
	batchFds := make(map[uint32]int)
	defer func() {
		for _, fd := range batchFds {
			unix.Close(fd)
		}
	}()
	var buf [ctrl.DoorbellLen]byte
	for reached < n && sent < e.opt.CalibrationProbes {
		batch := min(max(2*(n-reached), 4), e.opt.CalibrationProbes-sent)
		for range batch {
			fd, err := newSender(e.ctrlAddr)
			if err != nil {
				return err
			}
			seq := uint32(sent)
			sent++
			batchFds[seq] = fd
			p := ctrl.AppendDoorbell(buf[:0], e.token, 0, ctrl.KindProbe, seq)
			_, _ = unix.Write(fd, p) // a failed probe is a lost probe
		}
		t := time.NewTimer(e.opt.CalibrationTimeout)
	wait:
		for got := 0; got < batch; {
			select {
			case r := <-e.probeCh:
				fd, ok := batchFds[r.seq]
				if !ok {
					continue // a late answer to an earlier batch
				}
				got++
				if loops[r.loop].sender.Load() < 0 {
					loops[r.loop].sender.Store(int64(fd))
					e.senderFds = append(e.senderFds, fd)
					delete(batchFds, r.seq)
					reached++
				}
			case <-t.C:
				break wait
			case <-e.runDone:
				t.Stop()
				return engine.ErrStopped
			}
		}
		t.Stop()
		for seq, fd := range batchFds {
			unix.Close(fd)
			delete(batchFds, seq)
		}
	}
	if reached == 0 {
		return engine.ErrCtrl
	}
	for _, ls := range loops {
		if fd := ls.sender.Load(); fd >= 0 {
			e.fallbackFd.Store(fd)
			break
		}
	}
	e.st.directLoops.Store(int64(reached))
	if reached < n {
		e.log.Debug("engine: some loops get forwarded doorbells", "direct", reached, "loops", n)
	}
	return nil
}

// closeSenders closes the sender sockets; Wake is already refused.
func (e *gnetEngine) closeSenders() {
	for _, fd := range e.senderFds {
		unix.Close(fd)
	}
	e.senderFds = nil
}
