package http

import (
	"bytes"

	"github.com/evhttpd/httpd/internal/ascii"
)

// CookieValue returns the value of the first cookie named name in the value
// of a Cookie header field, "a=b; c=d" (RFC 6265 §4.2.1), in the manner of
// esp_http_server's httpd_req_get_cookie_val.
//
// Pairs are separated by ';'. Optional whitespace (SP, HT) around each pair
// is skipped, so "a=b;c=d" and "a=b ;  c=d" work as well; ESP finds the next
// pair only after a space and so misses "c" in "a=b;c=d". A pair's name runs
// up to its first '=' and is compared with ASCII case folding, as ESP does
// (RFC 6265 itself compares names exactly); the whole name must match, the
// first match wins and a pair without '=' is skipped. Nothing is decoded: a
// quoted value is returned with its DQUOTEs, as ESP returns it.
//
// value is a sub-slice of cookieHeader (nil when ok is false) and lives as
// long as it does; its capacity is clipped to its length, so appending to it
// copies instead of overwriting the rest of the field.
func CookieValue(cookieHeader []byte, name string) (value []byte, ok bool) {
	h := cookieHeader
	for len(h) > 0 {
		pair := h
		if i := bytes.IndexByte(h, ';'); i >= 0 {
			pair, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		pair = ascii.TrimOWS(pair)
		i := bytes.IndexByte(pair, '=')
		if i < 0 {
			continue
		}
		if ascii.EqualFold(pair[:i], name) {
			v := pair[i+1:]
			return v[:len(v):len(v)], true
		}
	}
	return nil, false
}
