// Package http holds evhttpd's pure HTTP/1.1 codecs: an incremental request
// parser, a chunked-body decoder and the response writers. It does no I/O,
// imports only the standard library and allocates nothing on the hot path.
//
// # Request heads
//
// A Parser scans a request head (RFC 9112 §2-§6) out of whatever bytes the
// connection holds. It keeps its state and a scan offset between calls, so a
// head that arrives one byte at a time is still examined once:
//
//	var p http.Parser
//	p.Init(http.Limits{}) // zero fields take their defaults
//	n, err := p.ParseHead(buf)
//	switch {
//	case err == http.ErrNeedMore:
//		// keep buf, read more, call ParseHead again with buf+more
//	case err != nil:
//		e := err.(*http.Error) // answer e.Status; e.Close: close afterwards
//	default:
//		// p.Method(), p.Path(), p.EffectiveHost(), p.Header("Accept")...
//		// alias buf; the body starts at buf[n:]
//	}
//
// # Request targets and Host
//
// The request-target is classified when it ends (RFC 9112 §3.2), and
// Form reports which of the four forms it has. The method decides what is
// allowed; anything else is a 400 *Error:
//
//   - origin-form "/p?q": any method but CONNECT.
//   - absolute-form "http://host:port/p?q": any method but CONNECT; the
//     scheme must be http or https (case-insensitive; this server is no
//     proxy, ErrTargetScheme otherwise), the host non-empty, without
//     userinfo (RFC 9110 §4.2.4, ErrTargetUserinfo). Path and RawQuery
//     return the target's path and query ("/" when the path is empty), so a
//     server routes every form by Path; Target stays the raw target.
//   - authority-form "host:port": CONNECT only, and the port is required
//     (RFC 9110 §9.3.6).
//   - asterisk-form "*": OPTIONS only.
//
// ErrTargetForm answers a form the method does not take, ErrBadTarget a
// target of none of the forms or with an invalid authority. The Host field
// must be empty or a valid uri-host [ ":" port ] (RFC 3986 §3.2.2: a
// reg-name, an IPv4 address or a bracketed IPv6 or IPvFuture literal),
// without a comma, with a port of at most five digits and at most 65535,
// or the head fails with ErrBadHost; an absolute-form authority obeys the
// same rule. HTTP/1.1 needs exactly one Host field, whatever the target's
// form. EffectiveHost is the host the
// request is for: the target's authority (TargetAuthority) for absolute-
// and authority-form, which wins over Host (RFC 9112 §3.2.2, §3.3), and the
// Host field otherwise.
//
// The parser is strict where the RFCs let request smuggling in: a bare CR,
// obs-fold, whitespace before a colon, Content-Length and Transfer-Encoding
// together, conflicting lengths and any transfer coding but a single
// "chunked" are errors that close the connection. A bare LF is accepted as
// a line end in the head (RFC 9112 §2.2). Every rejection is a pre-allocated
// *Error carrying the status to answer with.
//
// # Chunked bodies
//
// A ChunkedDecoder removes the chunked framing (RFC 9112 §7.1) incrementally
// and can decode in place. Chunk framing is strict: CRLF only.
//
// # References
//
//   - RFC 9110, HTTP Semantics: https://www.rfc-editor.org/rfc/rfc9110
//   - RFC 9112, HTTP/1.1: https://www.rfc-editor.org/rfc/rfc9112
//   - RFC 3986, URI Generic Syntax (§3.2.2, host): https://www.rfc-editor.org/rfc/rfc3986
package http
