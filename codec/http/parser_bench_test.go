package http

import (
	"strconv"
	"testing"

	"github.com/evhttpd/httpd/internal/testreqs"
)

// curlProxyAbsolute is what curl 7.88.1 sends to a proxy (curl -x
// http://127.0.0.1:port http://example.com:8080/items?id=42): an
// absolute-form target.
const curlProxyAbsolute = "GET http://example.com:8080/items?id=42 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n"

var benchHeads = []struct {
	name string
	req  string
}{
	{"wrk49", testreqs.Wrk49},
	{"hdr219", testreqs.Hdr219},
	{"browser688", testreqs.Browser700},
	{"chunkedPostHead", testreqs.ChunkedPostHead},
	{"curlProxyAbsolute", curlProxyAbsolute},
}

func BenchmarkParseHead(b *testing.B) {
	for _, c := range benchHeads {
		b.Run(c.name, func(b *testing.B) {
			buf := []byte(c.req)
			var p Parser
			p.Init(Limits{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				p.Reset()
				if _, err := p.ParseHead(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseHeadByteAtATime feeds the head one more byte per call, the
// worst case for an incremental parser: it must not rescan.
func BenchmarkParseHeadByteAtATime(b *testing.B) {
	for _, c := range benchHeads {
		b.Run(c.name, func(b *testing.B) {
			buf := []byte(c.req)
			var p Parser
			p.Init(Limits{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				p.Reset()
				for i := 1; i <= len(buf); i++ {
					if _, err := p.ParseHead(buf[:i]); err != ErrNeedMore {
						if err != nil || i != len(buf) {
							b.Fatal(i, err)
						}
					}
				}
			}
		})
	}
}

// BenchmarkParseHeadAccess parses and then reads what a server reads for
// every request: method, path, Host, framing and keep-alive.
func BenchmarkParseHeadAccess(b *testing.B) {
	buf := []byte(testreqs.Hdr219)
	var p Parser
	p.Init(Limits{})
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p.Reset()
		if _, err := p.ParseHead(buf); err != nil {
			b.Fatal(err)
		}
		n += len(p.Method()) + len(p.Path()) + len(p.Host()) + int(p.ContentLength())
		if p.KeepAlive() && !p.Chunked() {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no work")
	}
}

// BenchmarkChunkedDecode decodes the chunked POST body in place, and a 64
// KiB body in 4 KiB chunks.
func BenchmarkChunkedDecode(b *testing.B) {
	big := chunkEncodeFixed(make([]byte, 64<<10), 4096)
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"curlPost", []byte(testreqs.ChunkedPost[len(testreqs.ChunkedPostHead):])},
		{"64KiB", big},
	} {
		b.Run(c.name, func(b *testing.B) {
			work := make([]byte, len(c.body))
			var d ChunkedDecoder
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				d.Init(Limits{})
				copy(work, c.body)
				if _, _, err := d.Decode(work, work); err != nil || !d.Done() {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseChunkedPost parses the head and decodes the body of the
// chunked POST, as a server does per request.
func BenchmarkParseChunkedPost(b *testing.B) {
	req := []byte(testreqs.ChunkedPost)
	work := make([]byte, len(req))
	var p Parser
	var d ChunkedDecoder
	p.Init(Limits{})
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		n, err := p.ParseHead(req)
		if err != nil || !p.Chunked() {
			b.Fatal(err)
		}
		d.Init(Limits{})
		copy(work, req[n:])
		if _, _, err := d.Decode(work, work[:len(req)-n]); err != nil || !d.Done() {
			b.Fatal(err)
		}
	}
}

func chunkEncodeFixed(data []byte, size int) []byte {
	var out []byte
	for len(data) > 0 {
		n := min(size, len(data))
		out = append(out, []byte(strconv.FormatInt(int64(n), 16))...)
		out = append(out, "\r\n"...)
		out = append(out, data[:n]...)
		out = append(out, "\r\n"...)
		data = data[n:]
	}
	return append(out, "0\r\n\r\n"...)
}
