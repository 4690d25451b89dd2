//go:build !race

package nethttp

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"

	httpd "github.com/evhttpd/httpd"
)

// allocHandler is the handler both servers run: a small JSON reply with a
// request header read and a reply header set, typical of an API.
var allocHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_ = r.Header.Get("Accept")
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":1,"name":"item"}`)
})

// allocsPerRequest serves n keep-alive requests from one raw client and
// returns the process's heap allocations per request (client included:
// it allocates nothing per request, so the figure is the server's).
func allocsPerRequest(t testing.TB, addr string, n int) float64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /items/1 HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\nUser-Agent: alloc-test\r\n\r\n")
	br := bufio.NewReaderSize(c, 64<<10)
	one := func() {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		cl := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				t.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				cl, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
			}
		}
		if cl < 0 {
			t.Fatal("reply without Content-Length")
		}
		if _, err := br.Discard(cl); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 200; i++ { // warm pools and buffers
		one()
	}
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	for i := 0; i < n; i++ {
		one()
	}
	runtime.ReadMemStats(&b)
	return float64(b.Mallocs-a.Mallocs) / float64(n)
}

// TestAllocsVsNetHTTP serves the same handler through the bridge and
// through net/http's own server and reports both allocation counts per
// request; the bridge must allocate fewer.
func TestAllocsVsNetHTTP(t *testing.T) {
	_, base, _ := start(t, httpd.Config{EventLoops: 1}, allocHandler)
	bridge := allocsPerRequest(t, base[len("http://"):], 2000)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: allocHandler}
	go hs.Serve(ln)
	defer hs.Close()
	std := allocsPerRequest(t, ln.Addr().String(), 2000)

	t.Logf("allocations per request: bridge %.1f, net/http %.1f", bridge, std)
	if bridge >= std {
		t.Errorf("bridge allocates %.1f per request, net/http %.1f: want fewer", bridge, std)
	}
}
