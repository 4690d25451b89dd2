package ws

import "errors"

// ProtocolError is a violation of RFC 6455 or RFC 7692 by the peer. Code is
// the status code the endpoint should send in its close frame before closing
// the connection (RFC 6455 §7.1.7 "Fail the WebSocket Connection").
//
// The package returns the pre-allocated values below; compare with errors.Is
// or inspect the code with errors.As.
type ProtocolError struct {
	Code   StatusCode
	Reason string
}

// Error returns "ws: " followed by the reason.
func (e *ProtocolError) Error() string { return "ws: " + e.Reason }

// CloseCode returns the close code carried by err if it is (or wraps) a
// *ProtocolError.
func CloseCode(err error) (StatusCode, bool) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code, true
	}
	return 0, false
}

// ErrNeedMore is returned by FrameParser.ParseHeader when b ended inside a
// frame header; the bytes seen so far are kept and parsing resumes with the
// next call.
var ErrNeedMore = errors.New("ws: need more data")

// Protocol errors. Each one carries the close code RFC 6455 prescribes.
var (
	// ErrReservedOpcode: opcode 0x3-0x7 or 0xB-0xF (RFC 6455 §5.2).
	ErrReservedOpcode = &ProtocolError{StatusProtocolError, "reserved opcode"}
	// ErrRSV: an RSV bit that no negotiated extension defines (RFC 6455 §5.2),
	// or RSV1 on a control or continuation frame (RFC 7692 §6.1).
	ErrRSV = &ProtocolError{StatusProtocolError, "reserved bit set"}
	// ErrControlTooLong: control frame payload over 125 bytes (RFC 6455 §5.5).
	ErrControlTooLong = &ProtocolError{StatusProtocolError, "control frame too long"}
	// ErrControlFragmented: control frame without FIN (RFC 6455 §5.5).
	ErrControlFragmented = &ProtocolError{StatusProtocolError, "fragmented control frame"}
	// ErrUnmasked: client frame without mask (RFC 6455 §5.1).
	ErrUnmasked = &ProtocolError{StatusProtocolError, "unmasked client frame"}
	// ErrMasked: server frame with a mask, seen by a client (RFC 6455 §5.1).
	ErrMasked = &ProtocolError{StatusProtocolError, "masked server frame"}
	// ErrLengthOverflow: 64-bit payload length with the top bit set (RFC 6455 §5.2).
	ErrLengthOverflow = &ProtocolError{StatusProtocolError, "payload length overflow"}
	// ErrNonMinimalLength: a length that fits a shorter encoding (RFC 6455 §5.2
	// "the minimal number of bytes MUST be used").
	ErrNonMinimalLength = &ProtocolError{StatusProtocolError, "non-minimal payload length"}
	// ErrContinuationWithoutStart: continuation frame outside a fragmented
	// message (RFC 6455 §5.4).
	ErrContinuationWithoutStart = &ProtocolError{StatusProtocolError, "continuation without start"}
	// ErrDataInsideFragmented: text or binary frame while a fragmented message
	// is unfinished (RFC 6455 §5.4).
	ErrDataInsideFragmented = &ProtocolError{StatusProtocolError, "data frame inside fragmented message"}
	// ErrMessageTooBig: a frame or message over the configured size limit,
	// detected from declared lengths before any payload is buffered
	// (RFC 6455 §7.4.1 code 1009), or a decompressed message over its limit.
	ErrMessageTooBig = &ProtocolError{StatusMessageTooBig, "message too big"}
	// ErrTooManyFragments: more fragments in one message than the configured
	// cap; zero-length continuations would otherwise go on forever (1009).
	ErrTooManyFragments = &ProtocolError{StatusMessageTooBig, "too many fragments"}
	// ErrInvalidUTF8: text message payload that is not UTF-8 (RFC 6455 §8.1).
	ErrInvalidUTF8 = &ProtocolError{StatusInvalidFramePayloadData, "invalid UTF-8 in text message"}
	// ErrBadClosePayload: close payload of exactly one byte (RFC 6455 §5.5.1).
	ErrBadClosePayload = &ProtocolError{StatusProtocolError, "malformed close payload"}
	// ErrInvalidCloseCode: close code not allowed on the wire (RFC 6455 §7.4).
	ErrInvalidCloseCode = &ProtocolError{StatusProtocolError, "invalid close code"}
	// ErrCloseReasonUTF8: close reason that is not UTF-8 (RFC 6455 §5.5.1).
	ErrCloseReasonUTF8 = &ProtocolError{StatusInvalidFramePayloadData, "invalid UTF-8 in close reason"}
	// ErrBadDeflate: compressed payload that is not a valid DEFLATE stream
	// (RFC 7692 §8: fail the connection; 1007 since the payload is invalid).
	ErrBadDeflate = &ProtocolError{StatusInvalidFramePayloadData, "invalid compressed payload"}
)
