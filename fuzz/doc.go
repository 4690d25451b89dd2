// Package fuzz holds cross-package fuzz harnesses. It has no code of its
// own: the targets are in its test files and their corpora in testdata/fuzz.
//
// FuzzDifferential feeds the same bytes to codec/http's Parser and to Go's
// net/http.ReadRequest. When both accept a request head, they must agree on
// the method, the raw request-target, the protocol version, the header
// fields (names canonicalised, values in order), Host, the content length,
// chunked-ness and keep-alive; for a chunked body both decoders must produce
// the same bytes when both succeed. Inputs that only one side accepts are
// not compared.
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
//   - request-targets that are not valid URLs by net/url's rules (for example
//     a '%' not followed by two hex digits in some positions, or a target
//     that is neither origin-form, absolute-form nor authority-form): the
//     parser only checks the character set and leaves the target to the
//     router.
//
// Differences in presentation, normalised by the harness before comparing:
//
//   - ContentLength: evhttpd reports -1 for a request without a length;
//     net/http reports 0.
//   - Host: for an absolute-form target net/http takes the URL's host;
//     evhttpd reports the Host field. Compared only for other forms.
//   - net/http removes Host and Transfer-Encoding from the header map, keeps one of
//     several equal Content-Length fields, and adds "Cache-Control: no-cache"
//     when Pragma is "no-cache" and Cache-Control is absent.
package fuzz
