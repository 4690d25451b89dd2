package http

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	nethttp "net/http"
	"net/http/httputil"
	"slices"
	"strings"
	"testing"
)

func TestAppendStatusLine(t *testing.T) {
	tests := []struct {
		minor  int
		code   int
		reason string
		want   string
	}{
		{1, 200, "", "HTTP/1.1 200 OK\r\n"},
		{1, 404, "", "HTTP/1.1 404 Not Found\r\n"},
		{1, 500, "", "HTTP/1.1 500 Internal Server Error\r\n"},
		{1, 101, "", "HTTP/1.1 101 Switching Protocols\r\n"},
		{0, 200, "", "HTTP/1.0 200 OK\r\n"},
		{2, 200, "", "HTTP/1.1 200 OK\r\n"},
		{-1, 200, "", "HTTP/1.1 200 OK\r\n"},
		{1, 200, "Fine", "HTTP/1.1 200 Fine\r\n"},
		{1, 501, "Method Not Implemented", "HTTP/1.1 501 Method Not Implemented\r\n"},
		{1, 299, "", "HTTP/1.1 299 Unknown\r\n"},
		{1, 999, "", "HTTP/1.1 999 Unknown\r\n"},
		{1, 200, "tab\tand obs-text \xff", "HTTP/1.1 200 tab\tand obs-text \xff\r\n"},
		// Codes that do not have three digits.
		{1, 99, "Low", "HTTP/1.1 500 Internal Server Error\r\n"},
		{1, 1000, "", "HTTP/1.1 500 Internal Server Error\r\n"},
		{1, -404, "", "HTTP/1.1 500 Internal Server Error\r\n"},
		// Reasons that would break the line fall back to the registered phrase.
		{1, 200, "OK\r\nSet-Cookie: a=b", "HTTP/1.1 200 OK\r\n"},
		{1, 404, "x\ny", "HTTP/1.1 404 Not Found\r\n"},
		{1, 404, "x\x00", "HTTP/1.1 404 Not Found\r\n"},
		{1, 299, "x\x7f", "HTTP/1.1 299 Unknown\r\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%d_%q", tt.minor, tt.code, tt.reason), func(t *testing.T) {
			got := AppendStatusLine([]byte("prefix"), tt.minor, tt.code, tt.reason)
			if want := "prefix" + tt.want; string(got) != want {
				t.Errorf("AppendStatusLine(%d, %d, %q) = %q; want %q", tt.minor, tt.code, tt.reason, got, want)
			}
		})
	}
}

// rspTHeaderCases are header lines fed to AppendHeader and AppendHeaderBytes.
var rspTHeaderCases = []struct {
	name, value string
	ok          bool
}{
	{"Content-Type", "text/plain", true},
	{"X-Empty", "", true},
	{"x", "v", true},
	{"!#$%&'*+-.^_`|~09AZaz", "v", true},
	{"X-Tab", "a\tb", true},
	{"X-Space", "a b  c", true},
	{"X-Obs", "caf\xc3\xa9 \x80\xff", true},
	{"X-Vchar", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true},
	{"X-Leading", " v ", true},
	// Value injection attempts.
	{"X-Inject", "v\r\nSet-Cookie: evil=1", false},
	{"X-Inject", "v\r\n\r\nHTTP/1.1 200 OK", false},
	{"X-CR", "a\rb", false},
	{"X-LF", "a\nb", false},
	{"X-Trailing-CRLF", "v\r\n", false},
	{"X-NUL", "a\x00b", false},
	{"X-DEL", "a\x7fb", false},
	{"X-BEL", "\x07", false},
	{"X-ESC", "\x1b[31m", false},
	{"X-US", "\x1f", false},
	{"X-VT", "\v", false},
	{"X-FF", "\f", false},
	// Name injection attempts and non-tokens.
	{"", "v", false},
	{"X Space", "v", false},
	{"X-Colon:", "v", false},
	{"X:Y", "v", false},
	{"X-Tab\t", "v", false},
	{"X-CRLF\r\nEvil", "v", false},
	{"X\n", "v", false},
	{"X\x00", "v", false},
	{"X\x7f", "v", false},
	{"X-Obs\x80", "v", false},
	{"X\"Quote\"", "v", false},
	{"X(Comment)", "v", false},
	{"X/Slash", "v", false},
	{"X@", "v", false},
	{"X[]", "v", false},
	{"X{}", "v", false},
	{"X,Y", "v", false},
	{"X;Y", "v", false},
	{"X=Y", "v", false},
	{"X?", "v", false},
	{"X\\", "v", false},
	{"X<>", "v", false},
	{"Bad Name", "bad\r\nvalue", false},
}

func TestAppendHeader(t *testing.T) {
	for _, tt := range rspTHeaderCases {
		t.Run(fmt.Sprintf("%q:%q", tt.name, tt.value), func(t *testing.T) {
			want := "pre" + tt.name + ": " + tt.value + "\r\n"
			if !tt.ok {
				want = "pre"
			}
			check := func(fn string, got []byte, err error, spare []byte) {
				t.Helper()
				if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalidHeader) {
					wantErr := error(nil)
					if !tt.ok {
						wantErr = ErrInvalidHeader
					}
					t.Errorf("%s(%q, %q) error = %v; want %v", fn, tt.name, tt.value, err, wantErr)
				}
				if string(got) != want {
					t.Errorf("%s(%q, %q) = %q; want %q", fn, tt.name, tt.value, got, want)
				}
				// On error not one byte of the spare capacity may be written.
				if !tt.ok && strings.Trim(string(spare), "#") != "" {
					t.Errorf("%s(%q, %q) wrote %q past len(dst)", fn, tt.name, tt.value, spare)
				}
			}

			dst := rspTFilled("pre", 256)
			got, err := AppendHeader(dst, tt.name, tt.value)
			check("AppendHeader", got, err, dst[3:256])

			dst = rspTFilled("pre", 256)
			got, err = AppendHeaderBytes(dst, tt.name, []byte(tt.value))
			check("AppendHeaderBytes", got, err, dst[3:256])

			if v := ValidHeaderName(tt.name) && ValidHeaderValue(tt.value); v != tt.ok {
				t.Errorf("ValidHeaderName(%q) && ValidHeaderValue(%q) = %v; want %v", tt.name, tt.value, v, tt.ok)
			}
		})
	}
}

// rspTFilled returns a slice holding prefix with capacity n whose spare
// capacity is filled with '#', to detect writes past the length.
func rspTFilled(prefix string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = '#'
	}
	return append(b[:0], prefix...)
}

// TestHeaderBytesExhaustive checks every byte value in a name and in a value
// against the RFC 9110 grammar, spelled out independently here.
func TestHeaderBytesExhaustive(t *testing.T) {
	const tcharPunct = "!#$%&'*+-.^_`|~"
	for c := 0; c < 256; c++ {
		b := byte(c)
		isAlnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		wantName := isAlnum || strings.IndexByte(tcharPunct, b) >= 0
		wantValue := b == '\t' || b == ' ' || (0x21 <= b && b <= 0x7e) || b >= 0x80

		name := "X" + string(b) + "Y"
		if got := ValidHeaderName(name); got != wantName {
			t.Errorf("ValidHeaderName(%q) = %v; want %v", name, got, wantName)
		}
		value := "a" + string(b) + "b"
		if got := ValidHeaderValue(value); got != wantValue {
			t.Errorf("ValidHeaderValue(%q) = %v; want %v", value, got, wantValue)
		}
		if _, err := AppendHeaderBytes(nil, "X", []byte(value)); (err == nil) != wantValue {
			t.Errorf("AppendHeaderBytes(%q) error = %v; want valid=%v", value, err, wantValue)
		}
		// Every position of a value long enough for the eight-byte scan.
		for i := 0; i < 19; i++ {
			v := []byte(strings.Repeat("v", 19))
			v[i] = b
			if got := ValidHeaderValue(string(v)); got != wantValue {
				t.Errorf("ValidHeaderValue(%q) = %v; want %v", v, got, wantValue)
			}
		}
	}
}

// TestHeaderValueAgainstNetHTTP checks that every value AppendHeader accepts
// is read back byte-exact by net/textproto, and that it refuses every
// single-byte value textproto refuses (CR and LF end the line in textproto,
// so they are left to the table above).
func TestHeaderValueAgainstNetHTTP(t *testing.T) {
	for c := 0; c < 256; c++ {
		if c == '\r' || c == '\n' {
			continue
		}
		value := "a" + string(byte(c)) + "b"
		raw := "HTTP/1.1 200 OK\r\nX-V: " + value + "\r\nContent-Length: 0\r\n\r\n"
		resp, stdErr := nethttp.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
		_, err := AppendHeader(nil, "X-V", value)
		if (err == nil) != (stdErr == nil) {
			t.Errorf("AppendHeader(%q) error = %v; net/http error = %v", value, err, stdErr)
			continue
		}
		if stdErr == nil {
			if got := resp.Header.Get("X-V"); got != value {
				t.Errorf("net/http read X-V %q; want %q", got, value)
			}
		}
	}
}

func TestAppendContentLength(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "Content-Length: 0\r\n"},
		{7, "Content-Length: 7\r\n"},
		{13, "Content-Length: 13\r\n"},
		{1 << 20, "Content-Length: 1048576\r\n"},
		{math.MaxInt64, "Content-Length: 9223372036854775807\r\n"},
		{-1, "Content-Length: 0\r\n"},
		{math.MinInt64, "Content-Length: 0\r\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			if got := AppendContentLength([]byte("x"), tt.n); string(got) != "x"+tt.want {
				t.Errorf("AppendContentLength(%d) = %q; want %q", tt.n, got, "x"+tt.want)
			}
		})
	}
}

func TestAppendChunk(t *testing.T) {
	tests := []struct {
		p    string
		want string
	}{
		{"", ""},
		{"a", "1\r\na\r\n"},
		{"Hello World!", "c\r\nHello World!\r\n"},
		{strings.Repeat("x", 15), "f\r\n" + strings.Repeat("x", 15) + "\r\n"},
		{strings.Repeat("x", 16), "10\r\n" + strings.Repeat("x", 16) + "\r\n"},
		{strings.Repeat("x", 255), "ff\r\n" + strings.Repeat("x", 255) + "\r\n"},
		{strings.Repeat("x", 4096), "1000\r\n" + strings.Repeat("x", 4096) + "\r\n"},
		{"\r\n0\r\n\r\n", "7\r\n\r\n0\r\n\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(len(tt.p)), func(t *testing.T) {
			got := AppendChunk([]byte("x"), []byte(tt.p))
			if string(got) != "x"+tt.want {
				t.Errorf("AppendChunk(%q) = %q; want %q", tt.p, got, "x"+tt.want)
			}
			// The split form writes the same bytes.
			split := AppendChunkSize([]byte("x"), len(tt.p))
			if len(tt.p) > 0 {
				split = append(append(split, tt.p...), "\r\n"...)
			}
			if string(split) != "x"+tt.want {
				t.Errorf("AppendChunkSize(%d)+data+CRLF = %q; want %q", len(tt.p), split, "x"+tt.want)
			}
		})
	}
	if got := AppendChunkSize(nil, -5); len(got) != 0 {
		t.Errorf("AppendChunkSize(-5) = %q; want \"\"", got)
	}
	if got := AppendChunkSize(nil, math.MaxInt); string(got) != fmt.Sprintf("%x\r\n", math.MaxInt) {
		t.Errorf("AppendChunkSize(MaxInt) = %q", got)
	}
	if got := AppendLastChunk([]byte("x")); string(got) != "x0\r\n\r\n" {
		t.Errorf("AppendLastChunk() = %q; want %q", got, "x0\r\n\r\n")
	}
	if got := AppendEndOfHead([]byte("x")); string(got) != "x\r\n" {
		t.Errorf("AppendEndOfHead() = %q; want %q", got, "x\r\n")
	}
}

// TestChunkedAgainstNetHTTP decodes random chunk sequences with net/http's
// own chunked reader.
func TestChunkedAgainstNetHTTP(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 200; i++ {
		body := rspTRandBody(rng, rng.Intn(64<<10))
		var wire []byte
		for rest := body; ; {
			n := min(len(rest), rng.Intn(5000))
			wire = AppendChunk(wire, rest[:n])
			rest = rest[n:]
			if len(rest) == 0 {
				break
			}
		}
		wire = AppendLastChunk(wire)
		got, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(wire)))
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("case %d: chunked reader read %d bytes, err %v; want %d bytes", i, len(got), err, len(body))
		}
	}
}

// rspTRandBody returns n random bytes, CR and LF and "0\r\n\r\n" included,
// so that framing cannot be confused with content.
func rspTRandBody(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	if n >= 5 && rng.Intn(2) == 0 {
		copy(b[rng.Intn(n-4):], "0\r\n\r\n")
	}
	return b
}

// rspTCase is one response of the round trip.
type rspTCase struct {
	method  string
	status  int
	reason  string
	chunked bool
	body    []byte
	chunks  []int // chunk sizes when chunked
	headers [][2]string
}

// rspTBuild writes c with the append primitives.
func rspTBuild(t *testing.T, c *rspTCase) []byte {
	t.Helper()
	b := AppendStatusLine(nil, 1, c.status, c.reason)
	b = AppendDate(b)
	var err error
	for _, h := range c.headers {
		if b, err = AppendHeader(b, h[0], h[1]); err != nil {
			t.Fatalf("AppendHeader(%q, %q) = %v; want nil", h[0], h[1], err)
		}
	}
	bodyOK := BodyAllowed(c.status)
	switch {
	case !bodyOK:
	case c.chunked:
		if b, err = AppendHeaderBytes(b, "Transfer-Encoding", []byte("chunked")); err != nil {
			t.Fatal(err)
		}
	default:
		b = AppendContentLength(b, int64(len(c.body)))
	}
	b = AppendEndOfHead(b)
	if !bodyOK || c.method == "HEAD" {
		return b
	}
	if !c.chunked {
		return append(b, c.body...)
	}
	rest := c.body
	for _, n := range c.chunks {
		b = AppendChunk(b, rest[:n])
		rest = rest[n:]
	}
	return AppendLastChunk(b)
}

// rspTRandCase draws one response: status, framing, body size (mostly
// small, up to 100 KiB), chunking, custom reason and extra fields.
func rspTRandCase(rng *rand.Rand) *rspTCase {
	statuses := []int{200, 201, 204, 304, 404, 500}
	c := &rspTCase{method: "GET", status: statuses[rng.Intn(len(statuses))]}
	if rng.Intn(5) == 0 {
		c.method = "HEAD"
	}
	if rng.Intn(4) == 0 {
		c.reason = "Custom Reason " + fmt.Sprint(rng.Intn(100))
	}
	if BodyAllowed(c.status) {
		size := rng.Intn(100)
		if rng.Intn(3) == 0 {
			size = rng.Intn(100<<10 + 1)
		}
		c.body = rspTRandBody(rng, size)
		c.chunked = rng.Intn(2) == 0
		for rest := size; rest > 0; {
			n := 1 + rng.Intn(rest)
			if rng.Intn(2) == 0 {
				n = 1 + rng.Intn(min(rest, 64))
			}
			c.chunks = append(c.chunks, n)
			rest -= n
		}
	}
	names := []string{"X-A", "X-Request-Id", "Cache-Control", "Set-Cookie", "X-Obs", "Custom-Header-1"}
	for range rng.Intn(7) {
		c.headers = append(c.headers, [2]string{names[rng.Intn(len(names))], rspTRandValue(rng)})
	}
	if rng.Intn(2) == 0 {
		c.headers = append(c.headers, [2]string{"Content-Type", "text/plain"})
	}
	return c
}

// rspTRandValue returns a random field value that survives a trip through a
// recipient: VCHAR, obs-text and inner SP or HT, no leading or trailing
// whitespace.
func rspTRandValue(rng *rand.Rand) string {
	n := rng.Intn(40)
	b := make([]byte, 0, n)
	for i := range n {
		var c byte
		switch r := rng.Intn(10); {
		case r == 0 && i > 0 && i < n-1:
			c = " \t"[rng.Intn(2)]
		case r == 1:
			c = byte(0x80 + rng.Intn(0x80))
		default:
			c = byte(0x21 + rng.Intn(0x7e-0x21+1))
		}
		b = append(b, c)
	}
	return string(b)
}

// TestResponseRoundTrip builds random responses with the append primitives
// and reads them back with net/http's client-side parser.
func TestResponseRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(20240601))
	const cases = 400
	for i := range cases {
		c := rspTRandCase(rng)
		name := fmt.Sprintf("%d_%s_%d_chunked=%v_len=%d", i, c.method, c.status, c.chunked, len(c.body))
		t.Run(name, func(t *testing.T) {
			wire := rspTBuild(t, c)
			rspTCheck(t, c, wire)
		})
	}
}

// TestResponseRoundTripPipelined sends several responses back to back on one
// stream, so a framing error in one shows up in the next.
func TestResponseRoundTripPipelined(t *testing.T) {
	rng := rand.New(rand.NewSource(99))
	for i := range 20 {
		var cs []*rspTCase
		var wire []byte
		for range 1 + rng.Intn(8) {
			c := rspTRandCase(rng)
			cs = append(cs, c)
			wire = append(wire, rspTBuild(t, c)...)
		}
		br := bufio.NewReader(bytes.NewReader(wire))
		for j, c := range cs {
			req := &nethttp.Request{Method: c.method}
			resp, err := nethttp.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("stream %d response %d: ReadResponse: %v", i, j, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("stream %d response %d: body: %v", i, j, err)
			}
			if resp.StatusCode != c.status || !bytes.Equal(body, rspTWantBody(c)) {
				t.Fatalf("stream %d response %d: status %d, %d body bytes; want %d, %d", i, j, resp.StatusCode, len(body), c.status, len(rspTWantBody(c)))
			}
		}
		if n, _ := br.Read(make([]byte, 1)); n != 0 {
			t.Fatalf("stream %d: bytes left after the last response", i)
		}
	}
}

func rspTWantBody(c *rspTCase) []byte {
	if c.method == "HEAD" || !BodyAllowed(c.status) {
		return []byte{}
	}
	return c.body
}

// rspTCheck parses wire as the response to c.method and compares it with c.
func rspTCheck(t *testing.T, c *rspTCase, wire []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(wire))
	resp, err := nethttp.ReadResponse(br, &nethttp.Request{Method: c.method})
	if err != nil {
		t.Fatalf("ReadResponse(%.200q) = %v", wire, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if n, _ := br.Read(make([]byte, 1)); n != 0 {
		t.Errorf("bytes left after the response: framing wrote too much")
	}
	if resp.StatusCode != c.status {
		t.Errorf("StatusCode = %d; want %d", resp.StatusCode, c.status)
	}
	wantReason := c.reason
	if wantReason == "" {
		wantReason = StatusText(c.status)
	}
	if want := fmt.Sprintf("%d %s", c.status, wantReason); resp.Status != want {
		t.Errorf("Status = %q; want %q", resp.Status, want)
	}
	if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
		t.Errorf("Proto = %q; want HTTP/1.1", resp.Proto)
	}
	if _, err := nethttp.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	want := map[string][]string{}
	for _, h := range c.headers {
		want[h[0]] = append(want[h[0]], h[1])
	}
	for name, vals := range want {
		if got := resp.Header.Values(name); !slices.Equal(got, vals) {
			t.Errorf("Header %q = %q; want %q", name, got, vals)
		}
	}
	if wantBody := rspTWantBody(c); !bytes.Equal(body, wantBody) {
		t.Errorf("body: %d bytes; want %d", len(body), len(wantBody))
	}
	if BodyAllowed(c.status) && c.method != "HEAD" {
		if c.chunked {
			if !slices.Equal(resp.TransferEncoding, []string{"chunked"}) {
				t.Errorf("TransferEncoding = %q; want [chunked]", resp.TransferEncoding)
			}
		} else if resp.ContentLength != int64(len(c.body)) {
			t.Errorf("ContentLength = %d; want %d", resp.ContentLength, len(c.body))
		}
	}
}

func TestAppendErrorResponse(t *testing.T) {
	tests := []struct {
		code            int
		closeConn, head bool
		wantStatus      int
		wantBody        string
	}{
		{404, false, false, 404, "Nothing matches the given URI"},
		{400, true, false, 400, "Bad request syntax"},
		{408, true, false, 408, "Server closed this connection"},
		{413, true, false, 413, "Content is too large"},
		{414, true, false, 414, "URI is too long"},
		{431, true, false, 431, "Header fields are too long"},
		{501, false, false, 501, "Server does not support this method"},
		{505, true, false, 505, "HTTP version not supported by server"},
		{503, true, false, 503, "Server is too busy to handle this request"},
		{404, false, true, 404, ""},
		{500, true, true, 500, ""},
		{599, false, false, 599, ""},
		{42, false, false, 500, "Server has encountered an unexpected error"},
		{304, false, false, 304, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_close=%v_head=%v", tt.code, tt.closeConn, tt.head), func(t *testing.T) {
			wire := AppendErrorResponse(nil, tt.code, tt.closeConn, tt.head)
			method := "GET"
			if tt.head {
				method = "HEAD"
			}
			br := bufio.NewReader(bytes.NewReader(wire))
			resp, err := nethttp.ReadResponse(br, &nethttp.Request{Method: method})
			if err != nil {
				t.Fatalf("ReadResponse(AppendErrorResponse(%d)) = %v", tt.code, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := br.Read(make([]byte, 1)); n != 0 {
				t.Errorf("AppendErrorResponse(%d): bytes left after the response", tt.code)
			}
			if resp.StatusCode != tt.wantStatus || string(body) != tt.wantBody {
				t.Errorf("AppendErrorResponse(%d) = %d %q; want %d %q", tt.code, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if resp.Close != tt.closeConn {
				t.Errorf("AppendErrorResponse(%d, close=%v): Close = %v", tt.code, tt.closeConn, resp.Close)
			}
			if BodyAllowed(tt.wantStatus) {
				if ct := resp.Header.Get("Content-Type"); ct != TypeText {
					t.Errorf("Content-Type = %q; want %q", ct, TypeText)
				}
				if want := int64(len(ErrorBody(tt.wantStatus))); resp.ContentLength != want {
					t.Errorf("ContentLength = %d; want %d", resp.ContentLength, want)
				}
			}
		})
	}
}
