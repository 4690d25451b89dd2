package http

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"net/url"
	"strings"
	"testing"
)

func TestQueryValue(t *testing.T) {
	tests := []struct {
		query, key string
		want       string
		ok         bool
	}{
		// The shape esp_http_server documents: "param1=val1&param2=val2".
		{"param1=val1&param2=val2", "param1", "val1", true},
		{"param1=val1&param2=val2", "param2", "val2", true},
		{"param1=val1&param2=val2", "param3", "", false},
		// The keys the ESP simple example's /hello handler looks up.
		{"query1=value1&query3=value3&query2=value2", "query3", "value3", true},
		{"", "a", "", false},
		{"", "", "", false},
		// Whole-key match: a key that is a prefix of another is not a match.
		{"ab=1&a=2", "a", "2", true},
		{"a=1&ab=2", "ab", "2", true},
		{"abc=1", "ab", "", false},
		{"ab=1", "abc", "", false},
		// First match wins.
		{"a=1&a=2", "a", "1", true},
		// Missing and empty values.
		{"a=", "a", "", true},
		{"a", "a", "", true},
		{"flag&b=2", "flag", "", true},
		{"flag&b=2", "b", "2", true},
		{"a=1&flag", "flag", "", true},
		// Empty key.
		{"=v", "", "v", true},
		{"=v", "v", "", false},
		{"a=1&=v", "", "v", true},
		// Separators.
		{"a=1&", "a", "1", true},
		{"a=1&", "", "", false},
		{"&", "", "", false},
		{"&&a=1&&", "a", "1", true},
		{"a=1;b=2", "b", "", false},
		{"a=1;b=2", "a", "1;b=2", true},
		{"a=b=c", "a", "b=c", true},
		// ASCII case folding on the key, as ESP's strncasecmp.
		{"Key=1", "key", "1", true},
		{"key=1", "KEY", "1", true},
		{"k\xc3\x89y=1", "k\xc3\xa9y", "", false},
		// No decoding of keys or values.
		{"k%65y=1", "key", "", false},
		{"k%65y=1", "k%65y", "1", true},
		{"a=%20+x", "a", "%20+x", true},
		{"a+b=1", "a b", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q_%q", tt.query, tt.key), func(t *testing.T) {
			got, ok := QueryValue([]byte(tt.query), tt.key)
			if string(got) != tt.want || ok != tt.ok {
				t.Errorf("QueryValue(%q, %q) = %q, %v; want %q, %v", tt.query, tt.key, got, ok, tt.want, tt.ok)
			}
			if !ok && got != nil {
				t.Errorf("QueryValue(%q, %q) = %q, false; want nil value", tt.query, tt.key, got)
			}
		})
	}
}

// TestQueryValueClipped checks that appending to a returned value cannot
// overwrite the rest of the query.
func TestQueryValueClipped(t *testing.T) {
	q := []byte("a=1&b=2")
	v, _ := QueryValue(q, "a")
	_ = append(v, "XXXX"...)
	if string(q) != "a=1&b=2" {
		t.Errorf("append to QueryValue result changed the query to %q", q)
	}
	q = []byte("flag&b=2")
	v, _ = QueryValue(q, "flag")
	_ = append(v, "XXXX"...)
	if string(q) != "flag&b=2" {
		t.Errorf("append to an empty QueryValue result changed the query to %q", q)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in   string
		plus bool
		want string
		err  error
	}{
		{"", false, "", nil},
		{"abc", false, "abc", nil},
		{"%41", false, "A", nil},
		{"%4a%4A", false, "JJ", nil},
		{"%00", false, "\x00", nil},
		{"%ff%FF%fF", false, "\xff\xff\xff", nil},
		{"%2F..%2f", false, "/../", nil},
		{"a%20b", false, "a b", nil},
		{"a+b", true, "a b", nil},
		{"a+b", false, "a+b", nil},
		{"%2B+", true, "+ ", nil},
		{"%2B+", false, "++", nil},
		{"%25", false, "%", nil},
		{"%2541", false, "%41", nil},
		{"caf%C3%A9", false, "caf\xc3\xa9", nil},
		{"\xff\x00", false, "\xff\x00", nil},
		// Malformed escapes.
		{"%", false, "", ErrBadEscape},
		{"%4", false, "", ErrBadEscape},
		{"abc%", false, "", ErrBadEscape},
		{"abc%4", true, "", ErrBadEscape},
		{"%zz", false, "", ErrBadEscape},
		{"%4g", false, "", ErrBadEscape},
		{"%g4", false, "", ErrBadEscape},
		{"%%41", false, "", ErrBadEscape},
		{"% 41", false, "", ErrBadEscape},
		{"%-1", false, "", ErrBadEscape},
		{"%+1", true, "", ErrBadEscape},
		{"%0x", false, "", ErrBadEscape},
		{"ok%41then%", false, "", ErrBadEscape},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q_%v", tt.in, tt.plus), func(t *testing.T) {
			dst := rspTFilled("pre", 64)
			got, err := Unescape(dst, []byte(tt.in), tt.plus)
			want := "pre" + tt.want
			if tt.err != nil {
				want = "pre"
			}
			if string(got) != want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Unescape(%q, %v) = %q, %v; want %q, %v", tt.in, tt.plus, got, err, want, tt.err)
			}
			if tt.err != nil && strings.Trim(string(dst[3:64]), "#") != "" {
				t.Errorf("Unescape(%q, %v) wrote %q past len(dst) on error", tt.in, tt.plus, dst[3:64])
			}
		})
	}
}

// TestUnescapeAllPairs checks every byte pair after '%': valid exactly when
// both are hex digits, decoding to their value.
func TestUnescapeAllPairs(t *testing.T) {
	hex := func(c byte) (int, bool) {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0'), true
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10, true
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10, true
		}
		return 0, false
	}
	src := []byte("%..")
	for hi := 0; hi < 256; hi++ {
		for lo := 0; lo < 256; lo++ {
			src[1], src[2] = byte(hi), byte(lo)
			got, err := Unescape(nil, src, false)
			h, okh := hex(byte(hi))
			l, okl := hex(byte(lo))
			if okh && okl {
				if err != nil || len(got) != 1 || got[0] != byte(h<<4|l) {
					t.Fatalf("Unescape(%q) = %q, %v; want %q, nil", src, got, err, []byte{byte(h<<4 | l)})
				}
			} else if !errors.Is(err, ErrBadEscape) || len(got) != 0 {
				t.Fatalf("Unescape(%q) = %q, %v; want \"\", %v", src, got, err, ErrBadEscape)
			}
		}
	}
}

// TestUnescapeRoundTrip decodes what net/url encodes.
func TestUnescapeRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := range 2000 {
		raw := make([]byte, rng.Intn(64))
		rng.Read(raw)
		if i%2 == 0 { // mostly printable, to exercise '+', ' ' and '%'
			for j := range raw {
				raw[j] = " +%&=?/azAZ09~"[int(raw[j])%14]
			}
		}
		s := string(raw)
		if got, err := Unescape(nil, []byte(url.QueryEscape(s)), true); err != nil || string(got) != s {
			t.Fatalf("Unescape(QueryEscape(%q), true) = %q, %v; want the input", s, got, err)
		}
		if got, err := Unescape(nil, []byte(url.PathEscape(s)), false); err != nil || string(got) != s {
			t.Fatalf("Unescape(PathEscape(%q), false) = %q, %v; want the input", s, got, err)
		}
	}
}

// rspTUnescapeOracle is net/url's decoder, which applies the same rules:
// QueryUnescape maps '+' to a space, PathUnescape does not, both refuse a '%'
// without two hex digits.
func rspTUnescapeOracle(s string, plus bool) (string, error) {
	if plus {
		return url.QueryUnescape(s)
	}
	return url.PathUnescape(s)
}

// rspTCheckUnescape compares Unescape with net/url and with its own
// in-place form.
func rspTCheckUnescape(t *testing.T, src []byte, plus bool) {
	t.Helper()
	got, err := Unescape([]byte("pre"), src, plus)
	want, wantErr := rspTUnescapeOracle(string(src), plus)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Unescape(%q, %v) error = %v; net/url error = %v", src, plus, err, wantErr)
	}
	if err != nil {
		if !errors.Is(err, ErrBadEscape) || string(got) != "pre" {
			t.Fatalf("Unescape(%q, %v) = %q, %v; want \"pre\", %v", src, plus, got, err, ErrBadEscape)
		}
		return
	}
	if string(got) != "pre"+want {
		t.Fatalf("Unescape(%q, %v) = %q; want %q", src, plus, got[3:], want)
	}
	inPlace := bytes.Clone(src)
	got, err = Unescape(inPlace[:0], inPlace, plus)
	if err != nil || string(got) != want {
		t.Fatalf("in-place Unescape(%q, %v) = %q, %v; want %q", src, plus, got, err, want)
	}
}

func TestUnescapeAgainstNetURL(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const alphabet = "%+ aF9gz\x00\xff"
	for range 20000 {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		rspTCheckUnescape(t, b, rng.Intn(2) == 0)
	}
}

func FuzzUnescape(f *testing.F) {
	for _, s := range []string{"", "a+b", "%41%4a", "%zz", "abc%", "%%", "caf%C3%A9+x", "%2B%2b"} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, src []byte, plus bool) {
		rspTCheckUnescape(t, src, plus)
		if got, err := Unescape(nil, src, plus); err == nil && len(got) > len(src) {
			t.Fatalf("Unescape(%q) grew to %d bytes", src, len(got))
		}
	})
}

// rspTQueryOracle is a plain restatement of QueryValue's rules.
func rspTQueryOracle(query, key string) (string, bool) {
	lower := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		return string(b)
	}
	for _, pair := range strings.Split(query, "&") {
		if pair == "" {
			continue
		}
		name, val, _ := strings.Cut(pair, "=")
		if lower(name) == lower(key) {
			return val, true
		}
	}
	return "", false
}

func FuzzQueryValue(f *testing.F) {
	f.Add([]byte("param1=val1&param2=val2"), "param2")
	f.Add([]byte("ab=1&a=2"), "a")
	f.Add([]byte("a=1&a=2"), "A")
	f.Add([]byte("=v&"), "")
	f.Add([]byte("flag&&b=="), "flag")
	f.Fuzz(func(t *testing.T, query []byte, key string) {
		orig := bytes.Clone(query)
		got, ok := QueryValue(query, key)
		want, wantOK := rspTQueryOracle(string(query), key)
		if ok != wantOK || string(got) != want {
			t.Fatalf("QueryValue(%q, %q) = %q, %v; want %q, %v", query, key, got, ok, want, wantOK)
		}
		if !bytes.Equal(query, orig) {
			t.Fatalf("QueryValue changed its input")
		}
		if ok && cap(got) != len(got) {
			t.Fatalf("QueryValue(%q, %q) value capacity %d; want %d", query, key, cap(got), len(got))
		}
	})
}
