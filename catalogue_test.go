package httpd

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// catalogueCase is one row of docs/behaviour.md's HTTP sections, run end
// to end: the replies expected (status codes in order) and whether the
// server closes the session after them.
type catalogueCase struct {
	name   string
	in     string
	want   []int // statuses of the replies, in order
	either bool  // want lists the statuses allowed for a single reply
	closed bool
	method string // of the last request, for HEAD replies
	check  func(t *testing.T, replies []*http.Response)
}

const h11 = "Host: x\r\n"

func catalogueCases() []catalogueCase {
	post := func(extra, body string) string {
		return "POST /echo HTTP/1.1\r\n" + h11 + extra + "\r\n" + body
	}
	get := "GET /echo HTTP/1.1\r\n" + h11 + "\r\n"
	cases := []catalogueCase{
		// Framing (RFC 9112 §6, §7).
		{name: "CL and TE", in: post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "TE and CL", in: post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "two differing CL", in: post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), want: []int{400}, closed: true},
		{name: "CL list differing", in: post("Content-Length: 5, 6\r\n", "hello!"), want: []int{400}, closed: true},
		{name: "CL identical duplicates", in: post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), want: []int{200}},
		{name: "CL +5", in: post("Content-Length: +5\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL -5", in: post("Content-Length: -5\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL 0x5", in: post("Content-Length: 0x5\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL 5_0", in: post("Content-Length: 5_0\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL 1Z", in: post("Content-Length: 1Z\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL empty", in: post("Content-Length: \r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL over 2^63", in: post("Content-Length: 99999999999999999999\r\n", "hello"), want: []int{400}, closed: true},
		{name: "CL 007 is 7", in: post("Content-Length: 007\r\n", "1234567"), want: []int{200},
			check: wantBody(0, "1234567")},
		{name: "CL over the body limit", in: post("Content-Length: 2000000\r\n", "x"), want: []int{413}, closed: true},
		{name: "GET with a body then a request", in: "GET /echo HTTP/1.1\r\n" + h11 + "Content-Length: 10\r\n\r\nGET / HTTP" + get,
			want: []int{200, 200}, check: wantBody(0, "GET / HTTP")},
		{name: "TE gzip", in: post("Transfer-Encoding: gzip\r\n", ""), want: []int{501}, closed: true},
		{name: "TE identity", in: post("Transfer-Encoding: identity\r\n", ""), want: []int{501}, closed: true},
		{name: "TE xchunked", in: post("Transfer-Encoding: xchunked\r\n", ""), want: []int{501}, closed: true},
		{name: "TE quoted chunked", in: post("Transfer-Encoding: \"chunked\"\r\n", ""), want: []int{501}, closed: true},
		{name: "TE chunked, gzip", in: post("Transfer-Encoding: chunked, gzip\r\n", ""), want: []int{400, 501}, either: true, closed: true},
		{name: "TE chunked, chunked", in: post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), want: []int{400, 501}, either: true, closed: true},
		{name: "two TE fields", in: post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), want: []int{400, 501}, either: true, closed: true},
		{name: "TE on HTTP/1.0", in: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", want: []int{400}, closed: true},
		{name: "space before colon", in: post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "tab before colon", in: post("X-A\t: b\r\n", ""), want: []int{400}, closed: true},
		{name: "chunk size empty", in: post("Transfer-Encoding: chunked\r\n", "\r\nhello\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size 0x1", in: post("Transfer-Encoding: chunked\r\n", "0x1\r\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size +1", in: post("Transfer-Encoding: chunked\r\n", "+1\r\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size -1", in: post("Transfer-Encoding: chunked\r\n", "-1\r\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size 1_0", in: post("Transfer-Encoding: chunked\r\n", "1_0\r\naaaaaaaaaaaaaaaa\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size leading space", in: post("Transfer-Encoding: chunked\r\n", " 1\r\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk size 17 hex digits", in: post("Transfer-Encoding: chunked\r\n", "00000000000000001\r\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk data without CRLF", in: post("Transfer-Encoding: chunked\r\n", "1\r\naXX0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "bare LF in chunk size line", in: post("Transfer-Encoding: chunked\r\n", "1\na\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "bare CR in chunk size line", in: post("Transfer-Encoding: chunked\r\n", "1\ra\r\n0\r\n\r\n"), want: []int{400}, closed: true},
		{name: "chunk extensions", in: post("Transfer-Encoding: chunked\r\n", "5;a=b\r\nhello\r\n5 ;a=\"q s\"\r\nworld\r\n0\r\n\r\n"),
			want: []int{200}, check: wantBody(0, "helloworld")},
		{name: "trailers", in: post("Transfer-Encoding: chunked\r\n", "3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n") + get,
			want: []int{200, 200}, check: wantBody(0, "abc")},

		// Request line and fields (RFC 9112 §3, §5; RFC 9110 §5).
		{name: "method with (", in: "GE(T /echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "method with NUL", in: "GE\x00T /echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "unused token method", in: "FROB /echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{501}},
		{name: "405 lists Allow", in: "DELETE /echo HTTP/1.1\r\n" + h11 + "\r\n" + get, want: []int{405, 200},
			check: wantHeader(0, "Allow", "GET, HEAD, POST")},
		{name: "405 for PATCH", in: "PATCH /hdr HTTP/1.1\r\n" + h11 + "Content-Length: 3\r\n\r\nabc" + get, want: []int{405, 200},
			check: wantHeader(0, "Allow", "GET, HEAD")},
		{name: "405 for a method registered elsewhere", in: "BREW /echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{405}},
		{name: "HEAD served by the GET handler", in: "HEAD /hdr HTTP/1.1\r\n" + h11 + "X-A: 12345\r\n\r\n" + get,
			want: []int{200, 200}, method: "HEAD",
			check: func(t *testing.T, rs []*http.Response) {
				if rs[0].ContentLength != 5 || bodyOf(rs[0]) != "" {
					t.Errorf("HEAD: Content-Length %d, body %q; want 5 and none", rs[0].ContentLength, bodyOf(rs[0]))
				}
			}},
		{name: "HEAD of a chunked GET reply", in: "HEAD /chunks HTTP/1.1\r\n" + h11 + "\r\n" + get,
			want: []int{200, 200}, method: "HEAD",
			check: func(t *testing.T, rs []*http.Response) {
				if len(rs[0].TransferEncoding) != 1 || bodyOf(rs[0]) != "" {
					t.Errorf("HEAD: Transfer-Encoding %v, body %q; want chunked and none", rs[0].TransferEncoding, bodyOf(rs[0]))
				}
			}},
		{name: "double space", in: "GET  /echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "tab in request line", in: "GET\t/echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "trailing space", in: "GET /echo HTTP/1.1 \r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "one leading empty line", in: "\r\n" + get, want: []int{200}},
		{name: "HTTP/1.0", in: "GET /echo HTTP/1.0\r\n\r\n", want: []int{200}, closed: true},
		{name: "HTTP/1.0 keep-alive", in: "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + get, want: []int{200, 200}},
		{name: "HTTP/2.0", in: "GET /echo HTTP/2.0\r\n" + h11 + "\r\n", want: []int{505}, closed: true},
		{name: "HTTP/3.0", in: "GET /echo HTTP/3.0\r\n" + h11 + "\r\n", want: []int{505}, closed: true},
		{name: "HTTP/1.2", in: "GET /echo HTTP/1.2\r\n" + h11 + "\r\n", want: []int{505}, closed: true},
		{name: "HTTP/1.10", in: "GET /echo HTTP/1.10\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "HTTP/01.1", in: "GET /echo HTTP/01.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "HTTP/1", in: "GET /echo HTTP/1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "lower-case version", in: "GET /echo http/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "no version", in: "GET /echo\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "request line too long", in: "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n" + h11 + "\r\n", want: []int{414}, closed: true},
		{name: "header section too large", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-Big: " + strings.Repeat("b", 33000) + "\r\n\r\n", want: []int{431}, closed: true},
		{name: "too many fields", in: "GET /echo HTTP/1.1\r\n" + h11 + strings.Repeat("A: b\r\n", 101) + "\r\n", want: []int{431}, closed: true},
		{name: "10000 tiny fields", in: "GET /echo HTTP/1.1\r\n" + h11 + strings.Repeat("a:\r\n", 10000) + "\r\n", want: []int{431}, closed: true},
		{name: "empty field name", in: "GET /echo HTTP/1.1\r\n" + h11 + ": v\r\n\r\n", want: []int{400}, closed: true},
		{name: "field without colon", in: "GET /echo HTTP/1.1\r\n" + h11 + "NoColon\r\n\r\n", want: []int{400}, closed: true},
		{name: "space in field name", in: "GET /echo HTTP/1.1\r\n" + h11 + "X A: v\r\n\r\n", want: []int{400}, closed: true},
		{name: "NUL in field name", in: "GET /echo HTTP/1.1\r\n" + h11 + "X\x00A: v\r\n\r\n", want: []int{400}, closed: true},
		{name: "DEL in field name", in: "GET /echo HTTP/1.1\r\n" + h11 + "X\x7fA: v\r\n\r\n", want: []int{400}, closed: true},
		{name: "high byte in field name", in: "GET /echo HTTP/1.1\r\n" + h11 + "X\xc3\xa9: v\r\n\r\n", want: []int{400}, closed: true},
		{name: "NUL in value", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\x00b\r\n\r\n", want: []int{400}, closed: true},
		{name: "CTL in value", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\x01b\r\n\r\n", want: []int{400}, closed: true},
		{name: "DEL in value", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\x7fb\r\n\r\n", want: []int{400}, closed: true},
		{name: "high bytes in value kept", in: "GET /hdr HTTP/1.1\r\n" + h11 + "X-A: caf\xc3\xa9 \xff\r\n\r\n", want: []int{200},
			check: wantBody(0, "caf\xc3\xa9 \xff")},
		{name: "obs-fold", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\r\n b\r\n\r\n", want: []int{400}, closed: true},
		{name: "obs-fold tab", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\r\n\tb\r\n\r\n", want: []int{400}, closed: true},
		{name: "bare CR in head", in: "GET /echo HTTP/1.1\r\n" + h11 + "X-A: a\rb\r\n\r\n", want: []int{400}, closed: true},
		{name: "bare CR line end", in: "GET /echo HTTP/1.1\r" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "bare LF line ends", in: "GET /echo HTTP/1.1\n" + "Host: x\n\n", want: []int{200}},
		{name: "no Host on 1.1", in: "GET /echo HTTP/1.1\r\n\r\n", want: []int{400}, closed: true},
		{name: "two Host fields", in: "GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: []int{400}, closed: true},
		{name: "Host list", in: "GET /echo HTTP/1.1\r\nHost: a, b\r\n\r\n", want: []int{400}, closed: true},
		{name: "Host with space and path", in: "GET /echo HTTP/1.1\r\nHost: a b/c\r\n\r\n", want: []int{400}, closed: true},
		{name: "Host port too large", in: "GET /echo HTTP/1.1\r\nHost: a:65536\r\n\r\n", want: []int{400}, closed: true},
		{name: "Host IPv6 literal", in: "GET /echo HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", want: []int{200}},
		{name: "absolute-form", in: "GET http://x/echo HTTP/1.1\r\nHost: y\r\n\r\n" + get, want: []int{200, 200}},
		{name: "absolute-form POST with query", in: "POST HTTP://x:80/echo?q=1 HTTP/1.1\r\n" + h11 + "Content-Length: 2\r\n\r\nhi",
			want: []int{200}, check: wantBody(0, "hi")},
		{name: "absolute-form other scheme", in: "GET ftp://x/echo HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "authority-form with GET", in: "GET x:80 HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "asterisk with GET", in: "GET * HTTP/1.1\r\n" + h11 + "\r\n", want: []int{400}, closed: true},
		{name: "OPTIONS *", in: "OPTIONS * HTTP/1.1\r\n" + h11 + "\r\n" + get, want: []int{200, 200},
			check: func(t *testing.T, rs []*http.Response) {
				allow := rs[0].Header.Get("Allow")
				for _, m := range []string{"GET", "HEAD", "POST", "OPTIONS"} {
					if !slices.Contains(strings.Split(allow, ", "), m) {
						t.Errorf("OPTIONS * Allow = %q; want %s in it", allow, m)
					}
				}
			}},
		{name: "Expect other value", in: post("Content-Length: 5\r\nExpect: something\r\n", "hello"), want: []int{417}, closed: true},
		{name: "three pipelined, body in the middle", in: get + post("Content-Length: 3\r\n", "abc") + get, want: []int{200, 200, 200},
			check: wantBody(1, "abc")},
		{name: "Connection: close then more bytes", in: "GET /echo HTTP/1.1\r\n" + h11 + "Connection: close\r\n\r\n" + get, want: []int{200}, closed: true},
		{name: "HEAD has no body", in: "HEAD /head HTTP/1.1\r\n" + h11 + "\r\n" + get, want: []int{200, 200}, method: "HEAD",
			check: func(t *testing.T, rs []*http.Response) {
				if rs[0].ContentLength != 11 {
					t.Errorf("HEAD Content-Length = %d; want 11", rs[0].ContentLength)
				}
			}},
		{name: "handler header with CR LF", in: "GET /inject HTTP/1.1\r\n" + h11 + "\r\n", want: []int{200},
			check: func(t *testing.T, rs []*http.Response) {
				if rs[0].Header.Get("X-Evil") != "" || bodyOf(rs[0]) != "refused" {
					t.Errorf("injected header reached the wire: %v %q", rs[0].Header, bodyOf(rs[0]))
				}
			}},
		{name: "handler wrote fewer bytes than its CL", in: "GET /short HTTP/1.1\r\n" + h11 + "\r\n", want: []int{200}, closed: true},
		{name: "unread body drained", in: "POST /ignore HTTP/1.1\r\n" + h11 + "Content-Length: 5\r\n\r\nhello" + get,
			want: []int{200, 200}},
	}
	return cases
}

func wantHeader(i int, name, value string) func(*testing.T, []*http.Response) {
	return func(t *testing.T, rs []*http.Response) {
		if got := rs[i].Header.Get(name); got != value {
			t.Errorf("reply %d %s = %q; want %q", i, name, got, value)
		}
	}
}

func wantBody(i int, body string) func(*testing.T, []*http.Response) {
	return func(t *testing.T, rs []*http.Response) {
		if got := bodyOf(rs[i]); got != body {
			t.Errorf("reply %d body = %q; want %q", i, got, body)
		}
	}
}

func catalogueServer(t testing.TB) *Server {
	srv := startTest(t, Config{MaxBodySize: 1 << 20, LingerTimeout: 500 * time.Millisecond})
	catalogueHandlers(t, srv)
	return srv
}

// catalogueHandlers registers the routes the catalogue rows use (over TCP
// here, over TLS in tls_test.go).
func catalogueHandlers(t testing.TB, srv *Server) {
	mustRegister(t, srv,
		URIHandler{URI: "/echo", Method: "POST", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/echo", Method: "GET", Handler: func(r *Request) error { return r.Send(r.Body()) }},
		URIHandler{URI: "/hdr", Method: "GET", Handler: func(r *Request) error { return r.Send(r.Header("X-A")) }},
		URIHandler{URI: "/head", Method: "HEAD", Handler: sendString("hello world")},
		URIHandler{URI: "/brew", Method: "BREW", Handler: sendString("coffee")},
		URIHandler{URI: "/chunks", Method: "GET", Handler: func(r *Request) error {
			if err := r.SendChunk([]byte("one ")); err != nil {
				return err
			}
			return r.SendChunk([]byte("two"))
		}},
		URIHandler{URI: "/ignore", Method: "POST", Handler: sendString("ignored")},
		URIHandler{URI: "/inject", Method: "GET", Handler: func(r *Request) error {
			if r.SetHeader("X-Ok", "a\r\nX-Evil: 1") == nil || r.SetHeader("X-Evil\r\n", "1") == nil {
				return r.SendString("accepted")
			}
			return r.SendString("refused")
		}},
		URIHandler{URI: "/short", Method: "GET", Handler: func(r *Request) error {
			r.SetHeader("Content-Length", "10")
			r.SendChunk([]byte("abc"))
			return nil
		}},
	)
}

// TestCatalogueHTTP runs every case whole, in 7-byte pieces and byte by
// byte: the replies must not change.
func TestCatalogueHTTP(t *testing.T) {
	srv := catalogueServer(t)
	for _, tt := range catalogueCases() {
		for _, split := range []int{0, 7, 1} {
			if split == 1 && len(tt.in) > 4000 {
				split = 997 // keep the byte-by-byte runs of huge inputs short
			}
			t.Run(fmt.Sprintf("%s/split=%d", tt.name, split), func(t *testing.T) {
				runCatalogueCase(t, srv, tt, split)
			})
		}
	}
}

func runCatalogueCase(t *testing.T, srv *Server, tt catalogueCase, split int) {
	rc := dial(t, srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if split == 0 {
			io.WriteString(rc.c, tt.in)
			return
		}
		for s := tt.in; len(s) > 0; {
			k := min(split, len(s))
			if _, err := io.WriteString(rc.c, s[:k]); err != nil {
				return // the server may close early: that is the point of some cases
			}
			s = s[k:]
		}
	}()
	defer func() { <-done }()
	var replies []*http.Response
	br := rc.br
	nreplies := len(tt.want)
	if tt.either {
		nreplies = 1
	}
	for i := 0; i < nreplies; i++ {
		method := "GET"
		if i == 0 && tt.method != "" {
			method = tt.method
		}
		rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%q: reply %d: %v (got %d replies)", tt.in, i, err, len(replies))
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		replies = append(replies, resp)
	}
	for i, r := range replies {
		if tt.either {
			if !slices.Contains(tt.want, r.StatusCode) {
				t.Errorf("%q: status %d; want one of %v", tt.in, r.StatusCode, tt.want)
			}
			break
		}
		if want := tt.want[i]; r.StatusCode != want {
			t.Errorf("%q: reply %d status %d; want %d", tt.in, i, r.StatusCode, want)
		}
	}
	if tt.closed {
		if n := len(replies); n > 0 && !replies[n-1].Close && replies[n-1].StatusCode >= 400 {
			t.Errorf("%q: error reply without Connection: close", tt.in)
		}
		if !closedAfter(rc, br) {
			t.Errorf("%q: session not closed", tt.in)
		}
	} else if n := len(replies); n > 0 && replies[n-1].Close {
		t.Errorf("%q: session closed; want kept", tt.in)
	}
	if tt.check != nil && len(replies) == nreplies {
		tt.check(t, replies)
	}
}

// closedAfter reports whether the server closes the connection with no more
// reply bytes.
func closedAfter(rc *rawClient, br *bufio.Reader) bool {
	rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := br.ReadByte()
	return err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	type timeout interface{ Timeout() bool }
	t, ok := err.(timeout)
	return ok && t.Timeout()
}
