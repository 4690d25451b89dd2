package ws

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"unsafe"
)

// rmsg is a delivery of a Reader, payload copied.
type rmsg struct {
	op         Opcode
	fin        bool
	compressed bool
	code       StatusCode
	payload    string
}

func (m rmsg) String() string {
	p := m.payload
	if len(p) > 40 {
		p = fmt.Sprintf("%q...(%d bytes)", p[:32], len(p))
	} else {
		p = fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("{%v fin=%v z=%v code=%d %s}", m.op, m.fin, m.compressed, m.code, p)
}

func record(m Message) rmsg {
	return rmsg{m.Op, m.Fin, m.Compressed, m.Code, string(m.Payload)}
}

// Expected deliveries.
func msgText(s string) rmsg         { return rmsg{op: OpText, fin: true, payload: s} }
func msgBin(s string) rmsg          { return rmsg{op: OpBinary, fin: true, payload: s} }
func msgZ(op Opcode, s string) rmsg { return rmsg{op: op, fin: true, compressed: true, payload: s} }
func msgCtl(op Opcode, s string) rmsg {
	return rmsg{op: op, fin: true, payload: s}
}
func msgClose(code StatusCode, p string) rmsg {
	return rmsg{op: OpClose, fin: true, code: code, payload: p}
}
func msgFrame(op Opcode, fin bool, s string) rmsg {
	return rmsg{op: op, fin: fin, payload: s}
}

// Frames as a client sends them (masked).
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

func fr(op Opcode, fin bool, p string) []byte {
	return AppendMaskedFrame(nil, op, fin, 0, testKey, []byte(p))
}

func frRsv(op Opcode, fin bool, rsv byte, p []byte) []byte {
	return AppendMaskedFrame(nil, op, fin, rsv, testKey, p)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// zstream compresses messages in order as a client would (context takeover,
// 15-bit window), so the Reader's Decompressor must follow the same order.
type zstream struct{ c Compressor }

func newZ(t testing.TB) *zstream {
	z := &zstream{}
	if err := z.c.Init(15, true, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(z.c.Release)
	return z
}

func (z *zstream) compress(t testing.TB, s string) []byte {
	out, err := z.c.Compress(nil, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readerCfg describes a ReaderConfig; deflate builds a fresh Decompressor
// for every run (with context takeover, like zstream).
type readerCfg struct {
	max, frags     int
	frames, client bool
	deflate        bool
	pool           BufferPool
}

func (c readerCfg) build(t testing.TB) ReaderConfig {
	cfg := ReaderConfig{MaxMessage: int64(c.max), MaxFragments: c.frags, Frames: c.frames, Client: c.client, Pool: c.pool}
	if c.deflate {
		d := new(Decompressor)
		if err := d.Init(15, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Release)
		cfg.Inflate = d
	}
	return cfg
}

// feed runs a fresh Reader over chunks as a connection would: each chunk
// is appended to what was not consumed yet (as a copy: Read unmasks in
// place), and Read is called until it needs more. It returns the
// deliveries, the error, how many input bytes had been fed when the error
// came, and whether the Reader ended idle.
func feed(t *testing.T, cfg ReaderConfig, chunks [][]byte) (got []rmsg, err error, at int, idle bool) {
	t.Helper()
	var r Reader
	r.Init(cfg)
	defer r.Release()
	var pending []byte
	fed := 0
	for _, c := range chunks {
		pending = append(pending, c...)
		fed += len(c)
		for len(pending) > 0 {
			n, m, err := r.Read(pending)
			if n < 0 || n > len(pending) {
				t.Fatalf("Read(%d bytes) consumed %d", len(pending), n)
			}
			if err == ErrNeedMore {
				if n != len(pending) {
					t.Fatalf("Read(%d bytes) = %d, ErrNeedMore; want every byte consumed", len(pending), n)
				}
				pending = pending[n:]
				break
			}
			if err != nil {
				if _, ok := CloseCode(err); !ok {
					t.Fatalf("Read error %v is not a *ProtocolError", err)
				}
				if n2, _, err2 := r.Read(pending[n:]); err2 != err || n2 != 0 {
					t.Fatalf("Read after %v = %d, %v; want 0 and the same error", err, n2, err2)
				}
				return got, err, fed, r.Idle()
			}
			if n == 0 && len(m.Payload) == 0 && m.Op == 0 {
				t.Fatalf("Read delivered nothing and consumed nothing")
			}
			got = append(got, record(m))
			pending = pending[n:]
		}
	}
	return got, nil, fed, r.Idle()
}

// chunkings returns the ways a case's input is fed: whole, a byte per
// chunk, split in two at every offset (at a sample of offsets for long
// inputs) and random chunk sizes.
func chunkings(in []byte, seed int64) (names []string, runs [][][]byte) {
	add := func(name string, chunks ...[]byte) {
		names = append(names, name)
		runs = append(runs, chunks)
	}
	add("whole", in)
	bytewise := make([][]byte, len(in))
	for i := range in {
		bytewise[i] = in[i : i+1]
	}
	add("bytewise", bytewise...)
	r := rand.New(rand.NewSource(seed))
	for s := 1; s < len(in); s++ {
		if len(in) > 4096 && s > 64 && s < len(in)-64 && r.Intn(len(in)/256) != 0 {
			continue
		}
		add(fmt.Sprintf("split %d", s), in[:s], in[s:])
	}
	for k := 0; k < 4; k++ {
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+r.Intn([]int{3, 17, 300, 5000}[r.Intn(4)]))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		add(fmt.Sprintf("random %d", k), chunks...)
	}
	return names, runs
}

type readerCase struct {
	name string
	cfg  readerCfg
	in   []byte
	want []rmsg
	err  error
	// failAt is the index of the input byte whose arrival must bring
	// err (checked byte by byte); -1 when not asserted.
	failAt int
	// open: the input ends inside a fragmented message, so the Reader is
	// not idle at the end.
	open bool
}

func runReaderCase(t *testing.T, tc readerCase) {
	t.Helper()
	names, runs := chunkings(tc.in, int64(len(tc.name)))
	for i, chunks := range runs {
		got, err, at, idle := feed(t, tc.cfg.build(t), chunks)
		if err != tc.err {
			t.Fatalf("%s: error %v; want %v (deliveries %v)", names[i], err, tc.err, got)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Fatalf("%s: deliveries\n %v\nwant\n %v", names[i], got, tc.want)
		}
		if err == nil && idle == tc.open {
			t.Fatalf("%s: Idle() = %v after the whole input; want %v", names[i], idle, !tc.open)
		}
		if err != nil && names[i] == "bytewise" && tc.failAt >= 0 && at != tc.failAt+1 {
			t.Fatalf("bytewise: %v reported after %d bytes; want at byte %d (fail fast)", err, at, tc.failAt)
		}
	}
}

func TestReaderMessages(t *testing.T) {
	p125 := strings.Repeat("p", 125)
	sizes := [][]byte{}
	var wantSizes []rmsg
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		p := strings.Repeat(string(rune('a'+n%26)), n)
		sizes = append(sizes, fr(OpBinary, true, p))
		wantSizes = append(wantSizes, msgBin(p))
	}
	utf := "aé€😀z"
	var utfFrags [][]byte
	for i := 0; i < len(utf); i++ { // one byte per fragment: code points span fragments
		utfFrags = append(utfFrags, fr(map[bool]Opcode{true: OpText, false: OpContinuation}[i == 0], i == len(utf)-1, utf[i:i+1]))
	}
	cases := []readerCase{
		{name: "text", in: fr(OpText, true, "hello"), want: []rmsg{msgText("hello")}},
		{name: "empty text and binary", in: cat(fr(OpText, true, ""), fr(OpBinary, true, "")), want: []rmsg{msgText(""), msgBin("")}},
		{name: "payload lengths around the encodings", in: cat(sizes...), want: wantSizes},
		{name: "binary is not checked as UTF-8", in: fr(OpBinary, true, "\xc0\xaf\xed\xa0\x80"), want: []rmsg{msgBin("\xc0\xaf\xed\xa0\x80")}},
		{name: "multi-byte text", in: fr(OpText, true, utf), want: []rmsg{msgText(utf)}},
		{name: "code points split across 1-byte fragments", in: cat(utfFrags...), want: []rmsg{msgText(utf)}},
		{name: "fragments", in: cat(fr(OpText, false, "frag"), fr(OpContinuation, false, "men"), fr(OpContinuation, true, "ts")), want: []rmsg{msgText("fragments")}},
		{name: "empty fragments", in: cat(fr(OpBinary, false, ""), fr(OpContinuation, false, "a"), fr(OpContinuation, false, ""), fr(OpContinuation, true, "")), want: []rmsg{msgBin("a")}},
		{name: "only the last fragment has data", in: cat(fr(OpText, false, ""), fr(OpContinuation, true, "last")), want: []rmsg{msgText("last")}},
		{name: "control frames between fragments",
			in: cat(fr(OpText, false, "a"), fr(OpPing, true, "p1"), fr(OpContinuation, false, "b"), fr(OpPong, true, "unasked"),
				fr(OpContinuation, false, "c"), fr(OpPing, true, ""), fr(OpContinuation, true, "d"), fr(OpText, true, "next")),
			want: []rmsg{msgCtl(OpPing, "p1"), msgCtl(OpPong, "unasked"), msgCtl(OpPing, ""), msgText("abcd"), msgText("next")}},
		{name: "close between fragments", in: cat(fr(OpText, false, "unfinished"), fr(OpClose, true, "\x03\xe8")), want: []rmsg{msgClose(1000, "\x03\xe8")}, open: true},
		{name: "ping 125 bytes", in: fr(OpPing, true, p125), want: []rmsg{msgCtl(OpPing, p125)}},
		{name: "close without payload", in: fr(OpClose, true, ""), want: []rmsg{msgClose(StatusNoStatusRcvd, "")}},
		{name: "close with code and reason", in: fr(OpClose, true, "\x0b\xb8bye \u00e9"), want: []rmsg{msgClose(3000, "\x0b\xb8bye \u00e9")}},
		{name: "message at the size limit", cfg: readerCfg{max: 10}, in: cat(fr(OpBinary, false, "12345"), fr(OpContinuation, true, "67890")), want: []rmsg{msgBin("1234567890")}},
		{name: "fragments at the cap", cfg: readerCfg{frags: 3}, in: cat(fr(OpText, false, "a"), fr(OpContinuation, false, "b"), fr(OpContinuation, true, "c")), want: []rmsg{msgText("abc")}},
		{name: "client reads unmasked frames", cfg: readerCfg{client: true},
			in:   cat(AppendFrame(nil, OpText, false, 0, []byte("serv")), AppendFrame(nil, OpPing, true, 0, nil), AppendFrame(nil, OpContinuation, true, 0, []byte("er"))),
			want: []rmsg{msgCtl(OpPing, ""), msgText("server")}},
		{name: "frames: each data frame as it completes", cfg: readerCfg{frames: true},
			in: cat(fr(OpText, true, "whole"), fr(OpText, false, "ab"), fr(OpPing, true, "p"), fr(OpContinuation, false, "cd"), fr(OpContinuation, true, "ef"),
				fr(OpBinary, false, strings.Repeat("B", 300)), fr(OpContinuation, true, "")),
			want: []rmsg{msgText("whole"), msgFrame(OpText, false, "ab"), msgCtl(OpPing, "p"), msgFrame(OpContinuation, false, "cd"), msgFrame(OpContinuation, true, "ef"),
				msgFrame(OpBinary, false, strings.Repeat("B", 300)), msgFrame(OpContinuation, true, "")}},
		{name: "frames: text split inside a code point", cfg: readerCfg{frames: true},
			in:   cat(fr(OpText, false, "\xe2\x82"), fr(OpContinuation, true, "\xac")),
			want: []rmsg{msgFrame(OpText, false, "\xe2\x82"), msgFrame(OpContinuation, true, "\xac")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runReaderCase(t, tc) })
	}
}

func TestReaderCompressed(t *testing.T) {
	// Each case compresses its messages in order with context takeover,
	// so later messages refer back to earlier ones.
	type zcase struct {
		name   string
		frames bool
		build  func(z *zstream) ([]byte, []rmsg)
	}
	long := strings.Repeat("compressible text, κόσμε 😀 ", 2000)
	cases := []zcase{
		{"one frame", false, func(z *zstream) ([]byte, []rmsg) {
			return frRsv(OpText, true, Rsv1, z.compress(t, "hello hello hello")), []rmsg{msgZ(OpText, "hello hello hello")}
		}},
		{"large text", false, func(z *zstream) ([]byte, []rmsg) {
			return frRsv(OpText, true, Rsv1, z.compress(t, long)), []rmsg{msgZ(OpText, long)}
		}},
		{"empty", false, func(z *zstream) ([]byte, []rmsg) {
			return frRsv(OpBinary, true, Rsv1, nil), []rmsg{msgZ(OpBinary, "")}
		}},
		{"fragmented with control frames between", false, func(z *zstream) ([]byte, []rmsg) {
			c := z.compress(t, long)
			third := len(c) / 3
			return cat(frRsv(OpText, false, Rsv1, c[:third]), fr(OpPing, true, "mid"), frRsv(OpContinuation, false, 0, c[third:2*third]),
					fr(OpPong, true, ""), frRsv(OpContinuation, true, 0, c[2*third:])),
				[]rmsg{msgCtl(OpPing, "mid"), msgCtl(OpPong, ""), msgZ(OpText, long)}
		}},
		{"context takeover with uncompressed messages between", false, func(z *zstream) ([]byte, []rmsg) {
			a, b := z.compress(t, "the same words again"), z.compress(t, "the same words again and again")
			return cat(frRsv(OpText, true, Rsv1, a), fr(OpBinary, true, "plain"), frRsv(OpText, true, Rsv1, b)),
				[]rmsg{msgZ(OpText, "the same words again"), msgBin("plain"), msgZ(OpText, "the same words again and again")}
		}},
		{"frames: compressed messages still whole", true, func(z *zstream) ([]byte, []rmsg) {
			c := z.compress(t, "delivered whole")
			return cat(frRsv(OpText, false, Rsv1, c[:3]), frRsv(OpContinuation, true, 0, c[3:]), fr(OpText, false, "a"), fr(OpContinuation, true, "b")),
				[]rmsg{msgZ(OpText, "delivered whole"), msgFrame(OpText, false, "a"), msgFrame(OpContinuation, true, "b")}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, want := tc.build(newZ(t))
			runReaderCase(t, readerCase{name: tc.name, cfg: readerCfg{deflate: true, frames: tc.frames}, in: in, want: want})
		})
	}
}

// TestReaderViolations: every violation fails with its error and close
// code, whatever the split, and as soon as the offending byte arrives.
func TestReaderViolations(t *testing.T) {
	const hdr = 6 // a masked frame header with a 7-bit length
	z := newZ(t)
	bomb := z.compress(t, strings.Repeat("\x00", 5000))
	badUTF8 := newZ(t).compress(t, "ok \xed\xa0\x80")
	corrupt := []byte{0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		readerCase
		code StatusCode
	}{
		{readerCase{name: "unmasked", in: AppendFrame(nil, OpText, true, 0, []byte("x")), err: ErrUnmasked, failAt: 1}, 1002},
		{readerCase{name: "masked, read as a client", cfg: readerCfg{client: true}, in: fr(OpText, true, "x"), err: ErrMasked, failAt: 1}, 1002},
		{readerCase{name: "rsv1 without deflate", in: frRsv(OpText, true, Rsv1, []byte("x")), err: ErrRSV, failAt: 0}, 1002},
		{readerCase{name: "rsv2", cfg: readerCfg{deflate: true}, in: frRsv(OpText, true, Rsv2, []byte("x")), err: ErrRSV, failAt: 0}, 1002},
		{readerCase{name: "rsv3", in: frRsv(OpBinary, true, Rsv3, []byte("x")), err: ErrRSV, failAt: 0}, 1002},
		{readerCase{name: "rsv1 on a continuation", cfg: readerCfg{deflate: true},
			in: cat(fr(OpText, false, "a"), frRsv(OpContinuation, true, Rsv1, []byte("b"))), err: ErrRSV, failAt: hdr + 1}, 1002},
		{readerCase{name: "rsv1 on a ping", cfg: readerCfg{deflate: true}, in: frRsv(OpPing, true, Rsv1, nil), err: ErrRSV, failAt: 0}, 1002},
		{readerCase{name: "opcode 3", in: fr(3, true, "x"), err: ErrReservedOpcode, failAt: 0}, 1002},
		{readerCase{name: "opcode 0xB after a message", in: cat(fr(OpText, true, "ok"), fr(0xB, true, "")), want: []rmsg{msgText("ok")}, err: ErrReservedOpcode, failAt: hdr + 2}, 1002},
		{readerCase{name: "continuation without start", in: fr(OpContinuation, true, "x"), err: ErrContinuationWithoutStart, failAt: hdr - 1}, 1002},
		{readerCase{name: "continuation after a whole message", in: cat(fr(OpText, true, "w"), fr(OpContinuation, false, "x")), want: []rmsg{msgText("w")}, err: ErrContinuationWithoutStart, failAt: 2*hdr + 1 - 1}, 1002},
		{readerCase{name: "text inside a fragmented message", in: cat(fr(OpText, false, "a"), fr(OpText, true, "b")), err: ErrDataInsideFragmented, failAt: 2*hdr + 1 - 1}, 1002},
		{readerCase{name: "binary inside a fragmented message, frames", cfg: readerCfg{frames: true},
			in: cat(fr(OpBinary, false, "a"), fr(OpBinary, true, "b")), want: []rmsg{msgFrame(OpBinary, false, "a")}, err: ErrDataInsideFragmented, failAt: 2*hdr + 1 - 1}, 1002},
		{readerCase{name: "fragmented ping", in: fr(OpPing, false, "a"), err: ErrControlFragmented, failAt: 0}, 1002},
		{readerCase{name: "fragmented close", in: fr(OpClose, false, ""), err: ErrControlFragmented, failAt: 0}, 1002},
		{readerCase{name: "ping of 126 bytes", in: fr(OpPing, true, strings.Repeat("x", 126)), err: ErrControlTooLong, failAt: 1}, 1002},
		// Length errors show once the header is complete.
		{readerCase{name: "non-minimal 16-bit length", in: []byte{0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}, err: ErrNonMinimalLength, failAt: 7}, 1002},
		{readerCase{name: "non-minimal 64-bit length", in: []byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 1, 2, 3, 4}, err: ErrNonMinimalLength, failAt: 13}, 1002},
		{readerCase{name: "64-bit length with the top bit set", in: []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, err: ErrLengthOverflow, failAt: 13}, 1002},
		{readerCase{name: "invalid UTF-8", in: fr(OpText, true, "ab\xc0\xafcd"), err: ErrInvalidUTF8, failAt: hdr + 2}, 1007},
		{readerCase{name: "surrogate", in: fr(OpText, true, "ok\xed\xa0\x80"), err: ErrInvalidUTF8, failAt: hdr + 3}, 1007},
		{readerCase{name: "invalid UTF-8 in a later fragment", in: cat(fr(OpText, false, "fine"), fr(OpPing, true, ""), fr(OpContinuation, true, "x\xffy")),
			want: []rmsg{msgCtl(OpPing, "")}, err: ErrInvalidUTF8, failAt: hdr + 4 + hdr + hdr + 1}, 1007},
		{readerCase{name: "invalid UTF-8 across fragments", in: cat(fr(OpText, false, "\xf0\x9f"), fr(OpContinuation, true, "\x98\x28")), err: ErrInvalidUTF8, failAt: 2*hdr + 2 + 1}, 1007},
		{readerCase{name: "text ends inside a code point", in: fr(OpText, true, "ok\xe2\x82"), err: ErrInvalidUTF8, failAt: hdr + 3}, 1007},
		{readerCase{name: "frames: text ends inside a code point", cfg: readerCfg{frames: true}, in: cat(fr(OpText, false, "\xe2"), fr(OpContinuation, true, "\x82")),
			want: []rmsg{msgFrame(OpText, false, "\xe2")}, err: ErrInvalidUTF8, failAt: 2*hdr + 1}, 1007},
		{readerCase{name: "close of one byte", in: fr(OpClose, true, "\x03"), err: ErrBadClosePayload, failAt: hdr}, 1002},
		{readerCase{name: "close code 1005", in: fr(OpClose, true, "\x03\xed"), err: ErrInvalidCloseCode, failAt: hdr + 1}, 1002},
		{readerCase{name: "close code 999", in: fr(OpClose, true, "\x03\xe7"), err: ErrInvalidCloseCode, failAt: hdr + 1}, 1002},
		{readerCase{name: "close reason not UTF-8", in: fr(OpClose, true, "\x03\xe8\xff"), err: ErrCloseReasonUTF8, failAt: hdr + 2}, 1007},
		{readerCase{name: "frame over the message limit", cfg: readerCfg{max: 10}, in: fr(OpBinary, true, "12345678901"), err: ErrMessageTooBig, failAt: hdr - 1}, 1009},
		{readerCase{name: "fragments over the message limit", cfg: readerCfg{max: 10}, in: cat(fr(OpText, false, "123456"), fr(OpContinuation, true, "78901")), err: ErrMessageTooBig, failAt: 2*hdr + 6 - 1}, 1009},
		{readerCase{name: "declared 16 MiB, nothing sent", cfg: readerCfg{max: 1 << 20}, in: []byte{0x82, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 4}, err: ErrMessageTooBig, failAt: 13}, 1009},
		{readerCase{name: "too many fragments", cfg: readerCfg{frags: 3}, in: cat(fr(OpText, false, "a"), fr(OpContinuation, false, ""), fr(OpContinuation, false, ""), fr(OpContinuation, true, "")),
			err: ErrTooManyFragments, failAt: 4*hdr + 1 - 1}, 1009},
		{readerCase{name: "inflate bomb", cfg: readerCfg{max: 1000, deflate: true}, in: frRsv(OpBinary, true, Rsv1, bomb), err: ErrMessageTooBig, failAt: hdr + len(bomb) - 1}, 1009},
		{readerCase{name: "corrupt deflate stream", cfg: readerCfg{deflate: true}, in: frRsv(OpBinary, true, Rsv1, corrupt), err: ErrBadDeflate, failAt: hdr + len(corrupt) - 1}, 1007},
		{readerCase{name: "compressed text not UTF-8", cfg: readerCfg{deflate: true}, in: frRsv(OpText, true, Rsv1, badUTF8), err: ErrInvalidUTF8, failAt: hdr + len(badUTF8) - 1}, 1007},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, _ := CloseCode(tc.err); code != tc.code {
				t.Fatalf("CloseCode(%v) = %d; want %d", tc.err, code, tc.code)
			}
			runReaderCase(t, tc.readerCase)
		})
	}
}

// TestReaderInPlace: a message whole in one buffer is delivered without a
// copy; one that arrived in pieces comes from the Reader's buffer.
func TestReaderInPlace(t *testing.T) {
	in := cat(fr(OpText, true, "in place"), fr(OpPing, true, "ping"))
	var r Reader
	n, m, err := r.Read(in)
	if err != nil || string(m.Payload) != "in place" || !inside(m.Payload, in) {
		t.Fatalf("Read = %v, %q (inside input %v); want the payload in place", err, m.Payload, inside(m.Payload, in))
	}
	_, m, err = r.Read(in[n:])
	if err != nil || string(m.Payload) != "ping" || !inside(m.Payload, in) {
		t.Fatalf("Read = %v, %q; want the ping in place", err, m.Payload)
	}
	split := fr(OpBinary, true, "split payload")
	k, _, err := r.Read(split[:9])
	if err != ErrNeedMore || k != 9 {
		t.Fatalf("Read(first 9 bytes) = %d, %v; want 9, ErrNeedMore", k, err)
	}
	rest := bytes.Clone(split[9:])
	_, m, err = r.Read(rest)
	if err != nil || string(m.Payload) != "split payload" || inside(m.Payload, rest) {
		t.Fatalf("Read = %v, %q; want the gathered payload from the Reader's buffer", err, m.Payload)
	}
}

func inside(p, b []byte) bool {
	if len(p) == 0 {
		return false
	}
	s, e := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return e >= s && e < s+uintptr(len(b))
}

// countingPool checks that every buffer a Reader borrows comes back. A
// Reader may also give it buffers it did not lend (grown by Decompress).
type countingPool struct {
	out     map[*byte]bool
	gets    int
	foreign int
	bytes   int // capacity lent in all
}

func (p *countingPool) Get(n int) []byte {
	b := make([]byte, 0, max(n, 64))
	p.bytes += cap(b)
	if p.out == nil {
		p.out = map[*byte]bool{}
	}
	p.out[unsafe.SliceData(b[:1])] = true
	p.gets++
	return b
}

func (p *countingPool) Put(b []byte) {
	k := unsafe.SliceData(b[:1])
	if !p.out[k] {
		p.foreign++
		return
	}
	delete(p.out, k)
}

func TestReaderPool(t *testing.T) {
	z := newZ(t)
	long := strings.Repeat("x", 200000) // grows the buffer several times
	c := z.compress(t, long)
	in := cat(fr(OpText, false, "a"), fr(OpContinuation, true, "b"), fr(OpBinary, true, long),
		frRsv(OpText, false, Rsv1, c[:10]), frRsv(OpContinuation, true, 0, c[10:]), fr(OpText, false, "open"))
	for _, chunk := range []int{7, 1000, len(in)} {
		pool := &countingPool{}
		var r Reader
		r.Init(readerCfg{deflate: true, pool: pool}.build(t))
		var got []string
		var pending []byte
		for off := 0; off < len(in); off += chunk {
			pending = append(pending, in[off:min(off+chunk, len(in))]...)
			for len(pending) > 0 {
				n, m, err := r.Read(pending)
				if err == ErrNeedMore {
					pending = pending[n:]
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(m.Payload))
				pending = pending[n:]
			}
		}
		if len(got) != 3 || got[0] != "ab" || got[1] != long || got[2] != long {
			t.Fatalf("chunk %d: %d messages; want ab, the long binary and the long compressed text", chunk, len(got))
		}
		if r.Idle() || r.Buffered() == 0 {
			t.Fatalf("chunk %d: Idle() = %v, Buffered() = %d inside a fragmented message", chunk, r.Idle(), r.Buffered())
		}
		r.Release()
		if len(pool.out) != 0 || r.Buffered() != 0 {
			t.Fatalf("chunk %d: %d of %d buffers not given back after Release", chunk, len(pool.out), pool.gets)
		}
	}
}

// TestReaderManyFragments: a large message in many small fragments (as
// clients with a small write buffer send it) is gathered with buffers that
// double: the bytes borrowed stay within a small multiple of the message,
// not quadratic in the number of fragments.
func TestReaderManyFragments(t *testing.T) {
	const frag, n = 4 << 10, 2048 // 8 MiB
	piece := strings.Repeat("f", frag)
	var in []byte
	for k := 0; k < n; k++ {
		op := OpContinuation
		if k == 0 {
			op = OpBinary
		}
		in = append(in, fr(op, k == n-1, piece)...)
	}
	for _, chunk := range []int{frag + 6, 64 << 10} {
		pool := &countingPool{}
		var r Reader
		r.Init(ReaderConfig{MaxMessage: 16 << 20, Pool: pool})
		work := bytes.Clone(in)
		got := 0
		for rest := work; len(rest) > 0; {
			b := rest[:min(chunk, len(rest))]
			k, m, err := r.Read(b)
			rest = rest[k:]
			if err == ErrNeedMore {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got = len(m.Payload)
		}
		if got != frag*n {
			t.Fatalf("chunk %d: message of %d bytes; want %d", chunk, got, frag*n)
		}
		if pool.bytes > 3*frag*n {
			t.Errorf("chunk %d: %d bytes borrowed for a %d-byte message in %d fragments; want at most 3x", chunk, pool.bytes, frag*n, n)
		}
		r.Release()
	}
}

// TestReaderPayloadLifetime: a gathered payload stays intact until the next
// Read, even when that next message is gathered too.
func TestReaderPayloadLifetime(t *testing.T) {
	var r Reader
	in := cat(fr(OpBinary, false, "first "), fr(OpContinuation, true, "message"), fr(OpBinary, false, "second "), fr(OpContinuation, true, "one"))
	n, m, err := r.Read(bytes.Clone(in))
	if err != nil || string(m.Payload) != "first message" {
		t.Fatalf("Read = %v %q", err, m.Payload)
	}
	keep := m.Payload
	if string(keep) != "first message" {
		t.Fatalf("payload changed before the next Read: %q", keep)
	}
	_, m, err = r.Read(bytes.Clone(in[n:]))
	if err != nil || string(m.Payload) != "second one" {
		t.Fatalf("Read = %v %q", err, m.Payload)
	}
}

func TestReaderIdle(t *testing.T) {
	var r Reader
	if !r.Idle() {
		t.Fatal("zero Reader not idle")
	}
	steps := []struct {
		in   []byte
		idle bool
	}{
		{fr(OpText, true, "x")[:1], false},    // partial header
		{fr(OpText, true, "x")[1:6], false},   // header done, payload missing
		{fr(OpText, true, "x")[6:], true},     // delivered
		{fr(OpText, false, "a"), false},       // inside a fragmented message
		{fr(OpPing, true, ""), false},         // still inside it
		{fr(OpContinuation, true, "b"), true}, // message done
		{fr(OpClose, true, "\x03"), false},    // failed
	}
	for i, s := range steps {
		for b := s.in; len(b) > 0; {
			n, _, err := r.Read(b)
			b = b[n:]
			if err != nil {
				break
			}
		}
		if r.Idle() != s.idle {
			t.Fatalf("step %d: Idle() = %v; want %v", i, r.Idle(), s.idle)
		}
	}
	r.Release()
	if !r.Idle() {
		t.Fatal("not idle after Release")
	}
	if _, m, err := r.Read(fr(OpText, true, "again")); err != nil || string(m.Payload) != "again" {
		t.Fatalf("Read after Release = %v %q; want a fresh start", err, m.Payload)
	}
}
