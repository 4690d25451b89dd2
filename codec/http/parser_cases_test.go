package http

import (
	"slices"
	"strings"

	"github.com/evhttpd/httpd/internal/testreqs"
)

// headCase is one request head and what ParseHead must make of it. want
// lists result items (see headResult) that must appear; n is the expected
// head length when it is not the whole input.
type headCase struct {
	name string
	in   string
	lim  Limits
	err  error
	n    int
	want []string
}

// get returns an HTTP/1.1 GET of / with Host: a and the given field lines.
func get(fields ...string) string {
	return "GET / HTTP/1.1\r\nHost: a\r\n" + lines(fields...)
}

// post returns an HTTP/1.1 POST of /p with Host: a and the given field lines.
func post(fields ...string) string {
	return "POST /p HTTP/1.1\r\nHost: a\r\n" + lines(fields...)
}

// get10 returns an HTTP/1.0 GET of / with the given field lines.
func get10(fields ...string) string {
	return "GET / HTTP/1.0\r\n" + lines(fields...)
}

func lines(fields ...string) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// line returns a request line of exactly n bytes (without CRLF) for GET.
func line(n int) string {
	return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1"
}

// headCases is every table case: the ones below and those of
// parser_target_test.go.
var headCases = slices.Concat(baseHeadCases, hostHeadCases(), targetHeadCases())

var baseHeadCases = []headCase{
	// Captured requests.
	{name: "wrk", in: testreqs.Wrk49, want: []string{"method=GET", "target=/plaintext", "path=/plaintext", "query=<nil>", "minor=1", "cl=-1", "chunked=false", "keep=true", "host=localhost:8080", "hdrs=1", "hdr0=Host: localhost:8080"}},
	{name: "curl", in: testreqs.Curl, want: []string{"method=GET", "target=/", "hdrs=3", "hdr1=User-Agent: curl/8.5.0", "hdr2=Accept: */*", "keep=true", "upgrade=<nil>"}},
	{name: "hdr219", in: testreqs.Hdr219, want: []string{"target=/items?id=42", "path=/items", "query=id=42", "hdrs=10", "hdr9=Pragma: no-cache", "host=example.com", "keep=true"}},
	{name: "chrome", in: testreqs.Browser700, want: []string{"target=/index.html", "hdrs=15", "hdr3=sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"", "hdr14=Accept-Language: en-US,en;q=0.9", "keep=true"}},
	{name: "firefox", in: testreqs.Firefox, want: []string{"hdrs=12", "hdr11=Priority: u=1", "host=localhost:8080"}},
	{name: "chunked post", in: testreqs.ChunkedPost, n: len(testreqs.ChunkedPostHead), want: []string{"method=POST", "target=/upload", "chunked=true", "cl=-1", "hdrs=5"}},
	{name: "pipelined", in: testreqs.Wrk49 + testreqs.Curl + testreqs.Wrk49, n: len(testreqs.Wrk49), want: []string{"target=/plaintext", "hdrs=1"}},
	{name: "GET with body then request", in: get("Content-Length: 10") + "GET / HTTP/1.1\r\n\r\n" + testreqs.Wrk49, n: len(get("Content-Length: 10")), want: []string{"cl=10", "method=GET"}},
	{name: "websocket handshake", in: "GET /ws HTTP/1.1\r\nHost: localhost:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", want: []string{"upgrade=websocket", "keep=true", "hdr4=Sec-WebSocket-Version: 13"}},
	{name: "http10 ab", in: "GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n", want: []string{"minor=0", "keep=false"}},

	// Request line (RFC 9112 §3).
	{name: "minimal 1.1", in: get(), want: []string{"method=GET", "target=/", "minor=1", "hdrs=1"}},
	{name: "minimal 1.0", in: "GET / HTTP/1.0\r\n\r\n", want: []string{"minor=0", "hdrs=0", "host=<nil>"}},
	{name: "method lower-case", in: "get / HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"method=get"}},
	{name: "method M-SEARCH", in: "M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"method=M-SEARCH", "target=/"}},
	{name: "method all tchar", in: "!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"method=!#$%&'*+-.^_`|~09azAZ"}},
	{name: "method paren", in: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method NUL", in: "G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method DEL", in: "\x7fGET / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method obs-text", in: "G\xc3\x89T / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method colon", in: "GET: / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method brace", in: "GET{} / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method slash", in: "/GET / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "method quote", in: "\"GET\" / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrMethod},
	{name: "leading space", in: " GET / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "method tab", in: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "double space after method", in: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "double space after target", in: "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "trailing space", in: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "trailing tab", in: "GET / HTTP/1.1\t\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "tabs as separators", in: "GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "tab after target", in: "GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "four parts", in: "GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "space in target", in: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "no version", in: "GET /\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "no version bare LF", in: "GET /\n\n", err: ErrBadRequestLine},
	{name: "method only", in: "GET\r\n\r\n", err: ErrBadRequestLine},
	{name: "empty version", in: "GET / \r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "two empty lines first", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},
	{name: "one empty line first", in: "\r\n" + get(), want: []string{"method=GET", "target=/"}},
	{name: "one bare LF line first", in: "\n" + get(), want: []string{"method=GET"}},
	{name: "bare CR first", in: "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBareCR},
	{name: "only CRLF", in: "\r\n", err: ErrNeedMore},
	{name: "empty", in: "", err: ErrNeedMore},
	{name: "partial method", in: "GET", err: ErrNeedMore},
	{name: "partial line CR", in: "GET / HTTP/1.1\r", err: ErrNeedMore},
	{name: "partial head", in: "GET / HTTP/1.1\r\nHost: a\r\n", err: ErrNeedMore},
	{name: "partial final CR", in: "GET / HTTP/1.1\r\nHost: a\r\n\r", err: ErrNeedMore},

	// Request target.
	{name: "target asterisk", in: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"target=*", "path=*", "form=asterisk-form", "authority=<nil>", "ehost=a"}},
	{name: "target absolute", in: "GET http://a.example/x/y?z=1 HTTP/1.1\r\nHost: a.example\r\n\r\n", want: []string{"target=http://a.example/x/y?z=1", "path=/x/y", "query=z=1", "form=absolute-form", "authority=a.example"}},
	{name: "target authority", in: "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", want: []string{"method=CONNECT", "target=a.example:443", "path=a.example:443", "query=<nil>", "form=authority-form", "authority=a.example:443"}},
	{name: "target empty query", in: "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query="}},
	{name: "target query", in: "GET /p?a=1&b=%20 HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query=a=1&b=%20"}},
	{name: "target fragment", in: "GET /p#f HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query=<nil>"}},
	{name: "target query fragment", in: "GET /p?q#f HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query=q"}},
	{name: "target question in fragment", in: "GET /p#f?x HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query=<nil>"}},
	{name: "target two questions", in: "GET /p?a?b HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/p", "query=a?b"}},
	{name: "target percent", in: "GET /%7E%20x HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/%7E%20x"}},
	{name: "target all visible", in: "GET /!\"$&'()*+,-.:;<=>@[\\]^_`{|}~ HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/!\"$&'()*+,-.:;<=>@[\\]^_`{|}~"}},
	{name: "target long 8 bytes words", in: "GET /abcdefghijklmnopqrstuvwxyz0123456789/abcdefghijklmnop HTTP/1.1\r\nHost: a\r\n\r\n", want: []string{"path=/abcdefghijklmnopqrstuvwxyz0123456789/abcdefghijklmnop"}},
	{name: "target CTL", in: "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadTarget},
	{name: "target NUL", in: "GET /abcdefgh\x00 HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadTarget},
	{name: "target DEL", in: "GET /abcdefghij\x7f HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadTarget},
	{name: "target obs-text", in: "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadTarget},
	{name: "target 0x80 in a word", in: "GET /abcdefghijklmno\x80pq HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadTarget},
	{name: "target bare CR", in: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", err: ErrBadRequestLine},

	// Versions (RFC 9112 §2.3).
	{name: "HTTP/2.0", in: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "HTTP/3.0", in: "GET / HTTP/3.0\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "HTTP/1.2", in: "GET / HTTP/1.2\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "HTTP/1.9", in: "GET / HTTP/1.9\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "HTTP/0.9", in: "GET / HTTP/0.9\r\nHost: a\r\n\r\n", err: ErrVersion},
	{name: "HTTP/9.9", in: "GET / HTTP/9.9\r\n\r\n", err: ErrVersion},
	{name: "HTTP/1.10", in: "GET / HTTP/1.10\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTP/01.1", in: "GET / HTTP/01.1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTP/1", in: "GET / HTTP/1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "http/1.1", in: "GET / http/1.1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "Http/1.1", in: "GET / Http/1.1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTP/1.a", in: "GET / HTTP/1.a\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTP/1,1", in: "GET / HTTP/1,1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTP1.1", in: "GET / HTTP1.1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "HTTPS/1.1", in: "GET / HTTPS/1.1\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "version CTL", in: "GET / HTTP/1.1\x01\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "version obs-text", in: "GET / HTTP/1.\xb9\r\nHost: a\r\n\r\n", err: ErrBadVersion},
	{name: "version bare CR", in: "GET / HTTP/1.1\rHost: a\r\n\r\n", err: ErrBareCR},

	// Line ends (RFC 9112 §2.2).
	{name: "bare LF everywhere", in: "GET / HTTP/1.1\nHost: a\nX: y\n\n", want: []string{"hdrs=2", "hdr1=X: y"}},
	{name: "bare LF mixed", in: "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\n", want: []string{"hdrs=2", "host=a"}},
	{name: "bare LF final only", in: "GET / HTTP/1.1\r\nHost: a\r\n\n", want: []string{"hdrs=1"}},
	{name: "bare CR in value", in: get("X: a\rb"), err: ErrBareCR},
	{name: "bare CR ends value", in: "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", err: ErrBareCR},
	{name: "bare CR final line", in: "GET / HTTP/1.1\r\nHost: a\r\n\rX", err: ErrBareCR},
	{name: "CR CR LF", in: "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", err: ErrBareCR},
	{name: "bare CR in name", in: get("X\r: b"), err: ErrBadHeaderName},

	// Field names (RFC 9110 §5.1, RFC 9112 §5.1).
	{name: "name empty", in: get(": v"), err: ErrBadHeaderName},
	{name: "name SP before colon", in: get("Transfer-Encoding : chunked"), err: ErrBadHeaderName},
	{name: "name HT before colon", in: get("Content-Length\t: 5"), err: ErrBadHeaderName},
	{name: "name with SP", in: get("X Y: z"), err: ErrBadHeaderName},
	{name: "name NUL", in: get("X\x00: z"), err: ErrBadHeaderName},
	{name: "name DEL", in: get("X\x7f: z"), err: ErrBadHeaderName},
	{name: "name obs-text", in: get("X\xe9: z"), err: ErrBadHeaderName},
	{name: "name no colon", in: get("NoColon"), err: ErrBadHeaderName},
	{name: "name no colon bare LF", in: "GET / HTTP/1.1\nHost: a\nNoColon\n\n", err: ErrBadHeaderName},
	{name: "name separator", in: get("(X): z"), err: ErrBadHeaderName},
	{name: "name slash", in: get("X/Y: z"), err: ErrBadHeaderName},
	{name: "name brace", in: get("X{: z"), err: ErrBadHeaderName},
	{name: "name all tchar", in: get("!#$%&'*+-.^_`|~09azAZ: v"), want: []string{"hdr1=!#$%&'*+-.^_`|~09azAZ: v"}},
	{name: "name long", in: get("X-Very-Long-Header-Name-With-Many-Words-In-It-0123456789: v"), want: []string{"hdr1=X-Very-Long-Header-Name-With-Many-Words-In-It-0123456789: v"}},
	{name: "colon in value", in: get("X: a:b: c"), want: []string{"hdr1=X: a:b: c"}},

	// Field values (RFC 9110 §5.5).
	{name: "value empty", in: get("X:"), want: []string{"hdr1=X: "}},
	{name: "value only OWS", in: get("X: \t "), want: []string{"hdr1=X: "}},
	{name: "value OWS trimmed", in: get("X: \t a b \t "), want: []string{"hdr1=X: a b"}},
	{name: "value no OWS", in: get("X:v"), want: []string{"hdr1=X: v"}},
	{name: "value inner HT", in: get("X: a\tb"), want: []string{"hdr1=X: a\tb"}},
	{name: "value HT in word", in: get("X: abcdefgh\tijklmnopqrstuv"), want: []string{"hdr1=X: abcdefgh\tijklmnopqrstuv"}},
	{name: "value obs-text", in: get("X: caf\xc3\xa9 \x80\xff"), want: []string{"hdr1=X: caf\xc3\xa9 \x80\xff"}},
	{name: "value long obs-text", in: get("X: " + strings.Repeat("\xfe\x80", 20)), want: []string{"hdr1=X: " + strings.Repeat("\xfe\x80", 20)}},
	{name: "value NUL", in: get("X: a\x00b"), err: ErrBadHeaderValue},
	{name: "value NUL in word", in: get("X: abcdefghij\x00klmnopqr"), err: ErrBadHeaderValue},
	{name: "value SOH", in: get("X: \x01"), err: ErrBadHeaderValue},
	{name: "value VT", in: get("X: a\x0bb"), err: ErrBadHeaderValue},
	{name: "value ESC", in: get("X: a\x1b[0m"), err: ErrBadHeaderValue},
	{name: "value US", in: get("X: a\x1f"), err: ErrBadHeaderValue},
	{name: "value DEL", in: get("X: a\x7f"), err: ErrBadHeaderValue},
	{name: "value DEL in word", in: get("X: abcdefghijklm\x7fnopqrstu"), err: ErrBadHeaderValue},

	// obs-fold (RFC 9112 §5.2).
	{name: "obs-fold SP", in: get("X: a", " b"), err: ErrObsFold},
	{name: "obs-fold HT", in: get("X: a", "\tb"), err: ErrObsFold},
	{name: "space before first field", in: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", err: ErrObsFold},
	{name: "whitespace-only line", in: get(" "), err: ErrObsFold},

	// Host (RFC 9112 §3.2).
	{name: "no Host 1.1", in: "GET / HTTP/1.1\r\nX: y\r\n\r\n", err: ErrMissingHost},
	{name: "no fields 1.1", in: "GET / HTTP/1.1\r\n\r\n", err: ErrMissingHost},
	{name: "two Host", in: get("Host: a"), err: ErrDuplicateHost},
	{name: "two Host differing", in: get("host: b"), err: ErrDuplicateHost},
	{name: "Host empty", in: "GET / HTTP/1.1\r\nHost:\r\n\r\n", want: []string{"host="}},
	{name: "Host case", in: "GET / HTTP/1.1\r\nhOsT: x.example\r\n\r\n", want: []string{"host=x.example"}},
	{name: "Host 1.0", in: get10("Host: h"), want: []string{"host=h", "minor=0"}},
	{name: "Host with port and v6", in: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", want: []string{"host=[::1]:8080"}},
	{name: "Host lookalike name", in: get("Hosts: b", "Hos: c"), want: []string{"host=a", "hdrs=3"}},

	// Content-Length (RFC 9112 §6.3, RFC 9110 §8.6).
	{name: "CL 5", in: post("Content-Length: 5"), want: []string{"cl=5", "chunked=false"}},
	{name: "CL 0", in: post("Content-Length: 0"), want: []string{"cl=0"}},
	{name: "CL 007", in: post("Content-Length: 007"), want: []string{"cl=7"}},
	{name: "CL OWS", in: post("Content-Length: \t 12 \t"), want: []string{"cl=12"}},
	{name: "CL list equal", in: post("Content-Length: 5, 5"), want: []string{"cl=5"}},
	{name: "CL list equal no space", in: post("Content-Length: 5,5,5"), want: []string{"cl=5"}},
	{name: "CL list differing", in: post("Content-Length: 5, 6"), err: ErrConflictingLength},
	{name: "CL two fields equal", in: post("Content-Length: 5", "content-length: 5"), want: []string{"cl=5"}},
	{name: "CL two fields 5 and 05", in: post("Content-Length: 5", "Content-Length: 05"), want: []string{"cl=5"}},
	{name: "CL two fields differing", in: post("Content-Length: 5", "Content-Length: 6"), err: ErrConflictingLength},
	{name: "CL plus", in: post("Content-Length: +5"), err: ErrContentLength},
	{name: "CL minus", in: post("Content-Length: -5"), err: ErrContentLength},
	{name: "CL hex", in: post("Content-Length: 0x5"), err: ErrContentLength},
	{name: "CL underscore", in: post("Content-Length: 5_0"), err: ErrContentLength},
	{name: "CL letter", in: post("Content-Length: 1Z"), err: ErrContentLength},
	{name: "CL empty", in: post("Content-Length:"), err: ErrContentLength},
	{name: "CL spaces only", in: post("Content-Length:   "), err: ErrContentLength},
	{name: "CL inner space", in: post("Content-Length: 5 5"), err: ErrContentLength},
	{name: "CL trailing comma", in: post("Content-Length: 5,"), err: ErrContentLength},
	{name: "CL leading comma", in: post("Content-Length: ,5"), err: ErrContentLength},
	{name: "CL decimal point", in: post("Content-Length: 5.0"), err: ErrContentLength},
	{name: "CL max int64", in: post("Content-Length: 9223372036854775807"), lim: Limits{MaxBodySize: 1<<63 - 1}, want: []string{"cl=9223372036854775807"}},
	{name: "CL 2^63", in: post("Content-Length: 9223372036854775808"), lim: Limits{MaxBodySize: 1<<63 - 1}, err: ErrContentLength},
	{name: "CL 20 digits", in: post("Content-Length: 99999999999999999999"), err: ErrContentLength},
	{name: "CL huge with zeros", in: post("Content-Length: 000000000000000000000000000042"), want: []string{"cl=42"}},
	{name: "CL over body limit", in: post("Content-Length: 8388609"), err: ErrBodyTooLarge},
	{name: "CL at body limit", in: post("Content-Length: 8388608"), want: []string{"cl=8388608"}},
	{name: "CL over custom limit", in: post("Content-Length: 11"), lim: Limits{MaxBodySize: 10}, err: ErrBodyTooLarge},
	{name: "CL lookalike name", in: post("Content-Lengths: x", "Content-Lengt: y"), want: []string{"cl=-1"}},

	// Transfer-Encoding (RFC 9112 §6.1).
	{name: "TE chunked", in: post("Transfer-Encoding: chunked"), want: []string{"chunked=true", "cl=-1"}},
	{name: "TE Chunked", in: post("transfer-encoding: Chunked"), want: []string{"chunked=true"}},
	{name: "TE CHUNKED OWS", in: post("Transfer-Encoding: \t CHUNKED \t"), want: []string{"chunked=true"}},
	{name: "TE gzip", in: post("Transfer-Encoding: gzip"), err: ErrUnsupportedTE},
	{name: "TE identity", in: post("Transfer-Encoding: identity"), err: ErrUnsupportedTE},
	{name: "TE xchunked", in: post("Transfer-Encoding: xchunked"), err: ErrUnsupportedTE},
	{name: "TE chunkedx", in: post("Transfer-Encoding: chunkedx"), err: ErrUnsupportedTE},
	{name: "TE quoted", in: post("Transfer-Encoding: \"chunked\""), err: ErrUnsupportedTE},
	{name: "TE with parameter", in: post("Transfer-Encoding: chunked;q=1"), err: ErrUnsupportedTE},
	{name: "TE gzip chunked", in: post("Transfer-Encoding: gzip, chunked"), err: ErrUnsupportedTE},
	{name: "TE chunked gzip", in: post("Transfer-Encoding: chunked, gzip"), err: ErrBadTE},
	{name: "TE chunked chunked", in: post("Transfer-Encoding: chunked, chunked"), err: ErrBadTE},
	{name: "TE chunked comma", in: post("Transfer-Encoding: chunked,"), err: ErrBadTE},
	{name: "TE comma chunked", in: post("Transfer-Encoding: ,chunked"), err: ErrBadTE},
	{name: "TE empty", in: post("Transfer-Encoding:"), err: ErrBadTE},
	{name: "TE two fields", in: post("Transfer-Encoding: chunked", "Transfer-Encoding: chunked"), err: ErrBadTE},
	{name: "TE two fields gzip first", in: post("Transfer-Encoding: gzip", "Transfer-Encoding: chunked"), err: ErrUnsupportedTE},
	{name: "TE HTTP/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrTEHTTP10},
	{name: "TE HTTP/1.0 gzip", in: "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", err: ErrTEHTTP10},
	{name: "CL then TE", in: post("Content-Length: 5", "Transfer-Encoding: chunked"), err: ErrCLAndTE},
	{name: "TE then CL", in: post("Transfer-Encoding: chunked", "Content-Length: 5"), err: ErrCLAndTE},
	{name: "TE then bad CL", in: post("Transfer-Encoding: chunked", "Content-Length: x"), err: ErrCLAndTE},
	{name: "TE lookalike name", in: post("Transfer-Encodings: chunked"), want: []string{"chunked=false"}},

	// Connection and Upgrade (RFC 9110 §7.6.1, §7.8; RFC 9112 §9.3).
	{name: "1.1 close", in: get("Connection: close"), want: []string{"keep=false"}},
	{name: "1.1 CLOSE", in: get("Connection: CLOSE"), want: []string{"keep=false"}},
	{name: "1.1 close in list", in: get("Connection: keep-alive, close"), want: []string{"keep=false"}},
	{name: "1.1 close second field", in: get("Connection: keep-alive", "Connection: te, close"), want: []string{"keep=false"}},
	{name: "1.1 closed is not close", in: get("Connection: closed"), want: []string{"keep=true"}},
	{name: "1.1 keep-alive", in: get("Connection: keep-alive"), want: []string{"keep=true"}},
	{name: "1.0 default", in: get10(), want: []string{"keep=false"}},
	{name: "1.0 keep-alive", in: get10("Connection: Keep-Alive"), want: []string{"keep=true"}},
	{name: "1.0 keep-alive list", in: get10("Connection: foo , keep-alive"), want: []string{"keep=true"}},
	{name: "1.0 keep-alive and close", in: get10("Connection: keep-alive, close"), want: []string{"keep=false"}},
	{name: "upgrade", in: get("Connection: Upgrade", "Upgrade: websocket"), want: []string{"upgrade=websocket"}},
	{name: "upgrade list", in: get("Upgrade: h2c, websocket", "Connection: keep-alive, upgrade"), want: []string{"upgrade=h2c, websocket", "keep=true"}},
	{name: "upgrade without connection token", in: get("Upgrade: websocket"), want: []string{"upgrade=<nil>"}},
	{name: "upgrade token without field", in: get("Connection: upgrade"), want: []string{"upgrade=<nil>"}},
	{name: "upgrade first of two", in: get("Connection: upgrade", "Upgrade: a", "Upgrade: b"), want: []string{"upgrade=a"}},

	// Expect (RFC 9110 §10.1.1).
	{name: "expect 100-continue", in: post("Content-Length: 5", "Expect: 100-continue"), want: []string{"expect=true", "cl=5"}},
	{name: "expect case", in: post("expect: 100-Continue"), want: []string{"expect=true"}},
	{name: "expect OWS", in: post("Expect:  100-CONTINUE\t"), want: []string{"expect=true"}},
	{name: "expect absent", in: post(), want: []string{"expect=false"}},
	{name: "expect other", in: post("Expect: foo"), err: ErrExpectation},
	{name: "expect 200-ok", in: post("Expect: 200-ok"), err: ErrExpectation},
	{name: "expect list", in: post("Expect: 100-continue, foo"), err: ErrExpectation},
	{name: "expect empty", in: post("Expect:"), err: ErrExpectation},
	{name: "expect 100-continuex", in: post("Expect: 100-continuex"), err: ErrExpectation},

	// Limits.
	{name: "request line at limit", in: line(100) + "\r\nHost: a\r\n\r\n", lim: Limits{MaxRequestLine: 100}, want: []string{"method=GET"}},
	{name: "request line at limit bare LF", in: line(100) + "\nHost: a\n\n", lim: Limits{MaxRequestLine: 100}, want: []string{"method=GET"}},
	{name: "request line over limit", in: line(101) + "\r\nHost: a\r\n\r\n", lim: Limits{MaxRequestLine: 100}, err: ErrURITooLong},
	{name: "request line over limit no LF", in: line(101), lim: Limits{MaxRequestLine: 100}, err: ErrURITooLong},
	{name: "method over limit", in: strings.Repeat("G", 101), lim: Limits{MaxRequestLine: 100}, err: ErrURITooLong},
	{name: "method at limit then CR", in: strings.Repeat("G", 100) + "\r\n", lim: Limits{MaxRequestLine: 100}, err: ErrBadRequestLine},
	{name: "method fills limit then SP", in: strings.Repeat("G", 10) + " / HTTP/1.1\r\n\r\n", lim: Limits{MaxRequestLine: 10}, err: ErrURITooLong},
	{name: "target fills limit then SP", in: "GET /23456 HTTP/1.1\r\n\r\n", lim: Limits{MaxRequestLine: 10}, err: ErrURITooLong},
	{name: "version crosses limit", in: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", lim: Limits{MaxRequestLine: 13}, err: ErrURITooLong},
	{name: "target over limit", in: "GET /" + strings.Repeat("a", 200), lim: Limits{MaxRequestLine: 100}, err: ErrURITooLong},
	{name: "fields at byte limit", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 123456\r\n\r\n", lim: Limits{MaxHeaderBytes: 20}, want: []string{"hdrs=2", "hdr1=X: 123456"}},
	{name: "fields at byte limit bare LF", in: "GET / HTTP/1.1\r\nHost: a\nX: 12345678\n\r\n", lim: Limits{MaxHeaderBytes: 20}, want: []string{"hdrs=2"}},
	{name: "fields over byte limit by LF", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 1234567\r\n\r\n", lim: Limits{MaxHeaderBytes: 20}, err: ErrHeaderTooLarge},
	{name: "fields over byte limit by CR", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 12345678\r\n\r\n", lim: Limits{MaxHeaderBytes: 20}, err: ErrHeaderTooLarge},
	{name: "fields over byte limit in name", in: "GET / HTTP/1.1\r\nHost: a\r\nXXXXXXXXXXXXXXXX", lim: Limits{MaxHeaderBytes: 20}, err: ErrHeaderTooLarge},
	{name: "fields over byte limit new line", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 123456\r\nY", lim: Limits{MaxHeaderBytes: 20}, err: ErrHeaderTooLarge},
	{name: "fields over byte limit bad byte first", in: "GET / HTTP/1.1\r\nHost: a\r\nX: 1234\x00", lim: Limits{MaxHeaderBytes: 20}, err: ErrBadHeaderValue},
	{name: "field count at limit", in: get("A: 1", "B: 2"), lim: Limits{MaxHeaders: 3}, want: []string{"hdrs=3"}},
	{name: "field count over limit", in: get("A: 1", "B: 2", "C: 3"), lim: Limits{MaxHeaders: 3}, err: ErrTooManyHeaders},
	{name: "field count over limit early", in: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC", lim: Limits{MaxHeaders: 3}, err: ErrTooManyHeaders},
	{name: "field count cap", in: "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("a:b\r\n", 255) + "\r\n", lim: Limits{MaxHeaders: 1000}, want: []string{"hdrs=256", "hdr255=a: b"}},
	{name: "field count over cap", in: "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("a:b\r\n", 256) + "\r\n", lim: Limits{MaxHeaders: 1000}, err: ErrTooManyHeaders},
}
