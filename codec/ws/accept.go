package ws

import (
	"bytes"
	"errors"

	"github.com/evhttpd/httpd/internal/ascii"
)

// HandshakeError is an opening handshake the server refuses (RFC 6455
// §4.2.1, §4.2.2): the HTTP status to answer with and why. The package
// returns the pre-allocated values below; compare with errors.Is or ==, or
// read the status with errors.As.
type HandshakeError struct {
	Status int    // HTTP status of the refusal: 400, 403 or 426
	Reason string // short lower-case text; never quotes the request
}

// Error returns "ws: " followed by the reason.
func (e *HandshakeError) Error() string { return "ws: " + e.Reason }

// Handshake refusals. Each names the rule of RFC 6455 §4.2.1 it enforces.
var (
	// ErrHandshakeMethod: the method is not GET (§4.2.1 item 1).
	ErrHandshakeMethod = &HandshakeError{400, "handshake method is not GET"}
	// ErrHandshakeHTTPVersion: an HTTP/1.0 request (§4.2.1 item 1: HTTP/1.1
	// or higher).
	ErrHandshakeHTTPVersion = &HandshakeError{400, "handshake is not HTTP/1.1"}
	// ErrHandshakeUpgrade: no Upgrade field lists "websocket" (§4.2.1 item 3).
	ErrHandshakeUpgrade = &HandshakeError{400, "Upgrade does not list websocket"}
	// ErrHandshakeConnection: no Connection field lists "upgrade" (§4.2.1
	// item 4).
	ErrHandshakeConnection = &HandshakeError{400, "Connection does not list upgrade"}
	// ErrHandshakeBody: the request announces a body. A handshake has none,
	// and bytes after its head are the client's first frames (§4.1), so a
	// body would make them ambiguous.
	ErrHandshakeBody = &HandshakeError{400, "handshake request has a body"}
	// ErrHandshakeVersion: Sec-WebSocket-Version missing or not 13 (§4.2.1
	// item 6). The reply must carry "Sec-WebSocket-Version: 13" (§4.4).
	ErrHandshakeVersion = &HandshakeError{426, "Sec-WebSocket-Version is not 13"}
	// ErrHandshakeNoKey: no Sec-WebSocket-Key (§4.2.1 item 5).
	ErrHandshakeNoKey = &HandshakeError{400, "Sec-WebSocket-Key missing"}
	// ErrHandshakeKeys: Sec-WebSocket-Key sent more than once (§11.3.1: it
	// must not appear more than once).
	ErrHandshakeKeys = &HandshakeError{400, "Sec-WebSocket-Key repeated"}
	// ErrHandshakeBadKey: a Sec-WebSocket-Key that is not the base64 of 16
	// bytes (§4.2.1 item 5, ValidKey).
	ErrHandshakeBadKey = &HandshakeError{400, "Sec-WebSocket-Key is not 16 bytes of base64"}
	// ErrHandshakeOrigin: the Origin is not accepted (§4.2.1 item 7,
	// §10.2); see SameOrigin.
	ErrHandshakeOrigin = &HandshakeError{403, "Origin not allowed"}
)

// HandshakeStatus returns the HTTP status carried by err if it is (or
// wraps) a *HandshakeError.
func HandshakeStatus(err error) (int, bool) {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Status, true
	}
	return 0, false
}

// HandshakeRequest is what CheckHandshake reads of a request whose head was
// parsed; codec/http's *Parser has these methods.
type HandshakeRequest interface {
	Method() []byte
	// Minor is the HTTP/1 minor version.
	Minor() int
	// ContentLength is the declared body length, 0 or less for none.
	ContentLength() int64
	// Chunked reports a chunked body.
	Chunked() bool
	NumHeaders() int
	HeaderAt(i int) (name, value []byte)
}

// MaxOfferFields is how many Sec-WebSocket-Protocol fields, and how many
// Sec-WebSocket-Extensions fields, a Handshake keeps; later ones are
// ignored (the server then chooses among the first ones only).
const MaxOfferFields = 8

// Handshake is what an acceptable opening handshake carries. Its slices
// alias the request's head and are valid as long as it is.
type Handshake struct {
	Key    []byte // Sec-WebSocket-Key, valid (ValidKey)
	Origin []byte // Origin, nil when absent

	protocols  [MaxOfferFields][]byte
	extensions [MaxOfferFields][]byte
	np, ne     uint8
}

// Protocols returns the Sec-WebSocket-Protocol field values, in order, for
// SelectSubprotocolFields. The slice aliases h.
func (h *Handshake) Protocols() [][]byte { return h.protocols[:h.np] }

// Extensions returns the Sec-WebSocket-Extensions field values, in order,
// for NegotiateDeflate. The slice aliases h.
func (h *Handshake) Extensions() [][]byte { return h.extensions[:h.ne] }

// CheckHandshake checks the opening handshake request req (RFC 6455
// §4.2.1) and fills h from it. It returns nil or the *HandshakeError of the
// first rule broken, in this order: method, HTTP version, Upgrade,
// Connection and body (400), Sec-WebSocket-Version (426), then
// Sec-WebSocket-Key (400). The Origin is not judged here (CheckOrigin), and
// neither are the subprotocol and extension offers, which never refuse a
// handshake: an unusable offer is declined.
func CheckHandshake(req HandshakeRequest, h *Handshake) error {
	*h = Handshake{}
	keys := 0
	version, badVersion := false, false
	upgrade, connection := false, false
	for i, n := 0, req.NumHeaders(); i < n; i++ {
		name, v := req.HeaderAt(i)
		switch {
		case ascii.EqualFold(name, "Sec-WebSocket-Key"):
			h.Key = v
			keys++
		case ascii.EqualFold(name, "Sec-WebSocket-Version"):
			// Every field must say 13: a client that also offers
			// another version is answered with the one this server
			// speaks (§4.4).
			if string(v) == "13" {
				version = true
			} else {
				badVersion = true
			}
		case ascii.EqualFold(name, "Sec-WebSocket-Protocol"):
			if h.np < MaxOfferFields {
				h.protocols[h.np] = v
				h.np++
			}
		case ascii.EqualFold(name, "Sec-WebSocket-Extensions"):
			if h.ne < MaxOfferFields {
				h.extensions[h.ne] = v
				h.ne++
			}
		case ascii.EqualFold(name, "Upgrade"):
			upgrade = upgrade || HasToken(v, "websocket")
		case ascii.EqualFold(name, "Connection"):
			connection = connection || HasToken(v, "upgrade")
		case ascii.EqualFold(name, "Origin"):
			if h.Origin == nil {
				h.Origin = v
			}
		}
	}
	switch m := req.Method(); {
	case len(m) != 3 || string(m) != "GET":
		return ErrHandshakeMethod
	case req.Minor() == 0:
		return ErrHandshakeHTTPVersion
	case !upgrade:
		return ErrHandshakeUpgrade
	case !connection:
		return ErrHandshakeConnection
	case req.ContentLength() > 0 || req.Chunked():
		return ErrHandshakeBody
	case !version || badVersion:
		return ErrHandshakeVersion
	case keys == 0:
		return ErrHandshakeNoKey
	case keys > 1:
		return ErrHandshakeKeys
	case !ValidKey(h.Key):
		return ErrHandshakeBadKey
	}
	return nil
}

// CheckOrigin applies the default Origin policy: a request without Origin
// (not from a browser) is accepted, and one with Origin only when it names
// host (SameOrigin). It returns nil or ErrHandshakeOrigin (403).
func CheckOrigin(origin, host []byte) error {
	if origin == nil || SameOrigin(origin, host) {
		return nil
	}
	return ErrHandshakeOrigin
}

// SameOrigin reports whether an Origin value names host, the host[:port]
// the request was sent to (RFC 6454 §4: scheme, host and port; the scheme
// is not known behind a transport, so host and port are compared, ASCII
// case-insensitively). "null" and anything without a scheme never match.
func SameOrigin(origin, host []byte) bool {
	i := bytes.Index(origin, []byte("://"))
	if i < 0 || len(host) == 0 {
		return false
	}
	o := origin[i+3:]
	if j := bytes.IndexByte(o, '/'); j >= 0 {
		o = o[:j]
	}
	return len(o) == len(host) && ascii.EqualFold(o, string(host))
}

// AppendAccept appends the head of the 101 response that accepts a
// handshake (RFC 6455 §4.2.2 item 5): the status line, Upgrade and
// Connection, Sec-WebSocket-Accept computed from key, Sec-WebSocket-Protocol
// when subprotocol is not empty, Sec-WebSocket-Extensions when extensions
// is not empty (NegotiateDeflate's response), then extra as it is (whole
// "Name: value\r\n" lines the caller validated) and the empty line that
// ends the head. It does not allocate for a key that passed ValidKey.
func AppendAccept(dst, key []byte, subprotocol string, extensions, extra []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = AcceptKey(dst, key)
	dst = append(dst, "\r\n"...)
	if subprotocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, extra...)
	return append(dst, "\r\n"...)
}
