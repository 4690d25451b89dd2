// Package fuzz holds cross-package fuzz harnesses. It has no code of its
// own: the targets are in its test files and their corpora in testdata/fuzz.
//
// FuzzDifferential feeds the same bytes to codec/http's Parser and to Go's
// net/http.ReadRequest. When both accept a request head, they must agree on
// the method, the raw request-target, the protocol version, the header
// fields (names canonicalised, values in order), the host the request is for
// (EffectiveHost against req.Host), the path (percent-decoded) and raw query
// the server routes by, the content length, chunked-ness and keep-alive; for
// a chunked body both decoders must produce the same bytes when both
// succeed. Inputs that only one side accepts are not compared;
// TestDifferentialStricter pins the request-target and Host cases below.
//
// # Intentional disagreements
//
// Where net/http is more lenient, evhttpd rejects, and the harness does not
// compare. evhttpd answers 400 unless noted:
//
//   - one empty line before the request line: evhttpd skips it (RFC 9112
//     §2.2); net/http rejects the request.
//   - obs-fold: net/http joins the lines; evhttpd rejects.
//   - Content-Length and Transfer-Encoding together: net/http drops the
//     Content-Length; evhttpd rejects.
//   - Transfer-Encoding in an HTTP/1.0 request: net/http ignores the field;
//     evhttpd rejects.
//   - HTTP/1.1 without Host, or Expect other than 100-continue (417): net/http
//     leaves these to its Server; evhttpd's parser rejects them.
//   - HTTP/1.2 .. HTTP/9.9: net/http.ReadRequest parses them; evhttpd answers
//     505. "HTTP/1.10" and other multi-digit forms: both reject.
//   - request-target bytes >= 0x80: net/http's URL parser takes them;
//     evhttpd rejects (RFC 3986 allows ASCII only).
//   - request-target forms (RFC 9112 §3.2): net/http takes "*" and
//     "host:port" with any method, anything with a scheme ("ftp://h/",
//     "mailto:x") as an absolute or opaque URI, userinfo, empty hosts
//     ("http:///p", where it falls back to the Host field), ports of any
//     length, and CONNECT with a path (for net/rpc). evhttpd takes "*" with
//     OPTIONS only, authority-form with CONNECT only and with a port (RFC
//     9110 §9.3.6), CONNECT with authority-form only, and absolute-form with
//     an http or https scheme, a non-empty host, no userinfo (RFC 9110
//     §4.2.4) and a port of at most 65535.
//   - Host values: net/http.ReadRequest does not check them, and net/http's
//     Server only rejects bytes no host can hold, so it takes "a, b",
//     "a/b", "user@a" and "a:99999". evhttpd wants uri-host [ ":" port ]
//     (RFC 3986 §3.2.2) without ',', and no IPv6 zone identifier.
//   - a bare CR inside the head: evhttpd rejects outright.
//   - chunked framing: net/http trims whitespace after the chunk size, skips
//     chunk extensions without checking them and accepts bare LF line ends;
//     evhttpd checks the extension grammar and wants CRLF everywhere in the
//     framing and the trailer section.
//
// Where evhttpd is more lenient, net/http rejects:
//
//   - "Content-Length: 5, 5" and repeated fields whose values are equal as
//     numbers ("5" and "05") are one length to evhttpd (RFC 9110 §8.6);
//     net/http wants byte-equal values and no lists.
//   - request-targets whose path or query is not valid by net/url's rules
//     (for example a '%' not followed by two hex digits): the parser checks
//     the path and query only for their character set and leaves them to
//     the router.
//   - a Host field or an absolute-form authority with a pct-encoded
//     reg-name is taken by both, but net/url decodes it and evhttpd keeps
//     it as sent; such hosts are not compared.
//
// Differences in presentation, normalised by the harness before comparing:
//
//   - ContentLength: evhttpd reports -1 for a request without a length;
//     net/http reports 0.
//   - Host: both let the authority of an absolute-form or authority-form
//     target win over the Host field (req.Host, EffectiveHost); Host()
//     itself stays the field.
//   - Path: for "http://h" net/http's URL path is empty, evhttpd's Path is
//     "/" (RFC 9110 §4.2.3). net/http keeps a '#' and what follows in the
//     path; evhttpd ends the path and query there, so targets with a '#'
//     are not compared on path and query.
//   - net/http removes Host and Transfer-Encoding from the header map, keeps one of
//     several equal Content-Length fields, and adds "Cache-Control: no-cache"
//     when Pragma is "no-cache" and Cache-Control is absent.
package fuzz
