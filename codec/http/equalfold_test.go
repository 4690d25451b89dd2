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
