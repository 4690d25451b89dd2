package httpd

import (
	"crypto/rand"
	"net"
	"testing"
	"time"
)

// BenchmarkJunkDatagramCost measures the server CPU one junk datagram on
// the control socket costs: process CPU time while datagrams are sent to the
// control port, minus the same sends to a UDP port nobody reads (the
// sender's own cost). It reports the cost per datagram and the share of one
// core that 1000 datagrams per second take, which bounds what they can cost
// request throughput (target: under 1%). CPU time, not wall time, so the
// figure does not depend on other load on the machine.
func BenchmarkJunkDatagramCost(b *testing.B) {
	srv := startTest(b, Config{EventLoops: 1})
	sink, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never read: sends succeed, nobody works
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	send := func(to net.Addr, n int) time.Duration {
		u, err := net.Dial("udp", to.String())
		if err != nil {
			b.Fatal(err)
		}
		defer u.Close()
		buf := make([]byte, 1500)
		rand.Read(buf)
		start := cpuTime(b)
		for i := 0; i < n; i++ {
			u.Write(buf[:i%len(buf)])
			if i%64 == 63 {
				time.Sleep(200 * time.Microsecond) // stay under the receive buffer
			}
		}
		time.Sleep(50 * time.Millisecond) // let the loop finish reading
		return cpuTime(b) - start
	}
	n := max(b.N, 5000)
	b.ResetTimer()
	base := send(sink.LocalAddr(), n)
	before := srv.eng.Stats().DoorbellsDropped
	full := send(srv.CtrlAddr(), n)
	b.StopTimer()
	dropped := srv.eng.Stats().DoorbellsDropped - before
	if dropped == 0 {
		b.Fatal("no junk datagram reached the server")
	}
	per := float64(full-base) / float64(dropped)
	if per < 0 {
		per = 0
	}
	b.ReportMetric(per/1e3, "server-µs/datagram")
	b.ReportMetric(per*1000/1e9*100, "%core@1k/s")
	b.ReportMetric(float64(dropped)/float64(n)*100, "%received")
}
