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
//		// p.Method(), p.Path(), p.Header("Accept")... alias buf;
//		// the body starts at buf[n:]
//	}
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
package http
