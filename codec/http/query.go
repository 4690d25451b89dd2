package http

import (
	"bytes"
	"errors"

	"github.com/evhttpd/httpd/internal/ascii"
)

// ErrBadEscape is returned by Unescape when a '%' is not followed by two hex
// digits (RFC 3986 §2.1).
var ErrBadEscape = errors.New("http: malformed percent escape")

// QueryValue returns the value of the first pair in query whose key is key,
// in the manner of esp_http_server's httpd_query_key_value.
//
// query is a URL query without the '?', such as Parser.RawQuery returns.
// Pairs are separated by '&' only (';' is an ordinary byte, as in ESP); a
// pair's key runs up to its first '='. Like ESP, keys are compared with ASCII
// case folding ("Key" finds "key=1"), the whole key must match (a key that
// merely starts with key does not), the first matching pair wins, and nothing
// is decoded: key is compared with the raw bytes and the value is returned
// raw; pass it to Unescape to decode it.
//
// Where ESP's scan misbehaves evhttpd follows the grammar instead: a pair
// without '=' ("flag") has key "flag" and an empty value, where ESP would
// read it and the next pair as one key "flag&next"; empty pairs ("a=1&&b=2",
// a trailing '&') are skipped. "=v" is a pair with the empty key.
//
// value is a sub-slice of query (nil when ok is false) and lives as long as
// query does; its capacity is clipped to its length, so appending to it copies
// instead of overwriting the rest of query.
func QueryValue(query []byte, key string) (value []byte, ok bool) {
	for len(query) > 0 {
		pair := query
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			pair, query = query[:i], query[i+1:]
		} else {
			query = nil
		}
		if len(pair) == 0 {
			continue
		}
		name, val := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			name, val = pair[:i], pair[i+1:]
		}
		if ascii.EqualFold(name, key) {
			return val[:len(val):len(val)], true
		}
	}
	return nil, false
}

// Unescape percent-decodes src (RFC 3986 §2.1) and appends the result to dst.
// When plus is true a '+' decodes to a space, as in
// application/x-www-form-urlencoded query strings and bodies; when it is
// false '+' is kept, as in paths.
//
// Every '%' must be followed by two hex digits (either case); otherwise
// Unescape returns dst unchanged (no byte of its backing array is written)
// and ErrBadEscape. This is stricter than esp_http_server's examples, whose
// example_uri_decode (nginx's unescape) silently drops a malformed escape,
// stops decoding after an escaped '?' and never maps '+'. Decoded bytes can
// be anything, NUL, '/' and invalid UTF-8 included: callers that use the
// result as a path or a name must check it.
//
// Decoding never makes the data longer, so src may be decoded in place:
// Unescape(src[:0], src, plus).
func Unescape(dst, src []byte, plus bool) ([]byte, error) {
	// Validate first so that a bad escape leaves dst untouched, and so that
	// in-place decoding never writes over bytes not yet read.
	escapes := false
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '%':
			if i+2 >= len(src) || rspUnhex[src[i+1]] < 0 || rspUnhex[src[i+2]] < 0 {
				return dst, ErrBadEscape
			}
			escapes = true
			i += 2
		case '+':
			escapes = escapes || plus
		}
	}
	if !escapes {
		return append(dst, src...), nil
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '%':
			dst = append(dst, byte(rspUnhex[src[i+1]])<<4|byte(rspUnhex[src[i+2]]))
			i += 2
		case c == '+' && plus:
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// rspUnhex maps a hex digit to its value and every other byte to -1.
var rspUnhex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c - 'a' + 10)
		t[c-'a'+'A'] = int8(c - 'a' + 10)
	}
	return t
}()
