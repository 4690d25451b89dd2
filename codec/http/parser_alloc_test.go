//go:build !race

package http

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/evhttpd/httpd/internal/testreqs"
)

func TestParseHeadAlloc(t *testing.T) {
	for _, c := range []struct{ name, req string }{
		{"wrk49", testreqs.Wrk49},
		{"hdr219", testreqs.Hdr219},
		{"browser", testreqs.Browser700},
		{"chunked head", testreqs.ChunkedPostHead},
		{"absolute-form", curlProxyAbsolute},
		{"absolute-form no path", "OPTIONS https://[2001:db8::1]:8443?x HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n"},
		{"authority-form", "CONNECT [::ffff:192.0.2.1]:443 HTTP/1.1\r\nHost: [::ffff:192.0.2.1]:443\r\n\r\n"},
		{"asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: ex%41mple.com.:80\r\n\r\n"},
		{"IPvFuture Host", "GET / HTTP/1.1\r\nHost: [v1.fe80::a+en1]\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			buf := []byte(c.req)
			var p Parser
			p.Init(Limits{})
			allocs := testing.AllocsPerRun(100, func() {
				p.Reset()
				if _, err := p.ParseHead(buf); err != nil {
					t.Fatal(err)
				}
				_ = p.Header("user-agent")
				_, _ = p.Path(), p.RawQuery()
				_, _ = p.KeepAlive(), p.ContentLength()
				_, _, _ = p.Form().String(), p.TargetAuthority(), p.EffectiveHost()
			})
			if allocs != 0 {
				t.Errorf("ParseHead(%s) allocates %v times; want 0", c.name, allocs)
			}
		})
	}
}

// TestParseHeadByteAtATimeAlloc feeds a head one byte per call.
func TestParseHeadByteAtATimeAlloc(t *testing.T) {
	buf := []byte(testreqs.Hdr219)
	var p Parser
	p.Init(Limits{})
	allocs := testing.AllocsPerRun(20, func() {
		p.Reset()
		for i := 1; i <= len(buf); i++ {
			if _, err := p.ParseHead(buf[:i]); err != ErrNeedMore && err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("byte-at-a-time ParseHead allocates %v times; want 0", allocs)
	}
}

// TestParseHeadErrorAlloc checks that rejections allocate nothing either,
// including 10 000 tiny fields that trip MaxHeaders: the state is fixed.
func TestParseHeadErrorAlloc(t *testing.T) {
	for _, in := range []string{
		"GET / HTTP/1.1\r\n" + strings.Repeat("a:b\r\n", 10000) + "\r\n",
		"GE(T / HTTP/1.1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n",
		"GET / HTTP/2.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: [::1::]:80\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"CONNECT /a HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://user@host/ HTTP/1.1\r\n\r\n",
		"GET ftp://host/ HTTP/1.1\r\n\r\n",
	} {
		buf := []byte(in)
		var p Parser
		p.Init(Limits{})
		allocs := testing.AllocsPerRun(20, func() {
			p.Reset()
			if _, err := p.ParseHead(buf); err == nil {
				t.Fatalf("ParseHead(%q) succeeded", in[:20])
			}
		})
		if allocs != 0 {
			t.Errorf("ParseHead(%q...) allocates %v times; want 0", in[:20], allocs)
		}
	}
	// MaxHeadersCap field slots of 8 bytes, the state, the Host memo.
	if size := unsafe.Sizeof(Parser{}); size > 2320 {
		t.Errorf("unsafe.Sizeof(Parser{}) = %d; want <= 2320", size)
	}
}

func TestChunkedDecodeAlloc(t *testing.T) {
	src := []byte(testreqs.ChunkedPost[len(testreqs.ChunkedPostHead):] + "0;a=\"b c\"\r\nX: 1\r\n\r\n")
	work := make([]byte, len(src))
	var d ChunkedDecoder
	allocs := testing.AllocsPerRun(100, func() {
		d.Init(Limits{})
		copy(work, src)
		if _, _, err := d.Decode(work, work); err != nil || !d.Done() {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %v times; want 0", allocs)
	}
}
