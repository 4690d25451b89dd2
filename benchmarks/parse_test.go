package benchmarks

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	nethttp "net/http"
	"strings"
	"testing"

	evhttp "github.com/evhttpd/httpd/codec/http"
	"github.com/evhttpd/httpd/internal/testreqs"
	"github.com/valyala/fasthttp"
)

// parseInputs are the requests every parser is measured on. body is the
// decoded body for inputs that carry one.
var parseInputs = []struct {
	name string
	req  string
	body string
}{
	{"Wrk49", testreqs.Wrk49, ""},
	{"Hdr219", testreqs.Hdr219, ""},
	{"Browser700", testreqs.Browser700, ""},
	{"ChunkedPost", testreqs.ChunkedPost, testreqs.ChunkedPostBody},
}

// errIncomplete reports that a parser stopped before the end of an input
// that holds a whole request.
var errIncomplete = errors.New("benchmarks: request incomplete")

// evParser is evhttpd's codec as a server drives it: one Parser and one
// ChunkedDecoder per connection, reused for every request.
type evParser struct {
	p   evhttp.Parser
	d   evhttp.ChunkedDecoder
	dst []byte // preallocated body buffer; bodies returned alias it
}

func newEvParser(l evhttp.Limits) *evParser {
	e := &evParser{dst: make([]byte, 4096)}
	e.p.Init(l)
	return e
}

// parse parses the whole request in b. The body, when the request is
// chunked, is decoded into e.dst and valid until the next call.
func (e *evParser) parse(b []byte) (body []byte, err error) {
	e.p.Reset()
	n, err := e.p.ParseHead(b)
	if err != nil {
		return nil, err
	}
	if !e.p.Chunked() {
		return nil, nil
	}
	e.d.Init(evhttp.Limits{})
	nDst, _, err := e.d.Decode(e.dst, b[n:])
	if err != nil {
		return nil, err
	}
	if !e.d.Done() {
		return nil, errIncomplete
	}
	return e.dst[:nDst], nil
}

// parseByteAtATime parses b as a server sees it when every read returns one
// byte: the head parser is offered the same buffer grown by one byte per
// call, and the chunked decoder the bytes it has not consumed yet. The body
// is valid until the next call.
func (e *evParser) parseByteAtATime(b []byte) (body []byte, err error) {
	e.p.Reset()
	n, i := 0, 1
	for ; i <= len(b); i++ {
		n, err = e.p.ParseHead(b[:i])
		if err != evhttp.ErrNeedMore {
			break
		}
	}
	if err != nil {
		if err == evhttp.ErrNeedMore {
			err = errIncomplete
		}
		return nil, err
	}
	if !e.p.Chunked() {
		return nil, nil
	}
	e.d.Init(evhttp.Limits{})
	src, nDst := n, 0
	for i = n + 1; i <= len(b) && !e.d.Done(); i++ {
		d, s, err := e.d.Decode(e.dst[nDst:], b[src:i])
		if err != nil {
			return nil, err
		}
		nDst += d
		src += s
	}
	if !e.d.Done() {
		return nil, errIncomplete
	}
	return e.dst[:nDst], nil
}

// fhParser reads requests the way fasthttp's own header benchmarks do: a
// bufio.Reader reset per request over a reader reset to the input.
type fhParser struct {
	rd  bytes.Reader
	br  *bufio.Reader
	h   fasthttp.RequestHeader
	req fasthttp.Request
}

func newFHParser() *fhParser {
	f := &fhParser{}
	f.br = bufio.NewReader(&f.rd)
	return f
}

// parseHeader reads the head only into f.h.
func (f *fhParser) parseHeader(b []byte) error {
	f.rd.Reset(b)
	f.br.Reset(&f.rd)
	f.h.Reset()
	return f.h.Read(f.br)
}

// parseRequest reads head and body into f.req.
func (f *fhParser) parseRequest(b []byte) error {
	f.rd.Reset(b)
	f.br.Reset(&f.rd)
	f.req.Reset()
	return f.req.Read(f.br)
}

// nhParser reads requests with net/http.ReadRequest.
type nhParser struct {
	rd bytes.Reader
	br *bufio.Reader
}

func newNHParser() *nhParser {
	n := &nhParser{}
	n.br = bufio.NewReader(&n.rd)
	return n
}

func (n *nhParser) parse(b []byte) (*nethttp.Request, error) {
	n.rd.Reset(b)
	n.br.Reset(&n.rd)
	return nethttp.ReadRequest(n.br)
}

// result is what every parser must agree on for the comparison to be fair.
type result struct {
	method string
	target string
	fields int // field lines as sent
	body   string
}

func evResult(e *evParser, body []byte) result {
	return result{string(e.p.Method()), string(e.p.Target()), e.p.NumHeaders(), string(body)}
}

func TestParsersAgree(t *testing.T) {
	for _, in := range parseInputs {
		t.Run(in.name, func(t *testing.T) {
			b := []byte(in.req)
			want := result{body: in.body}
			line, _, _ := strings.Cut(in.req, "\r\n")
			method, rest, _ := strings.Cut(line, " ")
			want.method = method
			want.target, _, _ = strings.Cut(rest, " ")
			head, _, _ := strings.Cut(in.req, "\r\n\r\n")
			want.fields = strings.Count(head, "\r\n")

			e := newEvParser(evhttp.Limits{})
			body, err := e.parse(b)
			if got := evResult(e, body); err != nil || got != want {
				t.Errorf("evhttpd Parse(%q) = %+v, %v; want %+v", in.req, got, err, want)
			}
			body, err = e.parseByteAtATime(b)
			if got := evResult(e, body); err != nil || got != want {
				t.Errorf("evhttpd byte at a time Parse(%q) = %+v, %v; want %+v", in.req, got, err, want)
			}

			f := newFHParser()
			err = f.parseHeader(b)
			got := result{method: string(f.h.Method()), target: string(f.h.RequestURI())}
			for range f.h.AllInOrder() {
				got.fields++
			}
			if wantHead := (result{want.method, want.target, want.fields, ""}); err != nil || got != wantHead {
				t.Errorf("fasthttp header Parse(%q) = %+v, %v; want %+v", in.req, got, err, wantHead)
			}
			err = f.parseRequest(b)
			got = result{method: string(f.req.Header.Method()), target: string(f.req.Header.RequestURI()), body: string(f.req.Body())}
			for range f.req.Header.AllInOrder() {
				got.fields++
			}
			if err != nil || got != want {
				t.Errorf("fasthttp request Parse(%q) = %+v, %v; want %+v", in.req, got, err, want)
			}

			n := newNHParser()
			req, err := n.parse(b)
			if err != nil {
				t.Fatalf("net/http Parse(%q) = %v; want a request", in.req, err)
			}
			got = result{method: req.Method, target: req.RequestURI}
			for _, v := range req.Header {
				got.fields += len(v)
			}
			// net/http moves Host into Request.Host and drops
			// Transfer-Encoding from Header once it has framed the body.
			if req.Host != "" {
				got.fields++
			}
			if len(req.TransferEncoding) > 0 {
				got.fields++
			}
			bb, err := io.ReadAll(req.Body)
			got.body = string(bb)
			if err != nil || got != want {
				t.Errorf("net/http Parse(%q) = %+v, %v; want %+v", in.req, got, err, want)
			}
		})
	}
}

func BenchmarkParseRequest(b *testing.B) {
	for _, in := range parseInputs {
		buf := []byte(in.req)
		chunked := in.body != ""
		b.Run(in.name+"/evhttpd", func(b *testing.B) {
			e := newEvParser(evhttp.Limits{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.parse(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/fasthttp", func(b *testing.B) {
			f := newFHParser()
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if chunked {
					err = f.parseRequest(buf)
				} else {
					err = f.parseHeader(buf)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/nethttp", func(b *testing.B) {
			n := newNHParser()
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				req, err := n.parse(buf)
				if err != nil {
					b.Fatal(err)
				}
				if chunked {
					if _, err := io.Copy(io.Discard, req.Body); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkParseByteAtATime is evhttpd's parser fed one more byte per call.
// Compare with BenchmarkParseRequest/<input>/evhttpd: an incremental parser
// that never rescans stays within a small factor of one whole parse.
func BenchmarkParseByteAtATime(b *testing.B) {
	for _, in := range parseInputs {
		buf := []byte(in.req)
		b.Run(in.name, func(b *testing.B) {
			e := newEvParser(evhttp.Limits{})
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.parseByteAtATime(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// callFloor is the least a push parser can do per call: resume from a saved
// offset, look at the new bytes, save the offset and report that it needs
// more. It is not inlined, like ParseHead, whose size keeps it out of line.
type callFloor struct {
	scan int
	buf  []byte
}

//go:noinline
func (f *callFloor) parse(b []byte) (n int, err error) {
	f.buf = b
	i := f.scan
	for i < len(b) && b[i] != 0 {
		i++
	}
	f.scan = i
	return 0, evhttp.ErrNeedMore
}

// BenchmarkParseCallFloor makes as many calls as BenchmarkParseByteAtATime
// to callFloor. It is the floor under byte-at-a-time parsing: what any push
// parser with this calling convention pays per call on this machine, however
// little it does per byte.
func BenchmarkParseCallFloor(b *testing.B) {
	for _, in := range parseInputs {
		buf := []byte(in.req)
		b.Run(in.name, func(b *testing.B) {
			var f callFloor
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				f.scan = 0
				for i := 1; i <= len(buf); i++ {
					if _, err := f.parse(buf[:i]); err != evhttp.ErrNeedMore {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// Worst-case inputs. The field-count case uses the largest field index the
// parser has (MaxHeadersCap) and the largest header byte budget, so the
// parser does the most work it ever does before it answers 431.
const (
	worstRequestLine = "GET / HTTP/1.1\r\nHost: x\r\n"
	worstTinyField   = "a:b\r\n"
)

var worstLimits = evhttp.Limits{
	MaxHeaders:     evhttp.MaxHeadersCap,
	MaxHeaderBytes: evhttp.MaxHeaderBytesCap,
}

var (
	worstFieldCounts = []struct {
		name   string
		fields int
	}{{"1k", 1000}, {"10k", 10000}}
	worstLineSizes = []struct {
		name string
		size int
	}{{"4KiB", 4 << 10}, {"16KiB", 16 << 10}, {"32KiB", 32 << 10}}
)

// manyFields is a request with n one-byte fields after Host.
func manyFields(n int) []byte {
	return []byte(worstRequestLine + strings.Repeat(worstTinyField, n) + "\r\n")
}

// manyFieldsErrAt is how many bytes of manyFields(n) the parser has seen
// when it fails: it fails on the first byte of the field line one past
// worstLimits.MaxHeaders (Host is the first field line).
func manyFieldsErrAt() int {
	return len(worstRequestLine) + (worstLimits.MaxHeaders-1)*len(worstTinyField) + 1
}

// longLine is a request whose one extra field value is size bytes long.
func longLine(size int) []byte {
	return []byte(worstRequestLine + "X-Long: " + strings.Repeat("a", size) + "\r\n\r\n")
}

func TestWorstCaseInputs(t *testing.T) {
	for _, c := range worstFieldCounts {
		t.Run("Fields/"+c.name, func(t *testing.T) {
			b := manyFields(c.fields)
			e := newEvParser(worstLimits)
			if _, err := e.parse(b); err != evhttp.ErrTooManyHeaders {
				t.Fatalf("Parse(%d tiny fields) = %v; want %v", c.fields, err, evhttp.ErrTooManyHeaders)
			}
			at := manyFieldsErrAt()
			e.p.Reset()
			if _, err := e.p.ParseHead(b[:at-1]); err != evhttp.ErrNeedMore {
				t.Fatalf("Parse(first %d bytes) = %v; want %v", at-1, err, evhttp.ErrNeedMore)
			}
			if _, err := e.p.ParseHead(b[:at]); err != evhttp.ErrTooManyHeaders {
				t.Fatalf("Parse(first %d bytes) = %v; want %v", at, err, evhttp.ErrTooManyHeaders)
			}
		})
	}
	for _, c := range worstLineSizes {
		t.Run("LongLine/"+c.name, func(t *testing.T) {
			b := longLine(c.size)
			e := newEvParser(worstLimits)
			if _, err := e.parseByteAtATime(b); err != nil {
				t.Fatalf("Parse(%d-byte field) = %v; want nil", c.size, err)
			}
			if v := e.p.Header("X-Long"); len(v) != c.size {
				t.Fatalf("Parse(%d-byte field): value has %d bytes; want %d", c.size, len(v), c.size)
			}
		})
	}
}

// reportNsPerByte adds ns/B, which must stay flat across sizes for a parser
// whose cost is linear in its input.
func reportNsPerByte(b *testing.B, size int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(size), "ns/B")
}

func BenchmarkParseWorstCase(b *testing.B) {
	for _, c := range worstFieldCounts {
		b.Run("Fields/"+c.name, func(b *testing.B) {
			buf := manyFields(c.fields)
			e := newEvParser(worstLimits)
			// Only the bytes up to the failure are work.
			b.SetBytes(int64(manyFieldsErrAt()))
			b.ReportAllocs()
			for b.Loop() {
				e.p.Reset()
				if _, err := e.p.ParseHead(buf); err != evhttp.ErrTooManyHeaders {
					b.Fatal(err)
				}
			}
			reportNsPerByte(b, manyFieldsErrAt())
		})
	}
	for _, c := range worstLineSizes {
		b.Run("LongLine/"+c.name, func(b *testing.B) {
			buf := longLine(c.size)
			e := newEvParser(worstLimits)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.parseByteAtATime(buf); err != nil {
					b.Fatal(err)
				}
			}
			reportNsPerByte(b, len(buf))
		})
	}
}
