package httpd

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// HTTPS benchmarks, evhttpd against net/http with crypto/tls in the same
// process run, both serving GET /hello with the same ECDSA P-256
// certificate; the clients are Go TLS clients. Compare the sub-benchmarks
// of one run as ratios:
//
//	go test -run '^$' -bench 'BenchmarkTLS' -benchtime 3s .

// tlsBenchServer starts one of the two servers and returns its address.
func tlsBenchServer(b *testing.B, kind string) string {
	b.Helper()
	switch kind {
	case "evhttpd":
		srv := startTLS(b, Config{EventLoops: runtime.GOMAXPROCS(0)})
		mustRegister(b, srv, URIHandler{URI: "/hello", Method: "GET", Handler: sendString("Hello World!")})
		return srv.Addr().String()
	case "nethttp":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "Hello World!")
			}),
			ErrorLog: nil,
		}
		go hs.Serve(tls.NewListener(ln, testPKI().tlsConfig(b, false)))
		b.Cleanup(func() { hs.Close() })
		return ln.Addr().String()
	}
	b.Fatalf("unknown server %q", kind)
	return ""
}

func tlsBenchDial(b *testing.B, addr string, cfg *tls.Config) *tls.Conn {
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		b.Fatal(err)
	}
	return c
}

const helloReq = "GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n"

// helloRoundTrip sends GET /hello and reads the reply with a minimal
// reader (head up to the blank line, then Content-Length bytes), so the
// client's own cost dilutes the comparison as little as possible.
func helloRoundTrip(b *testing.B, c net.Conn, br *bufio.Reader) {
	if _, err := io.WriteString(c, helloReq); err != nil {
		b.Fatal(err)
	}
	cl := -1
	status := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if !status {
			status = true
			if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
				b.Fatalf("status line %q", line)
			}
			continue
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			cl, _ = strconv.Atoi(string(bytes.TrimSpace(line[15:])))
		}
	}
	if cl < 0 {
		b.Fatal("reply without Content-Length")
	}
	if _, err := br.Discard(cl); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkTLSHandshake: full handshakes (no resumption) from parallel
// clients, each followed by one request; handshakes/s.
func BenchmarkTLSHandshake(b *testing.B) {
	for _, kind := range []string{"evhttpd", "nethttp"} {
		b.Run(kind, func(b *testing.B) {
			addr := tlsBenchServer(b, kind)
			cfg := testPKI().clientConfig()
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := tlsBenchDial(b, addr, cfg)
					helloRoundTrip(b, c, bufio.NewReader(c))
					c.Close()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkTLSKeepAlive: requests on kept TLS sessions, one per client
// goroutine; requests/s.
func BenchmarkTLSKeepAlive(b *testing.B) {
	for _, kind := range []string{"evhttpd", "nethttp"} {
		b.Run(kind, func(b *testing.B) {
			addr := tlsBenchServer(b, kind)
			cfg := testPKI().clientConfig()
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				c := tlsBenchDial(b, addr, cfg)
				defer c.Close()
				br := bufio.NewReader(c)
				for pb.Next() {
					helloRoundTrip(b, c, br)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// BenchmarkTLSIdleSessionMemory: heap and stack growth per idle
// established HTTPS session, over 1000 sessions that each served one
// request. The clients keep only their TCP sockets (their TLS state is
// dropped), so the figure is the server's plus a bare client socket's.
func BenchmarkTLSIdleSessionMemory(b *testing.B) {
	const n = 1000
	for _, kind := range []string{"evhttpd", "nethttp"} {
		b.Run(kind, func(b *testing.B) {
			addr := tlsBenchServer(b, kind)
			cfg := testPKI().clientConfig()
			var perSession float64
			for i := 0; i < b.N; i++ {
				before := liveBytes()
				raws := make([]net.Conn, 0, n)
				for j := 0; j < n; j++ {
					raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
					if err != nil {
						b.Fatal(err)
					}
					c := tls.Client(raw, cfg)
					helloRoundTrip(b, c, bufio.NewReader(c))
					raws = append(raws, raw)
				}
				time.Sleep(100 * time.Millisecond) // let the servers settle
				perSession = float64(liveBytes()-before) / n
				for _, r := range raws {
					r.Close()
				}
				runtime.KeepAlive(raws)
			}
			b.ReportMetric(perSession, "B/session")
		})
	}
}

// liveBytes is the heap in use plus goroutine stacks, after a collection.
func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse)
}
