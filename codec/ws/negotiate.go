package ws

import (
	"errors"

	"github.com/evhttpd/httpd/internal/ascii"
)

// ExtensionName is the extension token of RFC 7692 §7.
const ExtensionName = "permessage-deflate"

// DeflateConfig is a server's permessage-deflate policy. The zero value
// accepts any valid offer, uses 15-bit windows both ways, lets both sides
// keep their context between messages, and compresses at level 1.
type DeflateConfig struct {
	// ServerNoContextTakeover makes the server reset its compressor after
	// every message and say so in the response (RFC 7692 §7.1.1.1), even if
	// the client did not ask. It saves the per-connection dictionary.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to reset its compressor after
	// every message (RFC 7692 §7.1.1.2), so the server keeps no
	// decompression dictionary between messages. Also applied when the
	// client offers it.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits caps the server's LZ77 window, 8..15; 0 means 15.
	// A smaller client offer wins. Below 15 the compressor uses a windowed
	// encoder whose speed and ratio do not depend on Level.
	ServerMaxWindowBits int
	// ClientMaxWindowBits caps the client's window, 8..15; 0 means 15. It can
	// only be sent when the client offered client_max_window_bits
	// (RFC 7692 §7.1.2.2); otherwise the client's window stays 15.
	ClientMaxWindowBits int
	// Level is the compression level: 1 (fastest) to 9 (best), -1 for the
	// flate default (5), -2 for Huffman-only; 0 means 1.
	Level int
}

// DefaultDeflateLevel is the level used when DeflateConfig.Level is 0.
const DefaultDeflateLevel = 1

// Configuration errors returned by DeflateConfig.Validate and the
// Compressor and Decompressor Init methods.
var (
	ErrDeflateWindowBits = errors.New("ws: deflate window bits must be 0 or 8..15")
	ErrDeflateLevel      = errors.New("ws: deflate level must be -2..9")
)

// Validate reports an invalid configuration. NegotiateDeflate declines every
// offer under an invalid configuration.
func (c DeflateConfig) Validate() error {
	for _, b := range [2]int{c.ServerMaxWindowBits, c.ClientMaxWindowBits} {
		if b != 0 && (b < 8 || b > 15) {
			return ErrDeflateWindowBits
		}
	}
	if c.Level < -2 || c.Level > 9 {
		return ErrDeflateLevel
	}
	return nil
}

// EffectiveLevel returns Level with 0 replaced by DefaultDeflateLevel.
func (c DeflateConfig) EffectiveLevel() int {
	if c.Level == 0 {
		return DefaultDeflateLevel
	}
	return c.Level
}

// DeflateParams are the negotiated permessage-deflate parameters. Window
// bits are always filled in (8..15).
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
}

// deflateOffer is one parsed extension element.
type deflateOffer struct {
	serverNoCtx, clientNoCtx bool
	serverBits, clientBits   int // 0: absent
	clientBitsNoValue        bool
}

// NegotiateDeflate answers the Sec-WebSocket-Extensions header, given as the
// values of all its fields in order (RFC 9110 §5.3: several fields are one
// comma-separated list). It takes the first permessage-deflate offer it can
// accept (RFC 7692 §5.1) and returns the parameters and the response value
// to send in Sec-WebSocket-Extensions; response is newly allocated.
//
// An offer is declined, and the next one tried, when it has an unknown or
// duplicated parameter, a missing or superfluous value, a window size outside
// 8..15 or written other than as a plain decimal (no leading zeros, no sign),
// or a syntax error (RFC 7692 §7: "MUST decline"). Quoted values are
// unquoted first (RFC 6455 §9.1). Every valid offer can be honoured: a
// server_max_window_bits below 15 is met with a windowed compressor.
// Other extensions are ignored. ok is false when nothing was accepted or cfg
// is invalid.
func NegotiateDeflate(offers [][]byte, cfg DeflateConfig) (p DeflateParams, response []byte, ok bool) {
	if cfg.Validate() != nil {
		return DeflateParams{}, nil, false
	}
	for _, field := range offers {
		for rest := field; len(rest) > 0; {
			var elem []byte
			var balanced bool
			elem, rest, balanced = nextExtension(rest)
			if !balanced {
				break
			}
			o, isDeflate, valid := parseDeflateElement(elem, false)
			if !isDeflate || !valid {
				continue
			}
			p, sendServerBits := accept(o, cfg)
			return p, appendDeflateResponse(nil, p, sendServerBits), true
		}
	}
	return DeflateParams{}, nil, false
}

func accept(o deflateOffer, cfg DeflateConfig) (p DeflateParams, sendServerBits bool) {
	p.ServerNoContextTakeover = o.serverNoCtx || cfg.ServerNoContextTakeover
	p.ClientNoContextTakeover = o.clientNoCtx || cfg.ClientNoContextTakeover
	// RFC 7692 §7.1.2.1: answer server_max_window_bits with the same or a
	// smaller value; the server may also send it unasked.
	p.ServerMaxWindowBits = orDefault(cfg.ServerMaxWindowBits)
	if o.serverBits != 0 {
		p.ServerMaxWindowBits = min(p.ServerMaxWindowBits, o.serverBits)
		sendServerBits = true
	}
	if p.ServerMaxWindowBits < 15 {
		sendServerBits = true
	}
	// RFC 7692 §7.1.2.2: client_max_window_bits may be answered only if the
	// client offered it; a value in the offer is an upper bound.
	p.ClientMaxWindowBits = 15
	if o.clientBits != 0 || o.clientBitsNoValue {
		p.ClientMaxWindowBits = orDefault(cfg.ClientMaxWindowBits)
		if o.clientBits != 0 {
			p.ClientMaxWindowBits = min(p.ClientMaxWindowBits, o.clientBits)
		}
	}
	return p, sendServerBits
}

func orDefault(bits int) int {
	if bits == 0 {
		return 15
	}
	return bits
}

func appendDeflateResponse(dst []byte, p DeflateParams, sendServerBits bool) []byte {
	dst = append(dst, ExtensionName...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if sendServerBits {
		dst = append(dst, "; server_max_window_bits="...)
		dst = appendBits(dst, p.ServerMaxWindowBits)
	}
	// Omitted at 15: the client may then use 15, the same thing.
	if p.ClientMaxWindowBits < 15 {
		dst = append(dst, "; client_max_window_bits="...)
		dst = appendBits(dst, p.ClientMaxWindowBits)
	}
	return dst
}

func appendBits(dst []byte, b int) []byte {
	if b >= 10 {
		return append(dst, '1', byte('0'+b-10))
	}
	return append(dst, byte('0'+b))
}

// ParseDeflateResponse parses a server's Sec-WebSocket-Extensions response
// value as a client would (RFC 7692 §7.1): exactly one permessage-deflate
// element with valid, distinct parameters; window bits parameters must carry
// a value. Absent window bits are reported as 15.
func ParseDeflateResponse(value []byte) (DeflateParams, bool) {
	var found bool
	var o deflateOffer
	for rest := value; len(rest) > 0; {
		elem, next, balanced := nextExtension(rest)
		rest = next
		if !balanced {
			return DeflateParams{}, false
		}
		if len(elem) == 0 {
			continue
		}
		if found {
			return DeflateParams{}, false
		}
		var isDeflate, valid bool
		o, isDeflate, valid = parseDeflateElement(elem, true)
		if !isDeflate || !valid {
			return DeflateParams{}, false
		}
		found = true
	}
	if !found {
		return DeflateParams{}, false
	}
	return DeflateParams{
		ServerNoContextTakeover: o.serverNoCtx,
		ClientNoContextTakeover: o.clientNoCtx,
		ServerMaxWindowBits:     orDefault(o.serverBits),
		ClientMaxWindowBits:     orDefault(o.clientBits),
	}, true
}

// nextExtension splits the first element off an extension list at a comma
// outside quoted strings. balanced is false when a quoted string never ends;
// elem is then the rest of the list.
func nextExtension(list []byte) (elem, rest []byte, balanced bool) {
	inQuote := false
	for i := 0; i < len(list); i++ {
		switch c := list[i]; {
		case inQuote && c == '\\':
			i++ // quoted-pair: skip the escaped byte
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			return ascii.TrimOWS(list[:i]), list[i+1:], true
		}
	}
	return ascii.TrimOWS(list), nil, !inQuote
}

// cutParam splits s at the first ';' outside quoted strings. s has balanced
// quotes (nextExtension checked).
func cutParam(s []byte) (head, rest []byte, found bool) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ';':
			return s[:i], s[i+1:], true
		}
	}
	return s, nil, false
}

const (
	paramServerNoCtx = 1 << iota
	paramClientNoCtx
	paramServerBits
	paramClientBits
)

// parseDeflateElement parses "permessage-deflate; param; param=value".
// isDeflate reports the extension name matched; valid that every parameter
// is known, distinct and well-formed. response selects the response rules
// (client_max_window_bits needs a value).
func parseDeflateElement(elem []byte, response bool) (o deflateOffer, isDeflate, valid bool) {
	name, rest, more := cutParam(elem)
	if !ascii.EqualFold(ascii.TrimOWS(name), ExtensionName) {
		return o, false, false
	}
	var seen uint8
	for more {
		var seg []byte
		seg, rest, more = cutParam(rest)
		seg = ascii.TrimOWS(seg)
		pname, raw, hasValue := seg, []byte(nil), false
		for i, c := range seg {
			if c == '=' {
				pname, raw, hasValue = ascii.TrimOWS(seg[:i]), ascii.TrimOWS(seg[i+1:]), true
				break
			}
		}
		if !ascii.IsToken(pname) {
			return o, true, false
		}
		var buf [4]byte
		var val []byte
		if hasValue {
			var ok bool
			if val, ok = paramValue(raw, buf[:0]); !ok {
				return o, true, false
			}
		}
		var bit uint8
		switch {
		case ascii.EqualFold(pname, "server_no_context_takeover"):
			// RFC 7692 §7.1.1.1: no value.
			bit = paramServerNoCtx
			if hasValue {
				return o, true, false
			}
			o.serverNoCtx = true
		case ascii.EqualFold(pname, "client_no_context_takeover"):
			// RFC 7692 §7.1.1.2: no value.
			bit = paramClientNoCtx
			if hasValue {
				return o, true, false
			}
			o.clientNoCtx = true
		case ascii.EqualFold(pname, "server_max_window_bits"):
			// RFC 7692 §7.1.2.1: a value 8..15 is required.
			bit = paramServerBits
			b, ok := windowBits(val)
			if !hasValue || !ok {
				return o, true, false
			}
			o.serverBits = b
		case ascii.EqualFold(pname, "client_max_window_bits"):
			// RFC 7692 §7.1.2.2: the value is optional in an offer and
			// required in a response.
			bit = paramClientBits
			if !hasValue {
				if response {
					return o, true, false
				}
				o.clientBitsNoValue = true
				break
			}
			b, ok := windowBits(val)
			if !ok {
				return o, true, false
			}
			o.clientBits = b
		default:
			// RFC 7692 §7: unknown parameter, decline.
			return o, true, false
		}
		// RFC 7692 §7: a parameter given twice, decline.
		if seen&bit != 0 {
			return o, true, false
		}
		seen |= bit
	}
	return o, true, true
}

// paramValue returns a parameter value as a token, unquoting a
// quoted-string (RFC 6455 §9.1: the unquoted value must be a token). The
// unquoted form is appended to buf; values longer than cap(buf) are
// rejected since no permessage-deflate value is that long.
func paramValue(raw []byte, buf []byte) ([]byte, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	if raw[0] != '"' {
		return raw, ascii.IsToken(raw)
	}
	if len(raw) < 2 || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '\\' {
			i++
			if i == len(inner) {
				return nil, false
			}
			c = inner[i]
		} else if c == '"' {
			return nil, false
		}
		if len(buf) == cap(buf) {
			return nil, false
		}
		buf = append(buf, c)
	}
	return buf, ascii.IsToken(buf)
}

// windowBits parses 8..15 written as a plain decimal without leading zeros.
func windowBits(v []byte) (int, bool) {
	switch {
	case len(v) == 1 && (v[0] == '8' || v[0] == '9'):
		return int(v[0] - '0'), true
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + int(v[1]-'0'), true
	}
	return 0, false
}
