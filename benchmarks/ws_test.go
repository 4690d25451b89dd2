package benchmarks

import (
	"bytes"
	"strconv"
	"testing"

	gobwas "github.com/gobwas/ws"

	"github.com/evhttpd/httpd/codec/ws"
)

// maskSizes are the payload sizes of the masking comparison: a short chat
// message, a small JSON, the benchmark's 1 KiB echo, a page, a large frame.
var maskSizes = []int{16, 128, 1024, 4096, 65536}

var maskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// TestMaskMatchesGobwas checks that evhttpd's Mask and gobwas/ws's Cipher
// agree at every size of the comparison and at every key phase, so that
// the benchmark compares equal work.
func TestMaskMatchesGobwas(t *testing.T) {
	for _, size := range append([]int{0, 1, 3, 7, 9, 63, 65}, maskSizes...) {
		for pos := range 4 {
			t.Run(strconv.Itoa(size)+"/"+strconv.Itoa(pos), func(t *testing.T) {
				in := make([]byte, size)
				for i := range in {
					in[i] = byte(i*31 + 7)
				}
				got := bytes.Clone(in)
				want := bytes.Clone(in)
				if end := ws.Mask(maskKey, pos, got); end != pos+size {
					t.Errorf("Mask(%d bytes, pos %d) = %d; want %d", size, pos, end, pos+size)
				}
				gobwas.Cipher(want, maskKey, pos)
				if !bytes.Equal(got, want) {
					t.Errorf("Mask(%d bytes, pos %d) differs from gobwas Cipher", size, pos)
				}
			})
		}
	}
}

// BenchmarkWSMask masks in place with evhttpd's codec/ws.Mask and with
// gobwas/ws's Cipher, at the sizes of maskSizes, odd key phase (pos 1) for
// both.
func BenchmarkWSMask(b *testing.B) {
	for _, size := range maskSizes {
		buf := make([]byte, size)
		b.Run("evhttpd/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				ws.Mask(maskKey, 1, buf)
			}
		})
		b.Run("gobwas/"+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				gobwas.Cipher(buf, maskKey, 1)
			}
		})
	}
}

// BenchmarkWSFrameHeader parses one masked 300-byte text frame header with
// evhttpd's FrameParser and with gobwas/ws's ReadHeader (from a reader, its
// only form).
func BenchmarkWSFrameHeader(b *testing.B) {
	frame := ws.AppendMaskedFrame(nil, ws.OpText, true, 0, maskKey, make([]byte, 300))
	b.Run("evhttpd", func(b *testing.B) {
		var p ws.FrameParser
		p.Config.RequireMask = true
		b.ReportAllocs()
		for b.Loop() {
			p.Reset()
			if _, _, err := p.ParseHeader(frame); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobwas", func(b *testing.B) {
		r := bytes.NewReader(frame)
		b.ReportAllocs()
		for b.Loop() {
			r.Reset(frame)
			if _, err := gobwas.ReadHeader(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
