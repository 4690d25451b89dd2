package ws

import (
	"strings"
	"testing"
)

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 128, 1024, 4096, 65536} {
		buf := make([]byte, size)
		b.Run(itoa(uint64(size)), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				Mask([4]byte{0x37, 0xfa, 0x21, 0x3d}, 1, buf)
			}
		})
	}
}

func BenchmarkParseHeader(b *testing.B) {
	frame := AppendMaskedFrame(nil, OpText, true, 0, [4]byte{1, 2, 3, 4}, make([]byte, 300))
	var p FrameParser
	p.Config.RequireMask = true
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.ParseHeader(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUTF8(b *testing.B) {
	ascii := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 92)[:4096])
	mixed := []byte(strings.Repeat("Grüße, κόσμε, 世界! 😀 plain ascii text. ", 100)[:4096])
	for !ValidUTF8(mixed) {
		mixed = mixed[:len(mixed)-1]
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"ascii", ascii}, {"mixed", mixed}, {"ascii64", ascii[:64]}, {"ascii13", ascii[:13]}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.in)))
			b.ReportAllocs()
			var v UTF8Validator
			for b.Loop() {
				v.Reset()
				if !v.Write(tc.in) {
					b.Fatal("invalid")
				}
			}
		})
	}
}

func benchText(n int) []byte {
	words := strings.Fields("the server answers each client message with a short JSON status update " +
		"{\"id\":42,\"type\":\"chat\",\"text\":\"hello there\",\"ts\":1700000000} and keeps the session alive")
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = append(b, words[(i*7)%len(words)]...)
		b = append(b, ' ')
	}
	return b[:n]
}

// BenchmarkDeflate compresses and inflates a 1 KiB text message with pooled
// flate state, without and with context takeover (the latter primes the
// writer with the 32 KiB dictionary on every message).
func BenchmarkDeflate(b *testing.B) {
	msg := benchText(1024)
	for _, takeover := range []bool{false, true} {
		name := "no-takeover"
		if takeover {
			name = "takeover"
		}
		b.Run("compress/"+name, func(b *testing.B) {
			var c Compressor
			if err := c.Init(15, takeover, 1); err != nil {
				b.Fatal(err)
			}
			defer c.Release()
			// Fill the dictionary as a long-lived connection would.
			for i := 0; i < 40; i++ {
				c.Compress(nil, benchText(1024+i))
			}
			dst := make([]byte, 0, 2048)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Compress(dst[:0], msg); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("decompress/"+name, func(b *testing.B) {
			var c Compressor
			var d Decompressor
			c.Init(15, false, 1)
			d.Init(15, takeover)
			defer d.Release()
			z, _ := c.Compress(nil, msg)
			dst := make([]byte, 0, 2048)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decompress(dst[:0], z, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAcceptKey(b *testing.B) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = AcceptKey(dst[:0], key)
	}
}
