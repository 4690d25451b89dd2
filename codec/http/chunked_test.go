package http

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evhttpd/httpd/internal/testreqs"
)

type chunkCase struct {
	name string
	in   string
	lim  Limits
	out  string // decoded data
	n    int    // bytes consumed when done; 0 means all of in
	done bool
	err  error
}

var chunkCases = []chunkCase{
	{name: "empty body", in: "0\r\n\r\n", done: true},
	{name: "one chunk", in: "5\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "two chunks", in: "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", out: "hello world", done: true},
	{name: "next request follows", in: "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", out: "hello", n: 15, done: true},
	{name: "curl post", in: testreqs.ChunkedPost[len(testreqs.ChunkedPostHead):], out: testreqs.ChunkedPostBody, done: true},
	{name: "upper hex", in: "A\r\n0123456789\r\n0\r\n\r\n", out: "0123456789", done: true},
	{name: "lower hex", in: "a\r\n0123456789\r\n0\r\n\r\n", out: "0123456789", done: true},
	{name: "mixed hex", in: "1aB\r\n" + strings.Repeat("x", 0x1ab) + "\r\n0\r\n\r\n", out: strings.Repeat("x", 0x1ab), done: true},
	{name: "leading zeros", in: "0005\r\nhello\r\n000\r\n\r\n", out: "hello", done: true},
	{name: "16 digits", in: "0000000000000005\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "data with CRLF inside", in: "4\r\n\r\n\r\n\r\n0\r\n\r\n", out: "\r\n\r\n", done: true},
	{name: "binary data", in: "4\r\n\x00\xff\n\r\r\n0\r\n\r\n", out: "\x00\xff\n\r", done: true},
	{name: "incomplete size", in: "5", out: ""},
	{name: "incomplete data", in: "5\r\nhel", out: "hel"},
	{name: "incomplete after data", in: "5\r\nhello\r", out: "hello"},
	{name: "incomplete trailers", in: "0\r\nX: 1\r\n", out: ""},
	{name: "incomplete final CR", in: "0\r\n\r", out: ""},
	{name: "nothing", in: ""},

	// Chunk extensions (RFC 9112 §7.1.1).
	{name: "ext token", in: "5;a=b\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext name only", in: "5;a\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext quoted", in: "5 ;a=\"q s\"\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext quoted pair", in: "5;a=\"q\\\"s\\\\\"\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext empty quoted", in: "5;a=\"\"\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext obs-text quoted", in: "5;a=\"\xe9\"\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext several", in: "5;a=b;c;d=\"e\"\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext BWS everywhere", in: "5 \t; a = b \t; c ; d\t=\t\"e\" ;f\r\nhello\r\n0\r\n\r\n", out: "hello", done: true},
	{name: "ext on last chunk", in: "5\r\nhello\r\n0;x=y\r\n\r\n", out: "hello", done: true},
	{name: "ext at limit", in: "5;" + strings.Repeat("a", 8) + "\r\nhello\r\n0\r\n\r\n", lim: Limits{MaxChunkExt: 9}, out: "hello", done: true},
	{name: "ext over limit", in: "5;" + strings.Repeat("a", 9) + "\r\nhello\r\n0\r\n\r\n", lim: Limits{MaxChunkExt: 9}, err: ErrChunkExtTooLong},
	{name: "ext over default limit", in: "5;a=\"" + strings.Repeat("x", 2000) + "\"\r\nhello\r\n0\r\n\r\n", err: ErrChunkExtTooLong},
	{name: "ext limit per line", in: "5;aaaaaaa\r\nhello\r\n5;bbbbbbb\r\nhello\r\n0\r\n\r\n", lim: Limits{MaxChunkExt: 8}, out: "hellohello", done: true},
	{name: "ext empty name", in: "5;\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext empty name before =", in: "5;=b\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext empty value", in: "5;a=\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext two names", in: "5;a b\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext two values", in: "5;a=b c\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext BWS before CR", in: "5;a \r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext unterminated quote", in: "5;a=\"x\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext text after quote", in: "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext NUL", in: "5;a\x00\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext NUL quoted", in: "5;a=\"\x00\"\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext bare LF", in: "5;a\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext no semicolon", in: "5 a\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "ext separator in name", in: "5;a/b\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},

	// Chunk size (RFC 9112 §7.1).
	{name: "size empty", in: "\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size 0x", in: "0x5\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size plus", in: "+5\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size minus", in: "-5\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size underscore", in: "1_0\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size leading space", in: " 5\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size trailing space", in: "5 \r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size 17 digits", in: "00000000000000005\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size not hex", in: "g\r\n", err: ErrBadChunk},
	{name: "size bare LF", in: "5\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size bare CR", in: "5\rhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "size CR CR", in: "5\r\r\nhello\r\n0\r\n\r\n", err: ErrBadChunk},
	{name: "data too long", in: "5\r\nhelloX\r\n0\r\n\r\n", out: "hello", err: ErrBadChunk},
	{name: "data bare LF", in: "5\r\nhello\n0\r\n\r\n", out: "hello", err: ErrBadChunk},
	{name: "data bare CR", in: "5\r\nhello\r0\r\n\r\n", out: "hello", err: ErrBadChunk},
	{name: "data no CRLF then size", in: "5\r\nhello5\r\nhello\r\n0\r\n\r\n", out: "hello", err: ErrBadChunk},
	{name: "body at limit", in: "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", lim: Limits{MaxBodySize: 10}, out: "helloworld", done: true},
	{name: "body over limit", in: "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", lim: Limits{MaxBodySize: 10}, out: "hello", err: ErrBodyTooLarge},
	{name: "chunk over limit", in: "b\r\nhello world\r\n0\r\n\r\n", lim: Limits{MaxBodySize: 10}, err: ErrBodyTooLarge},
	{name: "chunk 2^64-1", in: "ffffffffffffffff\r\n", err: ErrBodyTooLarge},
	{name: "chunk 2^63", in: "8000000000000000\r\n", lim: Limits{MaxBodySize: 1<<63 - 1}, err: ErrBodyTooLarge},
	{name: "chunk over default limit", in: "800001\r\n", err: ErrBodyTooLarge},

	// Trailer section (RFC 9112 §7.1.2).
	{name: "trailer", in: "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", out: "hello", done: true},
	{name: "trailer empty value", in: "0\r\nX:\r\n\r\n", done: true},
	{name: "trailer obs-text", in: "0\r\nX: \xe9\xff\r\n\r\n", done: true},
	{name: "trailer then request", in: "0\r\nX: 1\r\n\r\nGET", n: 11, done: true},
	{name: "trailer obs-fold", in: "0\r\nX: 1\r\n y\r\n\r\n", err: ErrObsFold},
	{name: "trailer space before colon", in: "0\r\nX : 1\r\n\r\n", err: ErrBadHeaderName},
	{name: "trailer empty name", in: "0\r\n: 1\r\n\r\n", err: ErrBadHeaderName},
	{name: "trailer no colon", in: "0\r\nX\r\n\r\n", err: ErrBadHeaderName},
	{name: "trailer CTL", in: "0\r\nX: \x01\r\n\r\n", err: ErrBadHeaderValue},
	{name: "trailer bare LF", in: "0\r\nX: 1\n\r\n", err: ErrBadHeaderValue},
	{name: "trailer bare CR", in: "0\r\nX: 1\rY\r\n", err: ErrBadChunk},
	{name: "final bare LF", in: "0\r\n\n", err: ErrBadChunk},
	{name: "final bare CR", in: "0\r\n\rX", err: ErrBadChunk},
	{name: "trailer fields at limit", in: "0\r\nA: 1\r\nB: 2\r\n\r\n", lim: Limits{MaxHeaders: 2}, done: true},
	{name: "trailer fields over limit", in: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim: Limits{MaxHeaders: 2}, err: ErrTooManyHeaders},
	{name: "trailer bytes at limit", in: "0\r\nA: 12\r\nB: 34\r\n\r\n", lim: Limits{MaxHeaderBytes: 14}, done: true},
	{name: "trailer bytes over limit", in: "0\r\nA: 12\r\nB: 345\r\n\r\n", lim: Limits{MaxHeaderBytes: 14}, err: ErrHeaderTooLarge},
	{name: "trailer 1000 fields", in: "0\r\n" + strings.Repeat("a:b\r\n", 1000) + "\r\n", err: ErrTooManyHeaders},
}

// feedChunked decodes in, delivered in pieces ending at cuts (then at
// len(in)), the way a connection does: unconsumed bytes stay pending, in
// fresh memory, and more are appended. dstSize bounds each call's output
// (0: as much as the input).
func feedChunked(lim Limits, in []byte, cuts []int, dstSize int) (out []byte, consumed int, done bool, err error) {
	var d ChunkedDecoder
	d.Init(lim)
	var pending []byte
	fed := 0
	for _, c := range append(cuts, len(in)) {
		pending = append(fresh(pending), in[fed:c]...)
		fed = c
		for {
			size := dstSize
			if size == 0 {
				size = len(pending)
			}
			dst := make([]byte, size)
			nd, ns, e := d.Decode(dst, pending)
			out = append(out, dst[:nd]...)
			consumed += ns
			pending = pending[ns:]
			if e != nil || d.Done() {
				return out, consumed, d.Done(), e
			}
			if nd == 0 && ns == 0 {
				break
			}
		}
	}
	return out, consumed, d.Done(), nil
}

func chunkResult(out []byte, consumed int, done bool, err error) string {
	return fmt.Sprintf("out=%q consumed=%d done=%t err=%v", out, consumed, done, err)
}

func TestChunkedDecoder(t *testing.T) {
	for _, c := range chunkCases {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(c.in)
			wantN := c.n
			if wantN == 0 && c.done {
				wantN = len(in)
			}
			whole := chunkResult(feedChunked(c.lim, in, nil, 0))
			if c.err == nil {
				if want := chunkResult([]byte(c.out), wantN, c.done, nil); c.done && whole != want {
					t.Fatalf("Decode(%q) = %s; want %s", c.in, whole, want)
				}
				if !c.done && whole != chunkResult([]byte(c.out), len(in), false, nil) {
					t.Fatalf("Decode(%q) = %s; want out=%q, all consumed, not done", c.in, whole, c.out)
				}
			} else {
				out, _, done, err := feedChunked(c.lim, in, nil, 0)
				if err != c.err || done || string(out) != c.out {
					t.Fatalf("Decode(%q) = %s; want out=%q err=%v", c.in, whole, c.out, c.err)
				}
			}
			check := func(how string, cuts []int, dstSize int) {
				t.Helper()
				if got := chunkResult(feedChunked(c.lim, in, cuts, dstSize)); got != whole {
					t.Fatalf("Decode(%q) fed %s %v dst %d = %s; want %s", c.in, how, cuts, dstSize, got, whole)
				}
			}
			cuts := make([]int, 0, len(in))
			for i := 1; i < len(in); i++ {
				cuts = append(cuts, i)
			}
			check("byte by byte", cuts, 0)
			check("whole", nil, 1)
			check("whole", nil, 3)
			for i := 0; i < len(in); i++ {
				check("split", []int{i}, 0)
				check("split", []int{i}, 2)
			}
			r := rand.New(rand.NewPCG(uint64(len(in)), 11))
			for k := 0; k < 30 && len(in) > 1; k++ {
				a, b := r.IntN(len(in)), r.IntN(len(in))
				check("3-way split", []int{min(a, b), max(a, b)}, 1+r.IntN(8))
			}
		})
	}
}

// chunkEncode writes data in chunked coding with random chunk sizes, hex
// case, leading zeros, extensions and trailers: an encoder independent of
// the decoder, for round trips.
func chunkEncode(r *rand.Rand, data []byte) []byte {
	exts := []string{"", "", ";a=b", " ;a=\"q s\"", ";x", ";name=\"v\\\"q\"", "\t; a = b ;c", ";sig=\"" + strings.Repeat("z", 40) + "\""}
	var b []byte
	hex := func(n int) string {
		s := fmt.Sprintf("%x", n)
		if r.IntN(2) == 0 {
			s = strings.ToUpper(s)
		}
		if pad := r.IntN(4); len(s)+pad <= 16 {
			s = strings.Repeat("0", pad) + s
		}
		return s
	}
	for len(data) > 0 {
		n := min(len(data), 1+r.IntN(300))
		b = append(b, hex(n)...)
		b = append(b, exts[r.IntN(len(exts))]...)
		b = append(b, "\r\n"...)
		b = append(b, data[:n]...)
		b = append(b, "\r\n"...)
		data = data[n:]
	}
	b = append(b, hex(0)...)
	b = append(b, exts[r.IntN(len(exts))]...)
	b = append(b, "\r\n"...)
	for k := r.IntN(4); k > 0; k-- {
		b = append(b, fmt.Sprintf("X-T%d: v\xe9 %d\r\n", k, r.Int())...)
	}
	return append(b, "\r\n"...)
}

func TestChunkedRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 300; k++ {
		data := make([]byte, r.IntN(3000))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		enc := chunkEncode(r, data)
		var cuts []int
		for i := r.IntN(6); i > 0; i-- {
			cuts = append(cuts, r.IntN(len(enc)))
		}
		sortInts(cuts)
		out, n, done, err := feedChunked(Limits{}, append(enc, "NEXT"...), cuts, r.IntN(64))
		if err != nil || !done || n != len(enc) || !bytes.Equal(out, data) {
			t.Fatalf("round trip %d: Decode(%q) = %d bytes, consumed %d, done %t, %v; want %d bytes, %d, true, nil",
				k, enc, len(out), n, done, err, len(data), len(enc))
		}
		// In place, as a server decodes its connection buffer.
		buf := append([]byte(nil), enc...)
		var d ChunkedDecoder
		d.Init(Limits{})
		w, rd := 0, 0
		for step := 1; rd < len(buf) && !d.Done(); step++ {
			end := min(len(buf), rd+r.IntN(200)+1)
			nd, ns, err := d.Decode(buf[w:end], buf[rd:end])
			if err != nil {
				t.Fatalf("in place round trip %d: %v", k, err)
			}
			w += nd
			rd += ns
		}
		if !d.Done() || rd != len(enc) || !bytes.Equal(buf[:w], data) {
			t.Fatalf("in place round trip %d: done %t, consumed %d of %d, data equal %t", k, d.Done(), rd, len(enc), bytes.Equal(buf[:w], data))
		}
	}
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func TestChunkedSticky(t *testing.T) {
	var d ChunkedDecoder
	d.Init(Limits{})
	dst := make([]byte, 16)
	if _, _, err := d.Decode(dst, []byte("x")); err != ErrBadChunk {
		t.Fatalf("Decode(%q) = %v; want %v", "x", err, ErrBadChunk)
	}
	if nd, ns, err := d.Decode(dst, []byte("0\r\n\r\n")); nd != 0 || ns != 0 || err != ErrBadChunk {
		t.Fatalf("Decode after error = %d, %d, %v; want 0, 0, %v", nd, ns, err, ErrBadChunk)
	}
	d.Init(Limits{})
	if _, ns, err := d.Decode(dst, []byte("0\r\n\r\nrest")); ns != 5 || err != nil || !d.Done() {
		t.Fatalf("Decode = %d, %v, done %t; want 5, nil, true", ns, err, d.Done())
	}
	if nd, ns, err := d.Decode(dst, []byte("rest")); nd != 0 || ns != 0 || err != nil {
		t.Fatalf("Decode after done = %d, %d, %v; want 0, 0, nil", nd, ns, err)
	}
	// The zero decoder uses the default limits.
	var z ChunkedDecoder
	if _, _, err := z.Decode(dst, []byte("800001\r\n")); err != ErrBodyTooLarge {
		t.Fatalf("zero decoder: Decode(8 MiB + 1) = %v; want %v", err, ErrBodyTooLarge)
	}
}

// TestChunkedFullDst checks that a full dst stops Decode at chunk data only:
// framing is consumed without room, so the end is reached with an empty dst.
func TestChunkedFullDst(t *testing.T) {
	var d ChunkedDecoder
	d.Init(Limits{})
	src := []byte("5\r\nhello\r\n0\r\n\r\n")
	nd, ns, err := d.Decode(nil, src)
	if nd != 0 || ns != 3 || err != nil {
		t.Fatalf("Decode(nil, %q) = %d, %d, %v; want 0, 3, nil", src, nd, ns, err)
	}
	dst := make([]byte, 5)
	nd, ns2, err := d.Decode(dst, src[ns:])
	if nd != 5 || ns2 != 12 || err != nil || !d.Done() {
		t.Fatalf("Decode = %d, %d, %v, done %t; want 5, 12, nil, true", nd, ns2, err, d.Done())
	}
}

func TestChunkStateString(t *testing.T) {
	for s := chunkSize; s <= chunkFailed; s++ {
		if str := s.String(); str == "" || strings.HasPrefix(str, "chunkState(") {
			t.Errorf("chunkState(%d).String() = %q", s, str)
		}
	}
	if got := chunkState(200).String(); got != "chunkState(?)" {
		t.Errorf("chunkState(200).String() = %q", got)
	}
}
