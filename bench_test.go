package httpd

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkQueueWork measures work items queued from other goroutines and
// run on the sessions' loops, end to end (queue push, doorbell when the
// queue was idle, run on the loop). ns/op is per item; items/s is 1e9/ns.
func BenchmarkQueueWork(b *testing.B) {
	for _, producers := range []int{1, 2, 4} {
		b.Run("producers="+itoa(producers), func(b *testing.B) {
			srv := startTest(b, Config{EventLoops: 1})
			mustRegister(b, srv, URIHandler{URI: "/", Method: "GET", Handler: sendString("")})
			rc := dial(b, srv)
			rc.write(req("GET", "/"))
			rc.response("GET")
			id := srv.Clients(nil)[0]
			var ran atomic.Int64
			fn := func(*Session) { ran.Add(1) }
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N / producers
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						for srv.QueueWork(id, fn) == ErrQueueFull {
							runtime.Gosched()
						}
					}
				}()
			}
			wg.Wait()
			for ran.Load() < int64(per*producers) {
				runtime.Gosched()
			}
			b.StopTimer()
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
