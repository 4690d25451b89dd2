// Package ascii holds the byte classes and comparisons of HTTP's ASCII
// grammar that both codecs and the server use: token characters
// (RFC 9110 §5.6.2), optional white space (RFC 9110 §5.6.3) and
// case-insensitive comparison of ASCII names (field names, tokens, methods
// where the grammar allows it). Nothing here allocates.
package ascii

import "unsafe"

// tchar marks the token characters: "!#$%&'*+-.^_`|~", digits and letters.
var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// IsTchar reports whether c is a token character (RFC 9110 §5.6.2).
func IsTchar(c byte) bool { return tchar[c] }

// IsToken reports whether b is a token: one or more token characters.
func IsToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tchar[c] {
			return false
		}
	}
	return true
}

// IsTokenString is IsToken for a string.
func IsTokenString(s string) bool {
	return IsToken(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// EqualFold reports whether b and s are equal under ASCII case folding:
// A-Z match a-z, every other byte matches only itself (no Unicode folding,
// which would let "K" (U+212A) pass for "k").
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// EqualFoldString is EqualFold for two strings.
func EqualFoldString(a, b string) bool {
	return EqualFold(unsafe.Slice(unsafe.StringData(a), len(a)), b)
}

// IsOWS reports whether c is optional white space: SP or HT.
func IsOWS(c byte) bool { return c == ' ' || c == '\t' }

// TrimOWS returns b without leading and trailing SP and HT.
func TrimOWS(b []byte) []byte {
	for len(b) > 0 && IsOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && IsOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
