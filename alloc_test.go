//go:build !race

package httpd

import (
	"bytes"
	"net"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// heapObjects returns the number of heap objects allocated so far by the
// whole process.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// replyLen reads one reply on c and returns its length in bytes (head and
// Content-Length body).
func replyLen(t *testing.T, c net.Conn, buf []byte) int {
	t.Helper()
	n := 0
	for {
		k, err := c.Read(buf[n:])
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		n += k
		if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
			head := string(buf[:i])
			j := strings.Index(head, "Content-Length: ")
			if j < 0 {
				t.Fatalf("reply without Content-Length: %q", head)
			}
			rest := head[j+len("Content-Length: "):]
			if e := strings.IndexByte(rest, '\r'); e >= 0 {
				rest = rest[:e]
			}
			cl, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("Content-Length %q", rest)
			}
			total := i + 4 + cl
			for n < total {
				k, err := c.Read(buf[n:])
				if err != nil {
					t.Fatalf("read: %v", err)
				}
				n += k
			}
			if n != total {
				t.Fatalf("read %d bytes; one reply has %d", n, total)
			}
			if !bytes.HasPrefix(buf, []byte("HTTP/1.1 200 ")) {
				t.Fatalf("reply %q", buf[:n])
			}
			return total
		}
	}
}

// measureAllocs sends reqBytes count times on one keep-alive connection,
// reading each reply by its byte count into a fixed buffer, and returns the
// heap objects the process allocated per request.
func measureAllocs(t *testing.T, srv *Server, reqBytes []byte, count int) float64 {
	t.Helper()
	c, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 64<<10)
	// Warm up: the session's parser, the loop's buffers, the Date cache.
	size := 0
	for i := 0; i < 200; i++ {
		if _, err := c.Write(reqBytes); err != nil {
			t.Fatal(err)
		}
		n := replyLen(t, c, buf)
		if size != 0 && n != size {
			// The Date header keeps its length; a different size means
			// something else changed.
			t.Fatalf("reply size changed from %d to %d", size, n)
		}
		size = n
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	runtime.GC()
	before := heapObjects()
	for i := 0; i < count; i++ {
		if _, err := c.Write(reqBytes); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < size; {
			k, err := c.Read(buf[got:size])
			if err != nil {
				t.Fatalf("request %d: read: %v", i, err)
			}
			got += k
		}
	}
	after := heapObjects()
	t.Logf("%d heap objects over %d requests of %d bytes", after-before, count, len(reqBytes))
	return float64(after-before) / float64(count)
}

func TestKeepAliveGETAlloc(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	mustRegister(t, srv, URIHandler{URI: "/hello", Method: "GET", Handler: func(r *Request) error {
		if err := r.SetHeader("Custom-Header-1", "Custom-Value-1"); err != nil {
			return err
		}
		return r.SendString("Hello World!")
	}})
	reqBytes := []byte("GET /hello?query1=a HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n")
	if per := measureAllocs(t, srv, reqBytes, 20000); per >= 0.05 {
		t.Errorf("keep-alive GET: %.3f heap objects per request; want < 0.05", per)
	}
}

func TestKeepAlivePOSTAlloc(t *testing.T) {
	srv := startTest(t, Config{EventLoops: 1})
	mustRegister(t, srv, URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error {
		return r.Send(r.Body())
	}})
	body := strings.Repeat("0123456789abcdef", 64) // 1 KiB
	reqBytes := []byte("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + body)
	if per := measureAllocs(t, srv, reqBytes, 20000); per >= 0.05 {
		t.Errorf("keep-alive POST with 1 KiB: %.3f heap objects per request; want < 0.05", per)
	}
}
