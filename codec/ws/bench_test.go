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
	}{{"ascii", ascii}, {"mixed", mixed}} {
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
