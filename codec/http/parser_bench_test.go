package http

import (
	"testing"

	"github.com/evhttpd/httpd/internal/testreqs"
)

var benchHeads = []struct {
	name string
	req  string
}{
	{"wrk49", testreqs.Wrk49},
	{"hdr219", testreqs.Hdr219},
	{"browser688", testreqs.Browser700},
	{"chunkedPostHead", testreqs.ChunkedPostHead},
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
