package ascii

import (
	"strings"
	"testing"
)

func TestTchar(t *testing.T) {
	const tokens = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for c := 0; c < 256; c++ {
		if got, want := IsTchar(byte(c)), strings.IndexByte(tokens, byte(c)) >= 0; got != want {
			t.Errorf("IsTchar(%#x) = %v; want %v", c, got, want)
		}
	}
	for s, want := range map[string]bool{"GET": true, "M-SEARCH": true, "": false, "GE T": false, "a(b": false, "x\x80": false} {
		if got := IsTokenString(s); got != want {
			t.Errorf("IsTokenString(%q) = %v; want %v", s, got, want)
		}
	}
}

func TestEqualFold(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"Content-Length", "content-length", true},
		{"HOST", "host", true},
		{"host", "hosts", false},
		{"[", "{", false}, // 0x5b and 0x7b differ only in bit 0x20 but are not letters
		{"@", "`", false},
		{"\xe9", "\xc9", false},
		{"", "", true},
	}
	for _, c := range cases {
		if got := EqualFold([]byte(c.a), c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
		if got := EqualFoldString(c.a, c.b); got != c.want {
			t.Errorf("EqualFoldString(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
	// Every byte pair against strings.EqualFold restricted to ASCII.
	for x := 0; x < 128; x++ {
		for y := 0; y < 128; y++ {
			a, b := string(rune(x)), string(rune(y))
			if got, want := EqualFoldString(a, b), strings.EqualFold(a, b); got != want {
				t.Fatalf("EqualFoldString(%q, %q) = %v; want %v", a, b, got, want)
			}
		}
	}
}

func TestTrimOWS(t *testing.T) {
	for in, want := range map[string]string{" \ta b\t ": "a b", "": "", " \t": "", "x": "x", "\r x": "\r x"} {
		if got := string(TrimOWS([]byte(in))); got != want {
			t.Errorf("TrimOWS(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestAllocFree(t *testing.T) {
	b := []byte(" Content-Length ")
	if n := testing.AllocsPerRun(100, func() {
		_ = EqualFold(TrimOWS(b), "content-length") && IsToken(b[1:15]) && IsTokenString("GET")
	}); n != 0 {
		t.Errorf("%v allocs; want 0", n)
	}
}
