package http

import "bytes"

// TargetForm is the form of a request-target (RFC 9112 §3.2). The zero
// value means no complete head.
type TargetForm uint8

const (
	// OriginForm is an absolute path and an optional query, "/p?q" (RFC
	// 9112 §3.2.1), with any method but CONNECT.
	OriginForm TargetForm = iota + 1
	// AbsoluteForm is an http or https URI, "http://host:8080/p?q" (RFC
	// 9112 §3.2.2), with any method but CONNECT. Its authority wins over
	// the Host field; Path and RawQuery return its path and query.
	AbsoluteForm
	// AuthorityForm is "host:port" (RFC 9112 §3.2.3), with CONNECT only.
	AuthorityForm
	// AsteriskForm is "*" (RFC 9112 §3.2.4), with OPTIONS only.
	AsteriskForm
)

var targetFormNames = [...]string{
	0:             "none",
	OriginForm:    "origin-form",
	AbsoluteForm:  "absolute-form",
	AuthorityForm: "authority-form",
	AsteriskForm:  "asterisk-form",
}

// String returns the RFC 9112 name of the form, "origin-form" and so on.
func (f TargetForm) String() string {
	if int(f) < len(targetFormNames) {
		return targetFormNames[f]
	}
	return "TargetForm(?)"
}

// classifyTarget decides the form of the request-target that ends at
// targetEnd and checks that the method allows it (RFC 9112 §3.2). It runs
// once per request, when the byte after the target arrives, and examines
// the target's bytes once more: the authority of an absolute-form target,
// or up to the whole target when it is none of the four forms; a request
// line is bounded by MaxRequestLine. ParseHead handles the common
// origin-form case inline.
func (p *Parser) classifyTarget(b []byte) *Error {
	s := &p.st
	t := b[s.methodEnd+1 : s.targetEnd]
	method := b[s.methodStart:s.methodEnd]
	// Methods are case-sensitive (RFC 9110 §9.1): "connect" is not CONNECT.
	if string(method) == "CONNECT" {
		// RFC 9112 §3.2.3: CONNECT takes authority-form only, and RFC
		// 9110 §9.3.6: the port is required, there is no default.
		if !validHostPort(t, true) {
			if c := schemeEnd(t); t[0] == '/' || string(t) == "*" ||
				c > 0 && len(t) > c+2 && t[c+1] == '/' && t[c+2] == '/' {
				return ErrTargetForm // origin-, asterisk- or absolute-form
			}
			return ErrBadTarget
		}
		s.form = AuthorityForm
		s.authStart, s.authEnd = 0, uint16(len(t))
		return nil
	}
	switch {
	case t[0] == '/':
		s.form = OriginForm
		return nil
	case len(t) == 1 && t[0] == '*':
		// RFC 9112 §3.2.4: the asterisk-form is for a server-wide
		// OPTIONS only.
		if string(method) != "OPTIONS" {
			return ErrTargetForm
		}
		s.form = AsteriskForm
		return nil
	case validHostPort(t, true):
		// "host:port" is authority-form, which belongs to CONNECT. (It
		// also parses as an absolute-URI whose scheme is the host; RFC
		// 9112 §3.2.3 says which reading a request line means.)
		return ErrTargetForm
	}
	// absolute-form (RFC 9112 §3.2.2). Only http and https URIs are
	// served: an origin server has no use for other schemes, and a server
	// that is no proxy cannot act on them (RFC 9110 §4.2).
	c := schemeEnd(t)
	if c < 0 {
		return ErrBadTarget
	}
	if !foldEq(t[:c], "http") && !foldEq(t[:c], "https") {
		return ErrTargetScheme
	}
	// RFC 9110 §4.2.1: an http(s) URI has "//" authority.
	a := c + 3
	if len(t) < a || t[c+1] != '/' || t[c+2] != '/' {
		return ErrBadTarget
	}
	e := a
	for e < len(t) && t[e] != '/' && t[e] != '?' && t[e] != '#' {
		e++
	}
	auth := t[a:e]
	// RFC 9110 §4.2.4: a sender must not put userinfo in an http(s) URI
	// (it leaks credentials and is the usual way to disguise the host,
	// "http://trusted.example@evil.example/").
	if bytes.IndexByte(auth, '@') >= 0 {
		return ErrTargetUserinfo
	}
	// RFC 9110 §4.2.1: the host must not be empty.
	if !validHostPort(auth, false) {
		return ErrBadTarget
	}
	s.form = AbsoluteForm
	s.authStart, s.authEnd = uint16(a), uint16(e)
	return nil
}

// schemeEnd returns the index of the ':' that ends the scheme at the start
// of t (RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or -1
// when t does not start with one.
func schemeEnd(t []byte) int {
	for i, c := range t {
		switch {
		case c|0x20 >= 'a' && c|0x20 <= 'z':
		case i > 0 && (c-'0' <= 9 || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}

// validHostPort reports whether v is uri-host [ ":" port ] (RFC 3986
// §3.2.2, §3.2.3; RFC 9110 §7.2 for Host), the rule for the Host field and
// for the authority of a request-target:
//
//   - host is an IP-literal in brackets, an IPv6 address ("[::1]") or an
//     IPvFuture ("[v1.x]"), or a reg-name: unreserved, pct-encoded and
//     sub-delims bytes, which covers IPv4 addresses ("127.0.0.1") and a
//     trailing dot ("example.com."). It must not be empty (RFC 9110
//     §4.2.1). IPv6 zone identifiers (RFC 6874) are not accepted.
//   - ',' is rejected although it is a sub-delim: an intermediary that
//     meets two Host fields may join them into one with a comma (RFC 9110
//     §5.3), so "a, b" is the trace of a request that carried two hosts,
//     and servers that split it differently route it to different places.
//     SP and HT are no host bytes either ("Host: a b/c").
//   - port is decimal digits, at most 5 and at most 65535; leading zeros
//     are allowed ("00080" is 80). The port may be empty ("host:", RFC
//     3986 §3.2.3) unless needPort is set: CONNECT's authority-form
//     requires one (RFC 9110 §9.3.6).
//
// A reg-name is not checked against DNS rules: "1.2.3.999" and "a..b" are
// valid reg-names, and names are compared by the router, not resolved here.
func validHostPort(v []byte, needPort bool) bool {
	i := 0
	if len(v) > 0 && v[0] == '[' {
		j := bytes.IndexByte(v, ']')
		if j < 0 || !validIPLiteral(v[1:j]) {
			return false
		}
		i = j + 1
	} else {
		i = scanHost(v, 0)
		for i+2 < len(v) && v[i] == '%' && parseClass[v[i+1]]&parseClass[v[i+2]]&classHex != 0 {
			i = scanHost(v, i+3) // pct-encoded (RFC 3986 §2.1)
		}
		if i == 0 {
			return false
		}
	}
	if i == len(v) {
		return !needPort
	}
	if v[i] != ':' {
		return false
	}
	port := v[i+1:]
	if len(port) == 0 {
		return !needPort
	}
	if len(port) > 5 {
		return false
	}
	for _, c := range port {
		if c-'0' > 9 {
			return false
		}
	}
	// Four digits are at most 9999; five compare as text.
	return len(port) < 5 || string(port) <= "65535"
}

// scanHost returns the index of the first byte at or after i that is not a
// reg-name byte other than '%' (classHost), or len(v); four independent
// table lookups per step, as scanToken.
func scanHost(v []byte, i int) int {
	for ; i+4 <= len(v); i += 4 {
		q := v[i : i+4 : i+4]
		if parseClass[q[0]]&parseClass[q[1]]&parseClass[q[2]]&parseClass[q[3]]&classHost == 0 {
			break
		}
	}
	for i < len(v) && parseClass[v[i]]&classHost != 0 {
		i++
	}
	return i
}

// validIPLiteral reports whether v, the text between '[' and ']', is an
// IPv6address or an IPvFuture (RFC 3986 §3.2.2). IPvFuture is "v" 1*HEXDIG
// "." 1*( unreserved / sub-delims / ":" ), without ',' (see validHostPort).
func validIPLiteral(v []byte) bool {
	if len(v) > 0 && v[0]|0x20 == 'v' {
		i := 1
		for i < len(v) && parseClass[v[i]]&classHex != 0 {
			i++
		}
		if i == 1 || i+1 >= len(v) || v[i] != '.' {
			return false
		}
		for _, c := range v[i+1:] {
			if parseClass[c]&classHost == 0 && c != ':' {
				return false
			}
		}
		return true
	}
	return validIPv6(v)
}

// validIPv6 reports whether v is an IPv6address (RFC 3986 §3.2.2, RFC 4291
// §2.2): eight groups of 1-4 hex digits separated by ':', one "::" standing
// for one or more zero groups, and the last two groups optionally written
// as a dotted IPv4 address.
func validIPv6(v []byte) bool {
	groups := 0
	ellipsis := false
	i := 0
	if len(v) >= 2 && v[0] == ':' && v[1] == ':' {
		ellipsis = true
		i = 2
	}
	for i < len(v) {
		j := i
		for j < len(v) && j-i < 4 && parseClass[v[j]]&classHex != 0 {
			j++
		}
		if j == i {
			return false
		}
		if j < len(v) && v[j] == '.' {
			// ls32 written as an IPv4 address: the last 32 bits.
			if !validIPv4(v[i:]) {
				return false
			}
			groups += 2
			break
		}
		groups++
		i = j
		if i == len(v) {
			break
		}
		if v[i] != ':' || i+1 == len(v) {
			return false // another byte, a fifth hex digit, or a trailing ':'
		}
		i++
		if v[i] == ':' {
			if ellipsis {
				return false // "::" at most once
			}
			ellipsis = true
			i++
		}
		if groups > 8 {
			return false
		}
	}
	if ellipsis {
		return groups <= 7
	}
	return groups == 8
}

// validIPv4 reports whether v is an IPv4address (RFC 3986 §3.2.2): four
// dec-octets 0-255 separated by '.', without leading zeros.
func validIPv4(v []byte) bool {
	octets := 0
	for i := 0; ; {
		j := i
		n := 0
		for j < len(v) && j-i < 3 && v[j]-'0' <= 9 {
			n = n*10 + int(v[j]-'0')
			j++
		}
		if j == i || n > 255 || (v[i] == '0' && j-i > 1) {
			return false
		}
		octets++
		if j == len(v) {
			return octets == 4
		}
		if v[j] != '.' || octets == 4 {
			return false
		}
		i = j + 1
	}
}
