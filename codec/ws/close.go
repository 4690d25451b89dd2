package ws

import "encoding/binary"

// MaxCloseReason is the longest close reason that fits a control frame: 125
// bytes of payload minus the 2-byte code (RFC 6455 §5.5, §5.5.1).
const MaxCloseReason = MaxControlPayload - 2

// AppendClose appends an unmasked close frame to dst (RFC 6455 §5.5.1).
// Code 0 gives an empty payload and reason is ignored. Otherwise the payload
// is the code followed by reason, cut to MaxCloseReason bytes at a code point
// boundary; reason should be valid UTF-8. AppendClose does not check that
// code is valid on the wire (see ValidCloseCode).
func AppendClose(dst []byte, code StatusCode, reason string) []byte {
	if code == 0 {
		return AppendHeader(dst, Header{Fin: true, Op: OpClose})
	}
	reason = truncateUTF8(reason, MaxCloseReason)
	dst = AppendHeader(dst, Header{Fin: true, Op: OpClose, Length: int64(2 + len(reason))})
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// truncateUTF8 cuts s to at most n bytes without splitting a code point.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Step back over continuation bytes (10xxxxxx) so the cut falls before a
	// lead byte.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ParseClosePayload decodes a received close frame payload (RFC 6455 §5.5.1).
// An empty payload gives StatusNoStatusRcvd (§7.1.5) and no error. reason
// aliases p and lives as long as p does.
//
// Errors: one byte of payload, ErrBadClosePayload (1002); a code that is not
// valid on the wire, ErrInvalidCloseCode (1002); a reason that is not UTF-8,
// ErrCloseReasonUTF8 (1007).
func ParseClosePayload(p []byte) (code StatusCode, reason []byte, err error) {
	switch len(p) {
	case 0:
		return StatusNoStatusRcvd, nil, nil
	case 1:
		return 0, nil, ErrBadClosePayload
	}
	code = StatusCode(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, nil, ErrInvalidCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return code, nil, ErrCloseReasonUTF8
	}
	return code, reason, nil
}
