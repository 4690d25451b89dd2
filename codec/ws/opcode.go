package ws

// Opcode is the 4-bit frame opcode of RFC 6455 §5.2 and §11.8.
type Opcode byte

// Opcodes defined by RFC 6455 §5.2. Values 0x3-0x7 and 0xB-0xF are reserved
// and invalid on the wire.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the RFC name of the opcode, or "reserved(0xN)".
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	if op > 0xF {
		return "invalid"
	}
	return reservedOpNames[op]
}

var reservedOpNames = [16]string{
	3: "reserved(0x3)", 4: "reserved(0x4)", 5: "reserved(0x5)", 6: "reserved(0x6)",
	7: "reserved(0x7)", 0xB: "reserved(0xB)", 0xC: "reserved(0xC)", 0xD: "reserved(0xD)",
	0xE: "reserved(0xE)", 0xF: "reserved(0xF)",
}

// IsControl reports whether op is a control opcode (close, ping, pong).
// RFC 6455 §5.5: control opcodes have the most significant bit set.
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsData reports whether op is a defined data opcode (text or binary).
// Continuation frames belong to a data message but are not reported here.
func (op Opcode) IsData() bool { return op == OpText || op == OpBinary }

// Valid reports whether op is one of the six opcodes RFC 6455 defines.
func (op Opcode) Valid() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Status codes of RFC 6455 §7.4.1 and the IANA "WebSocket Close Code Number"
// registry (§11.7).
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusReserved                StatusCode = 1004 // reserved, never on the wire
	StatusNoStatusRcvd            StatusCode = 1005 // never on the wire: close frame without code
	StatusAbnormalClosure         StatusCode = 1006 // never on the wire: connection dropped
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never on the wire: TLS failure
)

var statusNames = [...]string{
	"NormalClosure", "GoingAway", "ProtocolError", "UnsupportedData", "Reserved",
	"NoStatusRcvd", "AbnormalClosure", "InvalidFramePayloadData", "PolicyViolation",
	"MessageTooBig", "MandatoryExtension", "InternalError", "ServiceRestart",
	"TryAgainLater", "BadGateway", "TLSHandshake",
}

// String returns the registry name of c, "Application(N)" for 3000-3999,
// "Private(N)" for 4000-4999 and "Status(N)" for anything else.
func (c StatusCode) String() string {
	switch {
	case c >= 1000 && c <= 1015:
		return statusNames[c-1000]
	case c >= 3000 && c <= 3999:
		return "Application(" + itoa(uint64(c)) + ")"
	case c >= 4000 && c <= 4999:
		return "Private(" + itoa(uint64(c)) + ")"
	}
	return "Status(" + itoa(uint64(c)) + ")"
}

// ValidCloseCode reports whether c may appear in a close frame on the wire
// (RFC 6455 §7.4.1, §7.4.2): 1000-1003 and 1007-1014 (defined and registered),
// 3000-3999 (registered by libraries) and 4000-4999 (private use).
// 1004, 1005, 1006 and 1015 are reserved for local use; 0-999, 1016-2999 and
// 5000 and above are not used.
func ValidCloseCode(c StatusCode) bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}
