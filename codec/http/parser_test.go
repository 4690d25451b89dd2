package http

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evhttpd/httpd/internal/testreqs"
)

// headResult is everything ParseHead and the accessors report, as
// "key=value" items, so that results of different feedings compare whole
// and a test case can name the items it cares about.
func headResult(p *Parser, n int, err error) []string {
	r := []string{fmt.Sprintf("n=%d", n), fmt.Sprintf("err=%v", err)}
	if err != nil {
		return r
	}
	opt := func(b []byte) string {
		if b == nil {
			return "<nil>"
		}
		return string(b)
	}
	r = append(r,
		"method="+string(p.Method()),
		"target="+string(p.Target()),
		"path="+string(p.Path()),
		"query="+opt(p.RawQuery()),
		fmt.Sprintf("minor=%d", p.Minor()),
		fmt.Sprintf("cl=%d", p.ContentLength()),
		fmt.Sprintf("chunked=%t", p.Chunked()),
		fmt.Sprintf("keep=%t", p.KeepAlive()),
		fmt.Sprintf("expect=%t", p.ExpectContinue()),
		"upgrade="+opt(p.Upgrade()),
		"host="+opt(p.Host()),
		"form="+p.Form().String(),
		"authority="+opt(p.TargetAuthority()),
		"ehost="+opt(p.EffectiveHost()),
		fmt.Sprintf("hdrs=%d", p.NumHeaders()),
	)
	for i := 0; i < p.NumHeaders(); i++ {
		name, value := p.HeaderAt(i)
		r = append(r, fmt.Sprintf("hdr%d=%s: %s", i, name, value))
	}
	return r
}

// fresh returns a copy of b in new memory, as a connection buffer that moved.
func fresh(b []byte) []byte { return append(make([]byte, 0, len(b)+8), b...) }

// poison overwrites a buffer the parser must no longer look at.
func poison(b []byte) {
	for i := range b {
		b[i] = 0xff
	}
}

// feedHead feeds in to a new parser in pieces ending at the given cut
// offsets (then at len(in)), each call with all bytes so far in a fresh
// buffer, and returns the result items. A piece boundary past the point
// where the parser finished is not fed.
func feedHead(lim Limits, in []byte, cuts []int) []string {
	var p Parser
	p.Init(lim)
	var prev []byte
	for _, c := range append(cuts, len(in)) {
		buf := fresh(in[:c])
		n, err := p.ParseHead(buf)
		if prev != nil {
			poison(prev)
		}
		prev = buf
		if err != ErrNeedMore {
			return headResult(&p, n, err)
		}
	}
	return headResult(&p, 0, ErrNeedMore)
}

func runHeadCase(t *testing.T, c headCase) {
	in := []byte(c.in)
	whole := feedHead(c.lim, in, nil)
	wantN := c.n
	if c.err == nil && wantN == 0 {
		wantN = len(in)
	}
	if c.err != nil {
		wantN = 0
	}
	got := strings.Join(whole[:2], " ")
	want := fmt.Sprintf("n=%d err=%v", wantN, c.err)
	if got != want {
		t.Fatalf("ParseHead(%q) = %s; want %s", c.in, got, want)
	}
	for _, w := range c.want {
		found := false
		for _, item := range whole {
			if item == w {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("ParseHead(%q) = %q; want item %q", c.in, whole, w)
		}
	}

	same := func(how string, cuts []int) {
		t.Helper()
		if got := feedHead(c.lim, in, cuts); !slicesEqual(got, whole) {
			t.Fatalf("ParseHead(%q) fed %s %v = %q; want %q", c.in, how, cuts, got, whole)
		}
	}
	// Byte by byte.
	cuts := make([]int, 0, len(in))
	for i := 1; i < len(in); i++ {
		cuts = append(cuts, i)
	}
	same("byte by byte", cuts)
	// Split in two at every offset, also at 0 (an empty first read).
	for i := 0; i < len(in); i++ {
		same("split", []int{i})
	}
	// Three pieces at random offsets.
	r := rand.New(rand.NewPCG(uint64(len(in)), 7))
	for k := 0; k < 50 && len(in) > 1; k++ {
		a, b := r.IntN(len(in)), r.IntN(len(in))
		same("3-way split", []int{min(a, b), max(a, b)})
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseHead(t *testing.T) {
	if len(headCases) < 150 {
		t.Errorf("only %d head cases; the table should hold at least 150", len(headCases))
	}
	seen := map[string]bool{}
	for _, c := range headCases {
		if seen[c.name] {
			t.Errorf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) { runHeadCase(t, c) })
	}
}

// TestParseHeadErrorsAreSentinels checks the error contract: every failure
// is one of the pre-allocated *Error values, which close the connection.
func TestParseHeadErrorsAreSentinels(t *testing.T) {
	for _, c := range headCases {
		if c.err == nil || c.err == ErrNeedMore {
			continue
		}
		var e *Error
		if !errors.As(c.err, &e) || !e.Close || e.Status < 400 {
			t.Errorf("case %s: err %v is not a closing *Error", c.name, c.err)
		}
		if !strings.HasPrefix(e.Error(), "http: ") {
			t.Errorf("case %s: %q lacks the package prefix", c.name, e.Error())
		}
	}
	if errors.As(ErrNeedMore, new(*Error)) {
		t.Errorf("ErrNeedMore is an *Error")
	}
}

// TestParseHeadSticky checks that a finished parser keeps its result until
// Reset, and that Reset keeps the limits.
func TestParseHeadSticky(t *testing.T) {
	var p Parser
	p.Init(Limits{MaxHeaders: 1})
	in := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if n, err := p.ParseHead(in); n != len(in) || err != nil {
		t.Fatalf("ParseHead(%q) = %d, %v; want %d, nil", in, n, err, len(in))
	}
	if n, err := p.ParseHead(in); n != len(in) || err != nil {
		t.Fatalf("second ParseHead(%q) = %d, %v; want %d, nil", in, n, err, len(in))
	}
	p.Reset()
	in2 := []byte("GET / HTTP/1.1\r\nHost: a\r\nA: b\r\n\r\n")
	for i := 0; i < 2; i++ {
		if n, err := p.ParseHead(in2); n != 0 || err != ErrTooManyHeaders {
			t.Fatalf("ParseHead(%q) = %d, %v; want 0, %v", in2, n, err, ErrTooManyHeaders)
		}
	}
	p.Reset()
	if n, err := p.ParseHead(in); n != len(in) || err != nil {
		t.Fatalf("ParseHead(%q) after Reset = %d, %v; want %d, nil", in, n, err, len(in))
	}
}

// TestParserZeroValue checks that the zero Parser uses the default limits.
func TestParserZeroValue(t *testing.T) {
	var p Parser
	line := "GET /" + strings.Repeat("a", DefaultMaxRequestLine-len("GET / HTTP/1.1")) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	if n, err := p.ParseHead([]byte(line)); n != len(line) || err != nil {
		t.Fatalf("ParseHead(8 KiB line) = %d, %v; want %d, nil", n, err, len(line))
	}
	p.Reset()
	line = "GET /a" + line[5:]
	if _, err := p.ParseHead([]byte(line)); err != ErrURITooLong {
		t.Fatalf("ParseHead(8 KiB + 1 line) = %v; want %v", err, ErrURITooLong)
	}
}

func TestAccessorsBeforeDone(t *testing.T) {
	var p Parser
	p.Init(Limits{})
	if _, err := p.ParseHead([]byte("GET http://h/p?q HTTP/1.1\r\nHost: a\r\n")); err != ErrNeedMore {
		t.Fatalf("ParseHead = %v; want ErrNeedMore", err)
	}
	if p.Method() != nil || p.Target() != nil || p.Path() != nil || p.RawQuery() != nil ||
		p.NumHeaders() != 0 || p.Header("host") != nil || p.Host() != nil ||
		p.ContentLength() != -1 || p.Chunked() || p.KeepAlive() || p.ExpectContinue() || p.Upgrade() != nil ||
		p.Form() != 0 || p.TargetAuthority() != nil || p.EffectiveHost() != nil {
		t.Errorf("accessors report values before the head is complete")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("HeaderAt(0) before completion did not panic")
		}
	}()
	p.HeaderAt(0)
}

func TestHeaderLookup(t *testing.T) {
	var p Parser
	p.Init(Limits{})
	in := []byte(testreqs.Browser700)
	if _, err := p.ParseHead(in); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, want string }{
		{"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{"USER-AGENT", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{"Sec-Ch-Ua-Mobile", "?0"},
		{"sec-fetch-user", "?1"},
		{"Accept-Language", "en-US,en;q=0.9"},
		{"host", "localhost:8080"},
	} {
		if got := p.Header(c.name); string(got) != c.want {
			t.Errorf("Header(%q) = %q; want %q", c.name, got, c.want)
		}
	}
	for _, name := range []string{"", "x", "user-agen", "user-agent2", "sec-fetch-usEr ", "Sec_Fetch_User"} {
		if got := p.Header(name); got != nil {
			t.Errorf("Header(%q) = %q; want nil", name, got)
		}
	}
	// Letters fold, nothing else does: '[' and '{' differ only in 0x20.
	p.Reset()
	in = []byte("GET / HTTP/1.1\r\nHost: a\r\nE: \r\nx{: 1\r\n\r\n")
	if _, err := p.ParseHead(in); err != ErrBadHeaderName {
		t.Fatalf("ParseHead(%q) = %v; want %v", in, err, ErrBadHeaderName)
	}
	p.Reset()
	in = []byte("GET / HTTP/1.1\r\nHost: a\r\nE: \r\nx^: 1\r\n\r\n")
	if _, err := p.ParseHead(in); err != nil {
		t.Fatal(err)
	}
	if got := p.Header("X~"); got != nil {
		t.Errorf("Header(%q) = %q; want nil", "X~", got)
	}
	if got := p.Header("X^"); string(got) != "1" {
		t.Errorf("Header(%q) = %q; want %q", "X^", got, "1")
	}
	if got := p.Header("e"); got == nil || len(got) != 0 {
		t.Errorf("Header(%q) = %#v; want empty non-nil", "e", got)
	}
}

// TestParseHeadPipelined parses three requests out of one buffer, the way a
// server consumes n bytes after each and passes the rest.
func TestParseHeadPipelined(t *testing.T) {
	reqs := []string{testreqs.Wrk49, "POST /a HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\n", testreqs.Curl}
	body := "GET"
	all := []byte(reqs[0] + reqs[1] + body + reqs[2])
	var p Parser
	p.Init(Limits{})
	off := 0
	for i, want := range []string{"/plaintext", "/a", "/"} {
		p.Reset()
		n, err := p.ParseHead(all[off:])
		if err != nil || n != len(reqs[i]) {
			t.Fatalf("request %d: ParseHead = %d, %v; want %d, nil", i, n, err, len(reqs[i]))
		}
		if string(p.Target()) != want {
			t.Errorf("request %d: Target() = %q; want %q", i, p.Target(), want)
		}
		off += n
		if cl := p.ContentLength(); cl > 0 {
			if got := string(all[off : off+int(cl)]); got != body {
				t.Fatalf("body = %q; want %q", got, body)
			}
			off += int(cl)
		}
	}
	if off != len(all) {
		t.Fatalf("consumed %d of %d bytes", off, len(all))
	}
}

// TestParseHeadLinearWork feeds long lines byte by byte and checks, by the
// parser's own count of examined bytes, that nothing is rescanned.
func TestParseHeadLinearWork(t *testing.T) {
	long := strings.Repeat("v", 32<<10)
	for _, c := range []struct {
		name string
		in   string
		lim  Limits
	}{
		{"32KiB value", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long + "\r\n\r\n", Limits{MaxHeaderBytes: 40 << 10}},
		{"32KiB name", "GET / HTTP/1.1\r\nHost: a\r\nX" + long + ": 1\r\n\r\n", Limits{MaxHeaderBytes: 40 << 10}},
		{"32KiB target", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", Limits{MaxRequestLine: 40 << 10}},
		{"32KiB method", "G" + long + " / HTTP/1.1\r\nHost: a\r\n\r\n", Limits{MaxRequestLine: 40 << 10}},
		{"32KiB OWS", "GET / HTTP/1.1\r\nHost: a\r\nX:" + strings.Repeat(" ", 32<<10) + "\r\n\r\n", Limits{MaxHeaderBytes: 40 << 10}},
		{"many lines", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("abc: d\r\n", 200) + "\r\n", Limits{MaxHeaders: 256}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parser
			p.Init(c.lim)
			in := []byte(c.in)
			calls := 0
			for i := 1; i <= len(in); i++ {
				calls++
				n, err := p.ParseHead(in[:i])
				if err == ErrNeedMore {
					continue
				}
				if err != nil || n != len(in) {
					t.Fatalf("ParseHead = %d, %v; want %d, nil", n, err, len(in))
				}
				break
			}
			// Each byte examined at most twice (scan, then OWS trim),
			// plus a constant per call (a CR waiting for its LF).
			if limit := 2*len(in) + 2*calls; p.st.work > limit || p.st.work < len(in)/2 {
				t.Fatalf("examined %d bytes for a %d-byte head in %d calls; want <= %d", p.st.work, len(in), calls, limit)
			}
		})
	}
}

// TestParseHeadEarlyLimits checks that limits trip as soon as they are
// exceeded, not when the line or head ends: the parser stops examining.
func TestParseHeadEarlyLimits(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1<<20)
	for _, c := range []struct {
		name string
		in   []byte
		err  error
		max  int // most bytes the parser may examine
	}{
		{"1MB request line", append([]byte("GET /"), big...), ErrURITooLong, DefaultMaxRequestLine + 1},
		{"1MB method", big, ErrURITooLong, DefaultMaxRequestLine + 1},
		{"1MB field value", append([]byte("GET / HTTP/1.1\r\nX: "), big...), ErrHeaderTooLarge, DefaultMaxHeaderBytes + 20},
		{"1MB field name", append([]byte("GET / HTTP/1.1\r\nX"), big...), ErrHeaderTooLarge, DefaultMaxHeaderBytes + 20},
		{"10000 one-byte fields", []byte("GET / HTTP/1.1\r\n" + strings.Repeat("a:b\r\n", 10000) + "\r\n"), ErrTooManyHeaders, 16 + 5*(DefaultMaxHeaders+1)},
		{"10000 empty-value fields", []byte("GET / HTTP/1.1\r\n" + strings.Repeat("a:\n", 10000) + "\r\n"), ErrTooManyHeaders, 16 + 3*(DefaultMaxHeaders+1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parser
			p.Init(Limits{})
			n, err := p.ParseHead(c.in)
			if n != 0 || err != c.err {
				t.Fatalf("ParseHead(%q...) = %d, %v; want 0, %v", c.in[:20], n, err, c.err)
			}
			if p.st.work > c.max {
				t.Fatalf("examined %d bytes; want <= %d", p.st.work, c.max)
			}
			if p.st.nfields > DefaultMaxHeaders {
				t.Fatalf("recorded %d fields; want <= %d", p.st.nfields, DefaultMaxHeaders)
			}
		})
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	for _, c := range []struct {
		in, want Limits
	}{
		{Limits{}, Limits{8192, 32768, 100, 8 << 20, 1024}},
		{Limits{-1, -1, -1, -1, -1}, Limits{8192, 32768, 100, 8 << 20, 1024}},
		{Limits{1, 2, 3, 4, 5}, Limits{1, 2, 3, 4, 5}},
		{Limits{1 << 30, 1 << 30, 1 << 30, 1 << 62, 1 << 30}, Limits{MaxRequestLineCap, MaxHeaderBytesCap, MaxHeadersCap, 1 << 62, MaxChunkExtCap}},
	} {
		if got := c.in.WithDefaults(); got != c.want {
			t.Errorf("%+v.WithDefaults() = %+v; want %+v", c.in, got, c.want)
		}
	}
}

func TestHeadStateString(t *testing.T) {
	for s := stateStart; s <= stateFailed; s++ {
		if str := s.String(); str == "" || strings.HasPrefix(str, "headState(") {
			t.Errorf("headState(%d).String() = %q", s, str)
		}
	}
	if got := headState(200).String(); got != "headState(?)" {
		t.Errorf("headState(200).String() = %q", got)
	}
}
