package fuzz

import (
	"bufio"
	"bytes"
	"io"
	nethttp "net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"

	"github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/internal/testreqs"
)

var diffSeeds = []string{
	testreqs.Wrk49,
	testreqs.Curl,
	testreqs.Hdr219,
	testreqs.Browser700,
	testreqs.Firefox,
	testreqs.ChunkedPost,
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET http://example.com/a?b HTTP/1.1\r\nHost: other\r\n\r\n",
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET http://example.com:8080/items?id=42 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n",
	"POST HTTPS://[::1]:8443?q=%20 HTTP/1.1\r\nHost:\r\nContent-Length: 0\r\n\r\n",
	"OPTIONS http://a.example HTTP/1.0\r\n\r\n",
	"CONNECT [2001:db8::1]:443 HTTP/1.0\r\n\r\n",
	"GET /a/%7e?x=1&y HTTP/1.1\r\nHost: [v1.x]:80\r\n\r\n",
	"GET //x/./../y HTTP/1.1\r\nHost: Example.COM.\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\nabcdefg",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3;a=\"b c\"\r\nabc\r\n0\r\nX: y\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\nX: \t v \t\nPragma: no-cache\n\n",
	"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX: \xe9\xff\r\nExpect: 100-continue\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\na: 2\r\nx-Y-z: 3\r\nX-y-Z: 4\r\n\r\n",
}

// FuzzDifferential compares codec/http's Parser and ChunkedDecoder with
// net/http.ReadRequest; see the package documentation for what is compared
// and for every intentional disagreement.
func FuzzDifferential(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 64<<10 {
			return
		}
		var p http.Parser
		p.Init(http.Limits{})
		n, err := p.ParseHead(in)
		if err != nil {
			return
		}
		req, rerr := nethttp.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
		if rerr != nil {
			return
		}
		compareHead(t, in, &p, req)
		if p.Chunked() {
			compareChunked(t, in, in[n:], req)
		}
	})
}

func compareHead(t *testing.T, in []byte, p *http.Parser, req *nethttp.Request) {
	t.Helper()
	if got, want := string(p.Method()), req.Method; got != want {
		t.Fatalf("ParseHead(%q): Method() = %q; net/http %q", in, got, want)
	}
	if got, want := string(p.Target()), req.RequestURI; got != want {
		t.Fatalf("ParseHead(%q): Target() = %q; net/http %q", in, got, want)
	}
	if req.ProtoMajor != 1 || p.Minor() != req.ProtoMinor {
		t.Fatalf("ParseHead(%q): Minor() = %d; net/http %s", in, p.Minor(), req.Proto)
	}
	compareTarget(t, in, p, req)
	wantChunked := len(req.TransferEncoding) == 1 && req.TransferEncoding[0] == "chunked"
	if p.Chunked() != wantChunked {
		t.Fatalf("ParseHead(%q): Chunked() = %t; net/http %q", in, p.Chunked(), req.TransferEncoding)
	}
	cl := p.ContentLength()
	if cl == -1 && !p.Chunked() {
		cl = 0 // net/http's "no body"
	}
	if cl != req.ContentLength {
		t.Fatalf("ParseHead(%q): ContentLength() = %d; net/http %d", in, p.ContentLength(), req.ContentLength)
	}
	if p.KeepAlive() == req.Close {
		t.Fatalf("ParseHead(%q): KeepAlive() = %t; net/http Close = %t", in, p.KeepAlive(), req.Close)
	}

	// Fields, canonicalised, in order, as net/http keeps them.
	got := map[string][]string{}
	for i := 0; i < p.NumHeaders(); i++ {
		name, value := p.HeaderAt(i)
		key := textproto.CanonicalMIMEHeaderKey(string(name))
		got[key] = append(got[key], string(value))
	}
	want := map[string][]string(req.Header.Clone())
	delete(got, "Transfer-Encoding")
	delete(got, "Host") // net/http moves it to req.Host, compared above
	if v := got["Content-Length"]; len(v) > 1 {
		got["Content-Length"] = v[:1]
	}
	if pr := got["Pragma"]; len(pr) > 0 && pr[0] == "no-cache" && got["Cache-Control"] == nil {
		delete(want, "Cache-Control")
	}
	if len(got) != len(want) {
		t.Fatalf("ParseHead(%q): fields %q; net/http %q", in, got, want)
	}
	for k, v := range got {
		if !slices.Equal(v, want[k]) {
			t.Fatalf("ParseHead(%q): field %s = %q; net/http %q", in, k, v, want[k])
		}
	}
	if p.ExpectContinue() != strings.EqualFold(req.Header.Get("Expect"), "100-continue") {
		t.Fatalf("ParseHead(%q): ExpectContinue() = %t; net/http Expect %q", in, p.ExpectContinue(), req.Header["Expect"])
	}
}

// compareTarget compares what the two sides make of the request-target
// and the host: the host the request is for (net/http's req.Host, which
// also lets the target's authority win over the Host field), and the path
// and query that route it.
func compareTarget(t *testing.T, in []byte, p *http.Parser, req *nethttp.Request) {
	t.Helper()
	form := p.Form()
	eh := p.EffectiveHost()
	// net/url percent-decodes a host; evhttpd reports it as sent.
	if bytes.IndexByte(eh, '%') < 0 {
		if got, want := string(eh), req.Host; got != want {
			t.Fatalf("ParseHead(%q): EffectiveHost() = %q (%v); net/http Host %q", in, got, form, want)
		}
	}
	if form == http.AbsoluteForm {
		if s := strings.ToLower(req.URL.Scheme); s != "http" && s != "https" || req.URL.User != nil {
			t.Fatalf("ParseHead(%q): accepted %v; net/http URL scheme %q, userinfo %v", in, form, req.URL.Scheme, req.URL.User)
		}
	}
	// net/http leaves a '#' in the path (ParseRequestURI assumes no
	// fragment); evhttpd ends the path and query there. The authority-form
	// has neither path nor query.
	if form == http.AuthorityForm || bytes.IndexByte(p.Target(), '#') >= 0 {
		return
	}
	if got, want := string(p.RawQuery()), req.URL.RawQuery; got != want {
		t.Fatalf("ParseHead(%q): RawQuery() = %q; net/http %q", in, got, want)
	}
	path, err := http.Unescape(nil, p.Path(), false)
	if err != nil {
		t.Fatalf("ParseHead(%q): Path() = %q does not unescape but net/http accepted it: %v", in, p.Path(), err)
	}
	want := req.URL.Path
	if want == "" && form == http.AbsoluteForm {
		want = "/" // RFC 9110 §4.2.3: "http://h" is "http://h/"
	}
	if string(path) != want {
		t.Fatalf("ParseHead(%q): Path() = %q, unescaped %q; net/http %q", in, p.Path(), path, want)
	}
}

// compareChunked decodes body with the ChunkedDecoder and with net/http's
// body reader; when both succeed the bytes must agree.
func compareChunked(t *testing.T, in, body []byte, req *nethttp.Request) {
	t.Helper()
	want, werr := io.ReadAll(req.Body)
	var d http.ChunkedDecoder
	d.Init(http.Limits{})
	dst := make([]byte, len(body))
	nd, _, err := d.Decode(dst, body)
	if werr != nil || err != nil || !d.Done() {
		return
	}
	if !bytes.Equal(dst[:nd], want) {
		t.Fatalf("chunked body of %q: Decode = %q; net/http %q", in, dst[:nd], want)
	}
}

// TestDifferentialSeeds makes sure the harness compares something: every
// seed is accepted by both sides.
func TestDifferentialSeeds(t *testing.T) {
	for _, s := range diffSeeds {
		var p http.Parser
		p.Init(http.Limits{})
		if _, err := p.ParseHead([]byte(s)); err != nil {
			t.Errorf("ParseHead(%q) = %v; want nil", s, err)
		}
		if _, err := nethttp.ReadRequest(bufio.NewReader(strings.NewReader(s))); err != nil {
			t.Errorf("net/http ReadRequest(%q) = %v; want nil", s, err)
		}
	}
}

// TestDifferentialStricter pins the target and Host rules where evhttpd
// rejects what net/http.ReadRequest accepts (see the package
// documentation): each input must be accepted by net/http and fail in
// ParseHead with the given error.
func TestDifferentialStricter(t *testing.T) {
	for _, c := range []struct {
		in  string
		err error
	}{
		{"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", http.ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: a b/c\r\n\r\n", http.ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", http.ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", http.ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", http.ErrBadHost},
		{"GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", http.ErrBadHost},
		{"GET * HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetForm},
		{"GET a.example:80 HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetForm},
		{"CONNECT /rpc HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetForm},
		{"CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrBadTarget},
		{"GET ftp://a.example/f HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetScheme},
		{"GET mailto:x@a.example HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetScheme},
		{"GET http://user:pw@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrTargetUserinfo},
		{"GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrBadTarget},
		{"GET http://a.example:99999/ HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrBadTarget},
		{"GET http://a.example,b.example/ HTTP/1.1\r\nHost: a\r\n\r\n", http.ErrBadTarget},
	} {
		if _, err := nethttp.ReadRequest(bufio.NewReader(strings.NewReader(c.in))); err != nil {
			t.Errorf("net/http ReadRequest(%q) = %v; the case expects net/http to accept", c.in, err)
		}
		var p http.Parser
		p.Init(http.Limits{})
		if _, err := p.ParseHead([]byte(c.in)); err != c.err {
			t.Errorf("ParseHead(%q) = %v; want %v", c.in, err, c.err)
		}
	}
}
