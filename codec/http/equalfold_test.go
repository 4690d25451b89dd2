package http

import "testing"

func TestEqualFold(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Content-Length", "content-length", true},
		{"CONTENT-LENGTH", "Content-Length", true},
		{"Content-Lengt", "Content-Length", false},
		{"Content_Length", "Content-Length", false},
		{"@", "`", false}, // 0x40 and 0x60 differ only in the case bit but are not letters
		{"caf\xc3\xa9", "CAF\xc3\x89", false},
		{"", "", true},
	}
	for _, tt := range tests {
		if got := EqualFold([]byte(tt.a), tt.b); got != tt.want {
			t.Errorf("EqualFold(%q, %q) = %v; want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestFoldEq compares the word-at-a-time foldEq with a byte loop for every
// lower-case name and value the parser looks for, each byte of it in both
// cases and replaced by every other byte.
func TestFoldEq(t *testing.T) {
	ref := func(b []byte, lower string) bool {
		if len(b) != len(lower) {
			return false
		}
		for i := range b {
			if b[i]|0x20 != lower[i] {
				return false
			}
		}
		return true
	}
	for _, lower := range []string{"te", "host", "close", "expect", "upgrade", "chunked", "keep-alive",
		"connection", "100-continue", "content-length", "transfer-encoding", "http", "https", "abcdefgh", "abcdefghijklmnop"} {
		b := []byte(lower)
		for i := range b {
			orig := b[i]
			for c := 0; c < 256; c++ {
				b[i] = byte(c)
				if got, want := foldEq(b, lower), ref(b, lower); got != want {
					t.Fatalf("foldEq(%q, %q) = %v; want %v", b, lower, got, want)
				}
			}
			b[i] = orig
		}
		if foldEq(b[:len(b)-1], lower) || foldEq(append(b, 'x'), lower) {
			t.Errorf("foldEq matched %q with a different length", lower)
		}
	}
}

// TestHostCache: the parser remembers the last valid Host value of a
// connection; a different value of the same length (8 to 16 bytes, where
// the cache compares words, and others) is validated again.
func TestHostCache(t *testing.T) {
	var p Parser
	p.Init(Limits{})
	for _, tt := range []struct{ first, second string }{
		{"localhost:8080", "localhost:80<0"},
		{"localhost:8080", "<ocalhost:8080"},
		{"abcdefgh", "abcdefg<"},
		{"abcdefghijklmnop", "abcdefgh<ijklmno"},
		{"abc", "ab<"},
		{"abcdefghijklmnopq", "abcdefghijklmnop<"},
	} {
		for i, host := range []string{tt.first, tt.second, tt.first} {
			p.Reset()
			_, err := p.ParseHead([]byte("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n"))
			if wantErr := i == 1; (err != nil) != wantErr {
				t.Errorf("Host %q after %q: err %v; want error %v", host, tt.first, err, wantErr)
			}
		}
	}
}
