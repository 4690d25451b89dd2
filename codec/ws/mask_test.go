package ws

import (
	"bytes"
	"math/rand"
	"testing"
)

func maskNaive(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

func TestMask(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for n := 0; n <= 300; n++ {
		for pos := 0; pos < 8; pos++ {
			var key [4]byte
			r.Read(key[:])
			in := make([]byte, n)
			r.Read(in)
			want := append([]byte(nil), in...)
			maskNaive(key, pos, want)
			got := append([]byte(nil), in...)
			if end := Mask(key, pos, got); end != pos+n {
				t.Fatalf("Mask(len %d, pos %d) returned %d; want %d", n, pos, end, pos+n)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Mask(%x, %d, %x) = %x; want %x", key, pos, in, got, want)
			}
			// In pieces: the returned position carries over.
			got = append(got[:0], in...)
			p := pos
			for rest := got; len(rest) > 0; {
				c := 1 + r.Intn(40)
				if c > len(rest) {
					c = len(rest)
				}
				p = Mask(key, p, rest[:c])
				rest = rest[c:]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Mask in pieces (len %d, pos %d) = %x; want %x", n, pos, got, want)
			}
			// Unaligned start within a larger buffer.
			buf := make([]byte, n+3)
			copy(buf[3:], in)
			Mask(key, pos, buf[3:])
			if !bytes.Equal(buf[3:], want) {
				t.Fatalf("Mask unaligned (len %d, pos %d) = %x; want %x", n, pos, buf[3:], want)
			}
		}
	}
}

func TestMaskGeneric(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for n := 0; n <= 512; n += 64 {
		in := make([]byte, n)
		r.Read(in)
		a := append([]byte(nil), in...)
		b := append([]byte(nil), in...)
		const k64 = 0x0123456789abcdef
		maskGeneric(k64, a)
		maskBlocks(k64, b)
		if !bytes.Equal(a, b) {
			t.Fatalf("maskGeneric(len %d) = %x; maskBlocks = %x", n, a, b)
		}
		maskGeneric(k64, a)
		if !bytes.Equal(a, in) {
			t.Fatalf("maskGeneric twice (len %d) did not restore the input", n)
		}
	}
}
