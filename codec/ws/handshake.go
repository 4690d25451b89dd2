package ws

import (
	"crypto/sha1"
	"encoding/base64"

	"github.com/evhttpd/httpd/internal/ascii"
)

// acceptGUID is the fixed GUID of RFC 6455 §1.3 and §4.2.2.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxStackKey is the longest Sec-WebSocket-Key that AcceptKey hashes without
// allocating; a valid key is 24 bytes.
const maxStackKey = 64

var strictBase64 = base64.StdEncoding.Strict()

// AcceptKey appends the Sec-WebSocket-Accept value for key to dst: the
// base64 of the SHA-1 of key followed by the RFC 6455 GUID (§4.2.2 step 5.4).
// It does not allocate for keys up to 64 bytes (validate with ValidKey first).
func AcceptKey(dst []byte, key []byte) []byte {
	var sum [sha1.Size]byte
	if len(key) <= maxStackKey {
		var buf [maxStackKey + len(acceptGUID)]byte
		n := copy(buf[:], key)
		n += copy(buf[n:], acceptGUID)
		sum = sha1.Sum(buf[:n])
	} else {
		b := make([]byte, 0, len(key)+len(acceptGUID))
		sum = sha1.Sum(append(append(b, key...), acceptGUID...))
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// ValidKey reports whether key is a valid Sec-WebSocket-Key: canonical padded
// base64 (no line breaks, zero padding bits) of exactly 16 bytes
// (RFC 6455 §4.1, §4.2.1 item 5), which is always 24 characters.
func ValidKey(key []byte) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	// The decoder skips CR and LF, but then fewer than 24 base64 characters
	// remain, which cannot decode to 16 bytes with "==" padding.
	var out [18]byte
	n, err := strictBase64.Decode(out[:], key)
	return err == nil && n == 16
}

// nextListElement splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it without surrounding whitespace, plus the
// rest after the comma. Empty elements come back empty; callers skip them.
func nextListElement(list []byte) (elem, rest []byte) {
	for i, c := range list {
		if c == ',' {
			return ascii.TrimOWS(list[:i]), list[i+1:]
		}
	}
	return ascii.TrimOWS(list), nil
}

// tokenListValid reports whether every non-empty element of the list is a
// token (RFC 6455 §4.3: Sec-WebSocket-Protocol is 1#token).
func tokenListValid(list []byte) bool {
	for rest := list; len(rest) > 0; {
		var e []byte
		e, rest = nextListElement(rest)
		if len(e) > 0 && !ascii.IsToken(e) {
			return false
		}
	}
	return true
}

func listHas(list []byte, token string) bool {
	for rest := list; len(rest) > 0; {
		var e []byte
		e, rest = nextListElement(rest)
		if string(e) == token {
			return true
		}
	}
	return false
}

// SelectSubprotocol picks the subprotocol for the response from one
// Sec-WebSocket-Protocol field value (RFC 6455 §4.2.2 step 5.4: the server
// selects one of the client's values, or none).
//
// Choice: the first entry of supported, in the server's order of preference,
// that the client offered as an exact, case-sensitive token. Empty list
// elements and surrounding whitespace are ignored (RFC 9110 §5.6.1). If any
// element is not a token the value is malformed and nothing is selected. The
// returned string is an element of supported, so nothing is allocated.
func SelectSubprotocol(offered []byte, supported []string) (string, bool) {
	return SelectSubprotocolFields([][]byte{offered}, supported)
}

// SelectSubprotocolFields is SelectSubprotocol for a header sent as several
// fields: per RFC 9110 §5.3 they mean the same as one field whose value is
// the fields joined with commas, which is how they are treated here. A
// malformed field makes the whole header malformed.
func SelectSubprotocolFields(offered [][]byte, supported []string) (string, bool) {
	for _, f := range offered {
		if !tokenListValid(f) {
			return "", false
		}
	}
	for _, s := range supported {
		if s == "" {
			continue
		}
		for _, f := range offered {
			if listHas(f, s) {
				return s, true
			}
		}
	}
	return "", false
}

// HasToken reports whether the comma-separated list value contains token,
// compared ASCII case-insensitively, as needed for the Connection and Upgrade
// header fields of the handshake (RFC 6455 §4.2.1 items 3 and 4). Elements
// that are not tokens are skipped, so a malformed list never matches by
// accident and never fails.
func HasToken(value []byte, token string) bool {
	for rest := value; len(rest) > 0; {
		var e []byte
		e, rest = nextListElement(rest)
		if len(e) == len(token) && ascii.EqualFold(e, token) {
			return true
		}
	}
	return false
}
