package http

import (
	"errors"
	"slices"
	"strconv"

	"github.com/evhttpd/httpd/internal/ascii"
)

// ErrInvalidHeader is returned by AppendHeader and AppendHeaderBytes when the
// field name is not a token or the field value holds a byte that would let it
// end the line (CR, LF), truncate it (NUL) or carry another control byte. The
// bytes never reach dst, so a handler cannot inject a field or a response.
var ErrInvalidHeader = errors.New("http: invalid header field")

// Response writing.
//
// Every Append function here appends to dst and returns the extended slice,
// in the manner of strconv.AppendInt: it never allocates when dst has the
// capacity, never retains dst or its arguments, and is safe for concurrent
// use on distinct buffers. The returned slice may share dst's backing array.
//
// A complete response head is built as
//
//	b = AppendStatusLine(b, 1, 200, "")
//	b = AppendDate(b)
//	b, err = AppendHeader(b, "Content-Type", "text/plain")
//	b = AppendContentLength(b, int64(len(body)))
//	b = AppendEndOfHead(b)
//	b = append(b, body...)
//
// or, with chunked framing (RFC 9112 §7.1), AppendHeader(b,
// "Transfer-Encoding", "chunked") in the head, one AppendChunk per piece of
// content and AppendLastChunk at the end.

// AppendStatusLine appends the status line "HTTP/1.<minor> <code> <reason>\r\n"
// (RFC 9112 §4).
//
// minor is the protocol minor version written: 0 writes HTTP/1.0 and any other
// value writes HTTP/1.1. A server sends the highest version it conforms to
// whose major is not above the request's (RFC 9110 §6.2, RFC 9112 §2.3), so
// evhttpd answers HTTP/1.1 to HTTP/1.0 requests as well and passes 1; 0 exists
// for tests and for peers that must see their own version echoed.
//
// reason "" means StatusText(code), and "Unknown" when code is unregistered.
// A reason that is not a valid reason-phrase (a byte other than HT, SP, VCHAR
// or obs-text, RFC 9112 §4) is replaced the same way, so it cannot break the
// line. code is written as three digits (RFC 9110 §15); a code outside
// 100..999 cannot be, and is written as 500 Internal Server Error.
func AppendStatusLine(dst []byte, minor int, code int, reason string) []byte {
	if code < 100 || code > 999 {
		code, reason = 500, ""
	}
	if reason == "" && code < 600 {
		// The whole line, made once: a reply's head is mostly this line.
		v := 1
		if minor == 0 {
			v = 0
		}
		return append(dst, statusLines[v][code-100]...)
	}
	return appendStatusLine(dst, minor, code, reason)
}

// appendStatusLine is AppendStatusLine without the table.
func appendStatusLine(dst []byte, minor int, code int, reason string) []byte {
	if reason == "" || !rspValidReason(reason) {
		reason = StatusText(code)
		if reason == "" {
			reason = "Unknown"
		}
	}
	if minor == 0 {
		dst = append(dst, "HTTP/1.0 "...)
	} else {
		dst = append(dst, "HTTP/1.1 "...)
	}
	dst = append(dst, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10), ' ')
	dst = append(dst, reason...)
	return append(dst, '\r', '\n')
}

// statusLines holds, for HTTP/1.0 and HTTP/1.1, the status line of each
// code from 100 to 599 with its StatusText ("Unknown" when it has none).
var statusLines = func() (t [2][500]string) {
	for minor := range t {
		for i := range t[minor] {
			t[minor][i] = string(appendStatusLine(nil, minor, 100+i, ""))
		}
	}
	return t
}()

// AppendHeader appends the field line "name: value\r\n" (RFC 9112 §5).
//
// name must be a token (RFC 9110 §5.1, §5.6.2) and value must hold only HT,
// SP, VCHAR and obs-text (RFC 9110 §5.5); otherwise AppendHeader returns dst
// unchanged and ErrInvalidHeader. value is written as given: a recipient
// strips leading and trailing SP and HT from a field value (RFC 9110 §5.5), so
// such bytes do not survive the trip. The caller decides which fields to
// send; AppendHeader does not check for duplicates or framing fields.
func AppendHeader(dst []byte, name, value string) ([]byte, error) {
	if !ValidHeaderName(name) || !ValidHeaderValue(value) {
		return dst, ErrInvalidHeader
	}
	return appendField(dst, name, value), nil
}

// appendField appends "name: value\r\n" with one capacity check for the
// line rather than one per piece.
func appendField[T string | []byte](dst []byte, name string, value T) []byte {
	n, m := len(dst), len(name)+len(value)+4
	if cap(dst)-n < m {
		dst = slices.Grow(dst, m)
	}
	dst = dst[:n+m]
	i := n + copy(dst[n:], name)
	dst[i], dst[i+1] = ':', ' '
	i += 2 + copy(dst[i+2:], value)
	dst[i], dst[i+1] = '\r', '\n'
	return dst
}

// AppendHeaderBytes is AppendHeader with the value as a byte slice, for
// values taken from a request or built in a scratch buffer without a string
// conversion. value is copied; it is not retained.
func AppendHeaderBytes(dst []byte, name string, value []byte) ([]byte, error) {
	if !ValidHeaderName(name) || !rspValidValue(value) {
		return dst, ErrInvalidHeader
	}
	return appendField(dst, name, value), nil
}

// AppendContentLength appends "Content-Length: <n>\r\n" (RFC 9110 §8.6) in
// decimal without leading zeros. A length is never negative; a negative n is
// written as 0 so the framing on the wire stays well-formed.
func AppendContentLength(dst []byte, n int64) []byte {
	if n < 0 {
		n = 0
	}
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, n, 10)
	return append(dst, '\r', '\n')
}

// AppendEndOfHead appends the empty line that ends a header section
// (RFC 9112 §2.1).
func AppendEndOfHead(dst []byte) []byte {
	return append(dst, '\r', '\n')
}

// AppendChunk appends p as one chunk (RFC 9112 §7.1): its size in lower-case
// hex, CRLF, the bytes of p, CRLF. It appends nothing when p is empty,
// because a chunk of size zero is the last-chunk and would end the content.
// No chunk extensions are written.
func AppendChunk(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	dst = AppendChunkSize(dst, len(p))
	dst = append(dst, p...)
	return append(dst, '\r', '\n')
}

// AppendChunkSize appends only the chunk-size line "<hex n>\r\n" of a chunk of
// n bytes, for a caller that sends the n data bytes from their own buffer
// (one vectored write, no copy) followed by the chunk's closing "\r\n".
// n must be positive: AppendChunkSize appends nothing for n <= 0, since a
// size of zero would be the last-chunk.
func AppendChunkSize(dst []byte, n int) []byte {
	if n <= 0 {
		return dst
	}
	dst = strconv.AppendUint(dst, uint64(n), 16)
	return append(dst, '\r', '\n')
}

// AppendLastChunk appends the last-chunk and an empty trailer section,
// "0\r\n\r\n" (RFC 9112 §7.1), which ends chunked content.
func AppendLastChunk(dst []byte) []byte {
	return append(dst, "0\r\n\r\n"...)
}

// Content types esp_http_server names (HTTPD_TYPE_TEXT, HTTPD_TYPE_JSON,
// HTTPD_TYPE_OCTET). Note that ESP's "text" type is text/html.
const (
	TypeText  = "text/html"
	TypeJSON  = "application/json"
	TypeOctet = "application/octet-stream"
)

// AppendErrorResponse appends a complete error response the way
// esp_http_server's httpd_resp_send_err writes one: the status line,
// Content-Type text/html (ESP's HTTPD_TYPE_TEXT), Content-Length and the
// body ErrorBody(code), here preceded by a Date field and, when closeConn is
// true, "Connection: close" (RFC 9112 §9.6), which evhttpd sends whenever it
// will close after the reply. When head is true the request was HEAD: the
// fields are the same but the body bytes are left out (RFC 9110 §9.3.2). A
// status that allows no content (BodyAllowed) gets neither Content-Length
// nor body.
func AppendErrorResponse(dst []byte, code int, closeConn, head bool) []byte {
	dst = AppendStatusLine(dst, 1, code, "")
	if code < 100 || code > 999 {
		code = 500 // as AppendStatusLine wrote it
	}
	dst = AppendDate(dst)
	body := ErrorBody(code)
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	if !BodyAllowed(code) {
		return AppendEndOfHead(dst)
	}
	dst = append(dst, "Content-Type: "+TypeText+"\r\n"...)
	dst = AppendContentLength(dst, int64(len(body)))
	dst = AppendEndOfHead(dst)
	if head {
		return dst
	}
	return append(dst, body...)
}

// ValidHeaderName reports whether name is a field name evhttpd will write:
// a non-empty token (RFC 9110 §5.1, §5.6.2).
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !ascii.IsTchar(name[i]) {
			return false
		}
	}
	return true
}

// ValidHeaderValue reports whether value is a field value evhttpd will write:
// only HT, SP, VCHAR and obs-text (RFC 9110 §5.5). CR, LF, NUL, DEL and every
// other control byte are refused. The empty value is valid.
func ValidHeaderValue(value string) bool {
	return rspValidValue(value)
}

// rspValidValue is ValidHeaderValue for strings and byte slices alike. A
// short value (most are: a media type, a date, a token) is checked byte by
// byte in the caller, inlined; a long one eight bytes at a time.
func rspValidValue[T string | []byte](v T) bool {
	if len(v) > 16 {
		return rspValidLong(v)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// rspValidLong is rspValidValue's long-value path: eight bytes at a time it
// looks for a byte below 0x20 or equal to 0x7f (scanValue's test); a word
// with one, an HT perhaps, and the tail go byte by byte.
func rspValidLong[T string | []byte](v T) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		x := uint64(v[i]) | uint64(v[i+1])<<8 | uint64(v[i+2])<<16 | uint64(v[i+3])<<24 |
			uint64(v[i+4])<<32 | uint64(v[i+5])<<40 | uint64(v[i+6])<<48 | uint64(v[i+7])<<56
		y := x ^ (0x7f * swarOnes)
		if ((x-0x20*swarOnes)&^x|(y-swarOnes)&^y)&swarHighs != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// rspValidReason reports whether s is a valid reason-phrase: HT, SP, VCHAR
// and obs-text (RFC 9112 §4), the same bytes a field value allows.
func rspValidReason(s string) bool {
	return rspValidValue(s)
}
