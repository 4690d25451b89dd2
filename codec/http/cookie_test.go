package http

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestCookieValue(t *testing.T) {
	tests := []struct {
		header, name string
		want         string
		ok           bool
	}{
		// The shape esp_http_server documents: "cookie1=val1; cookie2=val2".
		{"cookie1=val1; cookie2=val2", "cookie1", "val1", true},
		{"cookie1=val1; cookie2=val2", "cookie2", "val2", true},
		{"cookie1=val1; cookie2=val2", "cookie3", "", false},
		{"", "a", "", false},
		{"", "", "", false},
		{"a=b", "a", "b", true},
		// OWS around ';' in any amount, and none (ESP needs the space).
		{"a=b;c=d", "c", "d", true},
		{"a=b ;  c=d", "a", "b", true},
		{"a=b ;  c=d", "c", "d", true},
		{"a=b;\tc=d\t", "c", "d", true},
		{"  a=b  ", "a", "b", true},
		// Whole-name match, first match wins.
		{"ab=1; a=2", "a", "2", true},
		{"a=1; ab=2", "ab", "2", true},
		{"a=1; a=2", "a", "1", true},
		// Empty values and pairs without '='.
		{"a=", "a", "", true},
		{"a=; b=2", "a", "", true},
		{"flag; b=2", "b", "2", true},
		{"flag; b=2", "flag", "", false},
		{";;a=1;;", "a", "1", true},
		{"=v", "", "v", true},
		{"a=b=c", "a", "b=c", true},
		// ASCII case folding on the name, as ESP's strncasecmp.
		{"SID=x", "sid", "x", true},
		// Values are raw: quotes kept, nothing decoded, inner spaces kept.
		{`a="q s"; b=2`, "a", `"q s"`, true},
		{"a=%20", "a", "%20", true},
		{"a=x y", "a", "x y", true},
		// Whitespace around '=' belongs to the name or the value.
		{"a =b", "a", "", false},
		{"a= b", "a", " b", true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q_%q", tt.header, tt.name), func(t *testing.T) {
			got, ok := CookieValue([]byte(tt.header), tt.name)
			if string(got) != tt.want || ok != tt.ok {
				t.Errorf("CookieValue(%q, %q) = %q, %v; want %q, %v", tt.header, tt.name, got, ok, tt.want, tt.ok)
			}
			if !ok && got != nil {
				t.Errorf("CookieValue(%q, %q) = %q, false; want nil value", tt.header, tt.name, got)
			}
		})
	}
}

func TestCookieValueClipped(t *testing.T) {
	h := []byte("a=1; b=2")
	v, _ := CookieValue(h, "a")
	_ = append(v, "XXXX"...)
	if string(h) != "a=1; b=2" {
		t.Errorf("append to CookieValue result changed the header to %q", h)
	}
}

// rspTCookieOracle is a plain restatement of CookieValue's rules.
func rspTCookieOracle(header, name string) (string, bool) {
	for _, pair := range strings.Split(header, ";") {
		pair = strings.Trim(pair, " \t")
		n, v, found := strings.Cut(pair, "=")
		if found && oracleLower(n) == oracleLower(name) {
			return v, true
		}
	}
	return "", false
}

func FuzzCookieValue(f *testing.F) {
	f.Add([]byte("cookie1=val1; cookie2=val2"), "cookie2")
	f.Add([]byte("a=b;c=d"), "C")
	f.Add([]byte(" ;\t=v ;"), "")
	f.Add([]byte(`a="q s"; a=2`), "a")
	f.Fuzz(func(t *testing.T, header []byte, name string) {
		orig := bytes.Clone(header)
		got, ok := CookieValue(header, name)
		want, wantOK := rspTCookieOracle(string(header), name)
		if ok != wantOK || string(got) != want {
			t.Fatalf("CookieValue(%q, %q) = %q, %v; want %q, %v", header, name, got, ok, want, wantOK)
		}
		if !bytes.Equal(header, orig) {
			t.Fatalf("CookieValue changed its input")
		}
		if ok && cap(got) != len(got) {
			t.Fatalf("CookieValue(%q, %q) value capacity %d; want %d", header, name, cap(got), len(got))
		}
	})
}

// oracleLower maps A-Z to a-z and leaves every other byte alone.
func oracleLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
