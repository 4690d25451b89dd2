package enginetest

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// countWake counts OnWake calls; the rest is plainEcho.
type countWake struct {
	plainEcho
	n atomic.Int64
}

func (h *countWake) OnWake(int) { h.n.Add(1) }

// benchWake measures Wake from parallel goroutines. Wakes coalesce while a
// delivery is on its way, so it reports the doorbell datagrams actually
// sent (gnet) and the OnWake calls per second besides ns/op.
func benchWake(b *testing.B) {
	h := &countWake{}
	e := startEngine(b, engine.Config{Loops: 2, TimerResolution: time.Second, TickInterval: time.Second}, h)
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

// benchWakeUncoalesced waits for each OnWake before the next Wake, so
// every op is a full round trip: delivery, loop wake-up, OnWake.
func benchWakeUncoalesced(b *testing.B) {
	h := &countWake{}
	e := startEngine(b, engine.Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, h)
	defer stopEngine(b, e)
	b.ReportAllocs()
	for b.Loop() {
		want := h.n.Load() + 1
		_ = e.Wake(0)
		for h.n.Load() < want {
		}
	}
}

// benchEchoLoopback is one client doing request/echo round trips over
// loopback TCP through one loop.
func benchEchoLoopback(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(itoa(size), func(b *testing.B) {
			e := startEngine(b, engine.Config{Loops: 1, TimerResolution: time.Second, TickInterval: time.Second}, plainEcho{})
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

func (plainEcho) OnOpen(engine.Conn) {}
func (plainEcho) OnTraffic(c engine.Conn) {
	b := c.Peek()
	if c.Write(b) == nil {
		c.Discard(len(b))
	}
}
func (plainEcho) OnClose(engine.Conn, error) {}
func (plainEcho) OnTimer(engine.Conn)        {}
func (plainEcho) OnWake(int)                 {}
func (plainEcho) OnTick(int, time.Time)      {}

// benchConnect measures the connection rate through the acceptor and the
// hand-off to a loop: 64 concurrent clients each dial, see one byte echoed
// and reset the connection (SO_LINGER 0, so no TIME_WAIT piles up).
func benchConnect(b *testing.B) {
	BenchConnect(b, suite, engine.Config{Loops: 1})
}

// BenchConnect is benchConnect with the caller's Config (a backend's own
// benchmarks vary its Options with it); Backend is the suite's.
func BenchConnect(b *testing.B, s Suite, cfg engine.Config) {
	suite = s
	cfg.TimerResolution, cfg.TickInterval = time.Second, time.Second
	e := startEngine(b, cfg, plainEcho{})
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
}
