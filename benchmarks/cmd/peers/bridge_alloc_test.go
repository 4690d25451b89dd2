//go:build !race && !noevhttpd

package main

import (
	"bufio"
	"bytes"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// allocsPerRequest serves n keep-alive GET /plaintext requests to one raw
// client (which allocates nothing per request) and returns the process's
// heap allocations per request: the server's.
func allocsPerRequest(t *testing.T, addr string, path string, n int) float64 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nUser-Agent: alloc\r\nAccept: */*\r\n\r\n")
	br := bufio.NewReaderSize(c, 64<<10)
	one := func() {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		cl, chunked := -1, false
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
			if bytes.HasPrefix(line, []byte("Transfer-Encoding: chunked")) {
				chunked = true
			}
		}
		if !chunked {
			br.Discard(cl)
			return
		}
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				t.Fatal(err)
			}
			size, _ := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			br.Discard(int(size) + 2)
			if size == 0 {
				return
			}
		}
	}
	for i := 0; i < 200; i++ {
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

// TestBridgeAllocs reports the heap allocations per request of the bridge
// comparison's servers for the same handler (bridge.sh prints them with
// the throughput figures), and fails if the bridge allocates as much as
// net/http's server.
func TestBridgeAllocs(t *testing.T) {
	got := map[string]float64{}
	var lines []string
	for _, s := range []string{"bridge", "bridge-loop", "nethttp-std", "fhadaptor"} {
		for _, path := range []string{"/plaintext", "/download"} {
			addr := freeAddr(t)
			stop, err := servers[s](config{addr: addr, loops: 1})
			if err != nil {
				t.Fatal(err)
			}
			n := 2000
			if path == "/download" {
				n = 200
			}
			a := allocsPerRequest(t, addr, path, n)
			if err := stop(); err != nil {
				t.Errorf("%s: stop: %v", s, err)
			}
			got[s+path] = a
			lines = append(lines, s+" "+path+" "+strconv.FormatFloat(a, 'f', 1, 64))
		}
	}
	t.Logf("allocations per request (server, path, allocs):\n%s", strings.Join(lines, "\n"))
	if got["bridge/plaintext"] >= got["nethttp-std/plaintext"] {
		t.Errorf("bridge %.1f allocations per request, net/http %.1f: want fewer", got["bridge/plaintext"], got["nethttp-std/plaintext"])
	}
}
