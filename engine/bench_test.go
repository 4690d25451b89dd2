package engine

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// countWake counts OnWake calls; the rest is plainEcho.
type countWake struct {
	plainEcho
	n atomic.Int64
}

func (h *countWake) OnWake(int) { h.n.Add(1) }

// BenchmarkWake measures Wake from parallel goroutines. Wakes coalesce while
// a doorbell is on its way, so it reports the datagrams actually sent and the
// OnWake calls per second besides ns/op.
func BenchmarkWake(b *testing.B) {
	h := &countWake{}
	e := startEngine(b, Config{Loops: 2, TimerResolution: time.Second, TickInterval: time.Second}, h)
	defer stopEngine(b, e)
	b.ReportAllocs()
	before := e.Stats()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		l := 0
		for pb.Next() {
			_ = e.Wake(l)
			l ^= 1
		}
	})
	el := time.Since(start).Seconds()
	after := e.Stats()
	b.ReportMetric(float64(after.DoorbellsSent-before.DoorbellsSent)/el, "doorbells/s")
	b.ReportMetric(float64(after.Wakes-before.Wakes)/el, "onwakes/s")
}

// BenchmarkWakeUncoalesced waits for each OnWake before the next Wake, so
// every op is a full doorbell round trip: datagram, loop wake-up, OnWake.
func BenchmarkWakeUncoalesced(b *testing.B) {
	h := &countWake{}
	e := startEngine(b, Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, h)
	defer stopEngine(b, e)
	b.ReportAllocs()
	for b.Loop() {
		want := h.n.Load() + 1
		_ = e.Wake(0)
		for h.n.Load() < want {
		}
	}
}

// BenchmarkEchoLoopback is one client doing request/echo round trips over
// loopback TCP through one loop.
func BenchmarkEchoLoopback(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(itoa(size), func(b *testing.B) {
			e := startEngine(b, Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, plainEcho{})
			defer stopEngine(b, e)
			c, err := net.Dial("tcp", e.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			msg := make([]byte, size)
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// plainEcho echoes and does nothing else (the test echo records goroutine
// ids, which allocates).
type plainEcho struct{}

func (plainEcho) OnOpen(Conn) {}
func (plainEcho) OnTraffic(c Conn) {
	b := c.Peek()
	if c.Write(b) == nil {
		c.Discard(len(b))
	}
}
func (plainEcho) OnClose(Conn, error)   {}
func (plainEcho) OnTimer(Conn)          {}
func (plainEcho) OnWake(int)            {}
func (plainEcho) OnTick(int, time.Time) {}

// BenchmarkConnect measures the connection rate through the acceptor and
// gnet's enrolment: 64 concurrent clients each dial, see one byte echoed and
// reset the connection (SO_LINGER 0, so no TIME_WAIT piles up), for several
// EnrollQueue bounds. A small bound costs no rate (each enrolment is a short
// hand-off to the loop) and keeps gnet's worker pool, one goroutine per
// enrolment in flight, small after a burst.
func BenchmarkConnect(b *testing.B) {
	for _, q := range []int{8, 64, 1024} {
		b.Run("EnrollQueue="+itoa(q), func(b *testing.B) {
			e := startEngine(b, Config{Loops: 1, EnrollQueue: q, TimerResolution: time.Second, TickInterval: time.Second}, plainEcho{})
			defer stopEngine(b, e)
			addr := e.Addr().String()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				var one [1]byte
				for pb.Next() {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := c.Write(one[:]); err == nil {
						_, err = io.ReadFull(c, one[:])
					}
					if err != nil {
						b.Error(err)
					}
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
				}
			})
		})
	}
}
