package httpd

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/evhttpd/httpd/internal/testreqs"
)

// fakeConn is an engine.Conn without a socket: input is preloaded, output
// counted. It lets the driver's per-request cost be measured (and profiled)
// without syscalls or another process in the loop.
type fakeConn struct {
	in      []byte
	off     int
	written int
	ctx     any
}

func (f *fakeConn) Peek() []byte             { return f.in[f.off:] }
func (f *fakeConn) Discard(n int)            { f.off = min(f.off+n, len(f.in)) }
func (f *fakeConn) InboundBuffered() int     { return len(f.in) - f.off }
func (f *fakeConn) Write(p []byte) error     { f.written += len(p); return nil }
func (f *fakeConn) OutboundBuffered() int    { return 0 }
func (f *fakeConn) CloseWrite() error        { return nil }
func (f *fakeConn) Close()                   {}
func (f *fakeConn) Reset()                   {}
func (f *fakeConn) PauseRead(bool) bool      { return false }
func (f *fakeConn) SetTimer(d time.Duration) {}
func (f *fakeConn) Fd() int                  { return -1 }
func (f *fakeConn) LocalAddr() net.Addr      { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr     { return &net.TCPAddr{} }
func (f *fakeConn) Loop() int                { return 0 }
func (f *fakeConn) Context() any             { return f.ctx }
func (f *fakeConn) SetContext(v any)         { f.ctx = v }

// benchDriver feeds depth pipelined copies of request per event to the
// driver and reports per-request cost.
func benchDriver(b *testing.B, request string, depth int, h HandlerFunc) {
	s, _, err := newServer(Config{EventLoops: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	s.state.Store(stateRunning)
	if err := s.RegisterURIHandler(URIHandler{URI: "/plaintext", Method: "GET", Handler: h}); err != nil {
		b.Fatal(err)
	}
	d := driver{s}
	fc := &fakeConn{in: []byte(strings.Repeat(request, depth))}
	d.OnOpen(fc)
	b.SetBytes(int64(len(request)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		fc.off = 0
		d.OnTraffic(fc)
	}
	b.StopTimer()
	if fc.written == 0 {
		b.Fatal("no reply written")
	}
}

func plaintext(r *Request) error {
	r.SetType("text/plain")
	r.SetHeader("Server", "evhttpd")
	return r.SendString("Hello, World!")
}

// BenchmarkDriver is the whole per-request path on the loop: parse, route,
// handler, reply head and body, bookkeeping; not the engine or syscalls.
func BenchmarkDriver(b *testing.B) {
	wrk := "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"
	b.Run("wrk/depth=1", func(b *testing.B) { benchDriver(b, wrk, 1, plaintext) })
	b.Run("wrk/depth=16", func(b *testing.B) { benchDriver(b, wrk, 16, plaintext) })
	hdr := strings.Replace(testreqs.Hdr219, "/items?id=42", "/plaintext", 1)
	b.Run("hdr219/depth=16", func(b *testing.B) { benchDriver(b, hdr, 16, plaintext) })
}
