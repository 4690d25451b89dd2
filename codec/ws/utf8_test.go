package ws

import (
	"math/rand"
	"strings"
	"testing"
	"unicode/utf8"
)

// extendable reports whether some continuation makes prefix valid UTF-8: the
// oracle for fail-fast behaviour. A pending sequence needs at most 3 more
// bytes and every allowed second-byte range contains 0x80, 0x90 or 0xA0.
func extendable(prefix []byte) bool {
	if utf8.Valid(prefix) {
		return true
	}
	for more := 1; more <= 3; more++ {
		for _, first := range []byte{0x80, 0x90, 0xA0} {
			q := append([]byte(nil), prefix...)
			q = append(q, first)
			for k := 1; k < more; k++ {
				q = append(q, 0x80)
			}
			if utf8.Valid(q) {
				return true
			}
		}
	}
	return false
}

// failIndex returns the index of the first byte after which p cannot become
// valid, or -1.
func failIndex(p []byte) int {
	for i := range p {
		if !extendable(p[:i+1]) {
			return i
		}
	}
	return -1
}

func checkUTF8(t *testing.T, in []byte) {
	t.Helper()
	want := utf8.Valid(in)
	var v UTF8Validator
	if got := v.Write(in) && v.Done(); got != want {
		t.Fatalf("Write(%q) && Done() = %v; want %v", in, got, want)
	}
	if got := ValidUTF8(in); got != want {
		t.Fatalf("ValidUTF8(%q) = %v; want %v", in, got, want)
	}
	for i := 0; i <= len(in); i++ {
		v.Reset()
		ok := v.Write(in[:i])
		ok = v.Write(in[i:]) && ok
		if got := ok && v.Done(); got != want {
			t.Fatalf("split at %d: Write(%q) && Done() = %v; want %v", i, in, got, want)
		}
	}
	// Byte by byte: Write must fail exactly at the first impossible byte.
	v.Reset()
	wantFail := failIndex(in)
	gotFail := -1
	for i := range in {
		if !v.Write(in[i : i+1]) {
			gotFail = i
			break
		}
	}
	if gotFail != wantFail {
		t.Fatalf("byte by byte: Write(%q) failed at %d; want %d", in, gotFail, wantFail)
	}
}

func TestUTF8Crafted(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		failAt int // -1: never fails (may still be incomplete)
	}{
		{"empty", "", -1},
		{"ascii", "Hello, world! 0123456789abcdef", -1},
		{"2-byte", "é", -1},
		{"3-byte", "€", -1},
		{"4-byte", "😀", -1},
		{"mixed", "κόσμε a€b😀c", -1},
		{"max", "\xf4\x8f\xbf\xbf", -1},
		{"U+FFFF", "\xef\xbf\xbf", -1},
		{"lowest 4-byte", "\xf0\x90\x80\x80", -1},
		{"C0 overlong lead", "\xc0\xaf", 0},
		{"C1 lead", "\xc1\xbf", 0},
		{"F5 lead", "\xf5\x80\x80\x80", 0},
		{"FF", "ab\xff", 2},
		{"lone continuation", "a\x80", 1},
		{"surrogate ED A0", "\xed\xa0\x80", 1},
		{"surrogate ED BF", "\xed\xbf\xbf", 1},
		{"ED 9F ok", "\xed\x9f\xbf", -1},
		{"E0 overlong", "\xe0\x80\xaf", 1},
		{"E0 9F overlong", "\xe0\x9f\xbf", 1},
		{"F0 overlong", "\xf0\x8f\xbf\xbf", 1},
		{"F4 above max", "\xf4\x90\x80\x80", 1},
		{"truncated then ascii", "\xe2\x82a", 2},
		{"truncated 4 then ascii", "\xf0\x9f\x98x", 3},
		{"incomplete at end", "abc\xe2\x82", -1},
		{"fail after ascii run", "0123456789abcdef0123456789\xc0", 26},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkUTF8(t, []byte(tc.in))
			if got := failIndex([]byte(tc.in)); got != tc.failAt {
				t.Fatalf("oracle fail index of %q = %d; want %d", tc.in, got, tc.failAt)
			}
		})
	}
	t.Run("sticky", func(t *testing.T) {
		var v UTF8Validator
		if v.Write([]byte{0xc0}) {
			t.Fatal("Write(0xc0) = true; want false")
		}
		if v.Write([]byte("ok")) || v.Done() {
			t.Fatal("validator recovered after an error; want sticky failure")
		}
	})
	t.Run("every code point", func(t *testing.T) {
		var v UTF8Validator
		var buf [4]byte
		for r := rune(0); r <= utf8.MaxRune; r++ {
			if r >= 0xD800 && r <= 0xDFFF {
				continue
			}
			n := utf8.EncodeRune(buf[:], r)
			if !v.Write(buf[:n]) {
				t.Fatalf("Write(U+%04X) = false; want true", r)
			}
		}
		if !v.Done() {
			t.Fatal("Done() = false after whole code points")
		}
	})
	t.Run("every 2-byte and 3-byte prefix", func(t *testing.T) {
		for a := 0; a < 256; a++ {
			for b := 0; b < 256; b++ {
				in := []byte{byte(a), byte(b)}
				var v UTF8Validator
				got := v.Write(in) && v.Done()
				if want := utf8.Valid(in); got != want {
					t.Fatalf("Write(%q) && Done() = %v; want %v", in, got, want)
				}
				if ok := v.Write(nil); ok != (failIndex(in) < 0) {
					t.Fatalf("Write(%q) ok = %v; want %v", in, ok, failIndex(in) < 0)
				}
			}
		}
	})
}

func TestUTF8Random(t *testing.T) {
	r := rand.New(rand.NewSource(3629))
	pieces := []string{"a", "z", "é", "€", "😀", "\x80", "\xbf", "\xc2", "\xe0", "\xed", "\xf0", "\xf4", "\xf5", "\xff", "\xc0", "\xa0", "\x90", "\x8f", strings.Repeat("x", 9)}
	for i := 0; i < 3000; i++ {
		var b []byte
		n := r.Intn(24)
		for j := 0; j < n; j++ {
			if r.Intn(3) == 0 {
				b = append(b, byte(r.Intn(256)))
			} else {
				b = append(b, pieces[r.Intn(len(pieces))]...)
			}
		}
		checkUTF8(t, b)
	}
}

// TestUTF8ASCIITail: a word-sized input that ends in 1 to 7 ASCII bytes
// after a code point, a partial one or an invalid byte (the tail is
// checked as the word ending at the end of the input, which reads some
// bytes before it again).
func TestUTF8ASCIITail(t *testing.T) {
	heads := []string{"", "abcdefg", "é", "€", "😀", "\xe2\x82", "\xf0\x9f\x98", "\xc3", "\xff", "\xed\xa0\x80", "abcdefgé", "abcdefg\xc3"}
	for _, h := range heads {
		for n := 1; n <= 7; n++ {
			for pad := 0; pad <= 9; pad++ {
				checkUTF8(t, []byte(strings.Repeat("p", pad)+h+"tail123"[:n]))
				checkUTF8(t, []byte(h+strings.Repeat("p", pad)+"tail123"[:n]))
			}
		}
	}
}

// TestUTF8Exhaustive compares the validator with unicode/utf8 on every
// two-byte string and on every three-byte string that starts a multi-byte
// sequence, each written whole, cut after its first byte, and behind
// eight ASCII bytes (the word-at-a-time path).
func TestUTF8Exhaustive(t *testing.T) {
	check := func(b []byte) {
		want := utf8.Valid(b)
		var v UTF8Validator
		if got := v.Write(b) && v.Done(); got != want {
			t.Fatalf("% x whole: %v; want %v", b, got, want)
		}
		v.Reset()
		if got := v.Write(b[:1]) && v.Write(b[1:]) && v.Done(); got != want {
			t.Fatalf("% x split: %v; want %v", b, got, want)
		}
		long := append([]byte("abcdefgh"), b...)
		if got := ValidUTF8(long); got != want {
			t.Fatalf("% x after ASCII: %v; want %v", b, got, want)
		}
	}
	b := make([]byte, 3)
	for i := 0; i < 1<<16; i++ {
		b[0], b[1] = byte(i), byte(i>>8)
		check(b[:2])
	}
	for i := 0; i < 1<<16; i++ {
		b[1], b[2] = byte(i), byte(i>>8)
		for c := 0xC0; c <= 0xFF; c++ {
			b[0] = byte(c)
			check(b)
		}
	}
}
