package ws

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
)

// parseChunks feeds chunks to a fresh parser and returns the total bytes
// consumed and the first non-ErrNeedMore result.
func parseChunks(t *testing.T, cfg ParserConfig, chunks ...[]byte) (int, Header, error) {
	t.Helper()
	p := FrameParser{Config: cfg}
	total := 0
	for _, c := range chunks {
		n, h, err := p.ParseHeader(c)
		if err == ErrNeedMore {
			if n != len(c) {
				t.Fatalf("ParseHeader(%q) = %d, ErrNeedMore; want n == %d", c, n, len(c))
			}
			total += n
			continue
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("ParseHeader(%q) = %d, %v; want n == 0 on error", c, n, err)
			}
			return total, h, err
		}
		return total + n, h, nil
	}
	return total, Header{}, ErrNeedMore
}

// checkAllSplits parses b whole, byte by byte and split at every offset and
// requires every result to equal (wantN, want, wantErr).
func checkAllSplits(t *testing.T, cfg ParserConfig, b []byte, wantN int, want Header, wantErr error) {
	t.Helper()
	check := func(how string, n int, h Header, err error) {
		t.Helper()
		if err != wantErr || (err == nil && (n != wantN || h != want)) {
			t.Fatalf("%s: ParseHeader(%q) = %d, %+v, %v; want %d, %+v, %v", how, b, n, h, err, wantN, want, wantErr)
		}
	}
	n, h, err := parseChunks(t, cfg, b)
	check("whole", n, h, err)
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	n, h, err = parseChunks(t, cfg, bytewise...)
	check("byte by byte", n, h, err)
	for i := 0; i <= len(b); i++ {
		n, h, err = parseChunks(t, cfg, b[:i], b[i:])
		check("split", n, h, err)
	}
}

func TestParseHeaderValid(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	server := ParserConfig{RequireMask: true}
	lengths := []int64{0, 1, 125, 126, 127, 128, 65535, 65536, 1 << 32, 1<<63 - 1}
	for _, l := range lengths {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Op: OpBinary, Masked: masked, Length: l}
			if masked {
				h.Mask = key
			}
			b := AppendHeader(nil, h)
			name := itoa(uint64(l))
			if masked {
				name += "/masked"
			}
			t.Run(name, func(t *testing.T) {
				if got, want := len(b), HeaderSize(h); got != want {
					t.Fatalf("len(AppendHeader) = %d; want %d", got, want)
				}
				checkAllSplits(t, ParserConfig{}, b, len(b), h, nil)
				// Payload bytes after the header are not consumed.
				withPayload := append(append([]byte(nil), b...), "payload"...)
				checkAllSplits(t, ParserConfig{}, withPayload, len(b), h, nil)
				if masked {
					checkAllSplits(t, server, b, len(b), h, nil)
				} else {
					checkAllSplits(t, server, b, 0, Header{}, ErrUnmasked)
				}
			})
		}
	}
	// RFC 6455 §5.7 examples.
	examples := []struct {
		name string
		in   []byte
		want Header
	}{
		{"unmasked Hello", []byte{0x81, 0x05}, Header{Fin: true, Op: OpText, Length: 5}},
		{"masked Hello", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d}, Header{Fin: true, Op: OpText, Masked: true, Mask: key, Length: 5}},
		{"first fragment", []byte{0x01, 0x03}, Header{Op: OpText, Length: 3}},
		{"last fragment", []byte{0x80, 0x02}, Header{Fin: true, Op: OpContinuation, Length: 2}},
		{"ping", []byte{0x89, 0x05}, Header{Fin: true, Op: OpPing, Length: 5}},
		{"256 bytes", []byte{0x82, 0x7E, 0x01, 0x00}, Header{Fin: true, Op: OpBinary, Length: 256}},
		{"64KiB", []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, Header{Fin: true, Op: OpBinary, Length: 65536}},
		{"close 125", []byte{0x88, 0x7D}, Header{Fin: true, Op: OpClose, Length: 125}},
	}
	for _, tc := range examples {
		t.Run(tc.name, func(t *testing.T) {
			checkAllSplits(t, ParserConfig{}, tc.in, len(tc.in), tc.want, nil)
		})
	}
}

func TestParseHeaderInvalid(t *testing.T) {
	deflate := ParserConfig{AllowRSV1: true}
	tests := []struct {
		name string
		cfg  ParserConfig
		in   []byte
		err  *ProtocolError
	}{
		{"opcode 3", ParserConfig{}, []byte{0x83, 0x00}, ErrReservedOpcode},
		{"opcode 7", ParserConfig{}, []byte{0x87, 0x00}, ErrReservedOpcode},
		{"opcode B", ParserConfig{}, []byte{0x8B, 0x00}, ErrReservedOpcode},
		{"opcode F", ParserConfig{}, []byte{0x8F, 0x00}, ErrReservedOpcode},
		{"rsv1 without extension", ParserConfig{}, []byte{0xC1, 0x00}, ErrRSV},
		{"rsv2", ParserConfig{}, []byte{0xA1, 0x00}, ErrRSV},
		{"rsv3", ParserConfig{}, []byte{0x91, 0x00}, ErrRSV},
		{"rsv2 with deflate", deflate, []byte{0xA1, 0x00}, ErrRSV},
		{"rsv3 with deflate", deflate, []byte{0x91, 0x00}, ErrRSV},
		{"rsv1 on ping", deflate, []byte{0xC9, 0x00}, ErrRSV},
		{"rsv1 on close", deflate, []byte{0xC8, 0x00}, ErrRSV},
		{"rsv1 on continuation", deflate, []byte{0xC0, 0x00}, ErrRSV},
		{"fragmented ping", ParserConfig{}, []byte{0x09, 0x00}, ErrControlFragmented},
		{"fragmented close", ParserConfig{}, []byte{0x08, 0x00}, ErrControlFragmented},
		{"ping 126", ParserConfig{}, []byte{0x89, 0x7E, 0x00, 0x7E}, ErrControlTooLong},
		{"pong 127", ParserConfig{}, []byte{0x8A, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, ErrControlTooLong},
		{"close 126 masked", ParserConfig{RequireMask: true}, []byte{0x88, 0xFE, 0x00, 0x7E, 1, 2, 3, 4}, ErrControlTooLong},
		{"unmasked to server", ParserConfig{RequireMask: true}, []byte{0x81, 0x05}, ErrUnmasked},
		{"masked to client", ParserConfig{RejectMask: true}, []byte{0x81, 0x85, 1, 2, 3, 4}, ErrMasked},
		{"64-bit top bit", ParserConfig{}, []byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrLengthOverflow},
		{"64-bit all ones", ParserConfig{}, []byte{0x82, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ErrLengthOverflow},
		{"16-bit non-minimal 0", ParserConfig{}, []byte{0x82, 0x7E, 0x00, 0x00}, ErrNonMinimalLength},
		{"16-bit non-minimal 125", ParserConfig{}, []byte{0x82, 0x7E, 0x00, 0x7D}, ErrNonMinimalLength},
		{"64-bit non-minimal 126", ParserConfig{}, []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x7E}, ErrNonMinimalLength},
		{"64-bit non-minimal 65535", ParserConfig{}, []byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, ErrNonMinimalLength},
		{"frame over MaxFrameSize", ParserConfig{MaxFrameSize: 1000}, []byte{0x82, 0x7E, 0x03, 0xE9}, ErrMessageTooBig},
		{"2^32 over MaxFrameSize", ParserConfig{MaxFrameSize: 1 << 20}, []byte{0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0}, ErrMessageTooBig},
		// The first violation in wire order wins.
		{"reserved opcode before length", ParserConfig{RequireMask: true}, []byte{0x03, 0x7F}, ErrReservedOpcode},
		{"fragmented before unmasked", ParserConfig{RequireMask: true}, []byte{0x09, 0x7E}, ErrControlFragmented},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkAllSplits(t, tc.cfg, tc.in, 0, Header{}, tc.err)
			var pe *ProtocolError
			if !errors.As(error(tc.err), &pe) || pe.Code != StatusProtocolError && pe.Code != StatusMessageTooBig {
				t.Fatalf("error %v has code %v", tc.err, pe.Code)
			}
		})
	}
	t.Run("sticky", func(t *testing.T) {
		p := FrameParser{}
		if _, _, err := p.ParseHeader([]byte{0x83, 0x00}); err != ErrReservedOpcode {
			t.Fatalf("ParseHeader = %v; want %v", err, ErrReservedOpcode)
		}
		if _, _, err := p.ParseHeader([]byte{0x81, 0x00}); err != ErrReservedOpcode {
			t.Fatalf("ParseHeader after error = %v; want %v", err, ErrReservedOpcode)
		}
		if _, _, err := p.ParseHeader(nil); err != ErrReservedOpcode {
			t.Fatalf("ParseHeader(nil) after error = %v; want %v", err, ErrReservedOpcode)
		}
		p.Reset()
		if n, h, err := p.ParseHeader([]byte{0x81, 0x00}); err != nil || n != 2 || h.Op != OpText {
			t.Fatalf("ParseHeader after Reset = %d, %+v, %v; want 2, text, nil", n, h, err)
		}
	})
	t.Run("empty input", func(t *testing.T) {
		var p FrameParser
		if n, _, err := p.ParseHeader(nil); n != 0 || err != ErrNeedMore {
			t.Fatalf("ParseHeader(nil) = %d, %v; want 0, ErrNeedMore", n, err)
		}
	})
	t.Run("error text", func(t *testing.T) {
		if got, want := ErrUnmasked.Error(), "ws: unmasked client frame"; got != want {
			t.Fatalf("Error() = %q; want %q", got, want)
		}
	})
}

func randomHeader(r *rand.Rand) Header {
	ops := []Opcode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong}
	h := Header{Op: ops[r.Intn(len(ops))], Fin: r.Intn(2) == 0, Masked: r.Intn(2) == 0}
	if h.Masked {
		r.Read(h.Mask[:])
	}
	if h.Op.IsControl() {
		h.Fin = true
		h.Length = int64(r.Intn(126))
		return h
	}
	if h.Op != OpContinuation && r.Intn(2) == 0 {
		h.Rsv = Rsv1
	}
	switch r.Intn(4) {
	case 0:
		h.Length = int64(r.Intn(126))
	case 1:
		h.Length = 126 + int64(r.Intn(65536-126))
	case 2:
		h.Length = 65536 + r.Int63n(1<<40)
	default:
		h.Length = r.Int63()
		if h.Length < 65536 {
			h.Length += 65536
		}
	}
	return h
}

func TestHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(6455))
	cfg := ParserConfig{AllowRSV1: true}
	var p FrameParser
	p.Config = cfg
	var stream []byte
	var want []Header
	for i := 0; i < 2000; i++ {
		h := randomHeader(r)
		b := AppendHeader(nil, h)
		checkAllSplits(t, cfg, b, len(b), h, nil)
		want = append(want, h)
		stream = AppendHeader(stream, h)
	}
	// One parser over back-to-back headers, fed in random-sized chunks.
	var got []Header
	for len(stream) > 0 {
		c := 1 + r.Intn(20)
		if c > len(stream) {
			c = len(stream)
		}
		chunk := stream[:c]
		for len(chunk) > 0 {
			n, h, err := p.ParseHeader(chunk)
			if err == ErrNeedMore {
				break
			}
			if err != nil {
				t.Fatalf("ParseHeader = %v after %d headers", err, len(got))
			}
			got = append(got, h)
			chunk = chunk[n:]
		}
		stream = stream[c:]
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d headers; want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("header %d = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestAppendFrame(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"text Hello", AppendFrame(nil, OpText, true, 0, []byte("Hello")), []byte("\x81\x05Hello")},
		{"fragment", AppendFrame(nil, OpText, false, 0, []byte("Hel")), []byte("\x01\x03Hel")},
		{"compressed", AppendFrame(nil, OpText, true, Rsv1, []byte{0xf2}), []byte{0xC1, 0x01, 0xf2}},
		{"masked Hello (RFC 6455 §5.7)", AppendMaskedFrame(nil, OpText, true, 0, [4]byte{0x37, 0xfa, 0x21, 0x3d}, []byte("Hello")),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"appends", AppendFrame([]byte("x"), OpPong, true, 0, nil), []byte("x\x8a\x00")},
		{"negative length", AppendHeader(nil, Header{Fin: true, Op: OpBinary, Length: -1}), []byte{0x82, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Equal(tc.got, tc.want) {
				t.Fatalf("got %x; want %x", tc.got, tc.want)
			}
		})
	}
	big := bytes.Repeat([]byte{'a'}, 70000)
	f := AppendFrame(nil, OpBinary, true, 0, big)
	n, h, err := (&FrameParser{}).ParseHeader(f)
	if err != nil || n != 10 || h.Length != 70000 || !bytes.Equal(f[n:], big) {
		t.Fatalf("ParseHeader(AppendFrame(70000)) = %d, %+v, %v", n, h, err)
	}
}

func TestOpcodeString(t *testing.T) {
	tests := []struct {
		op   Opcode
		want string
		ctrl bool
		data bool
	}{
		{OpContinuation, "continuation", false, false},
		{OpText, "text", false, true},
		{OpBinary, "binary", false, true},
		{OpClose, "close", true, false},
		{OpPing, "ping", true, false},
		{OpPong, "pong", true, false},
		{3, "reserved(0x3)", false, false},
		{0xB, "reserved(0xB)", true, false},
		{0x10, "invalid", false, false},
	}
	for _, tc := range tests {
		if got := tc.op.String(); got != tc.want {
			t.Errorf("Opcode(%d).String() = %q; want %q", byte(tc.op), got, tc.want)
		}
		if tc.op <= 0xF {
			if got := tc.op.IsControl(); got != tc.ctrl {
				t.Errorf("Opcode(%d).IsControl() = %v; want %v", byte(tc.op), got, tc.ctrl)
			}
		}
		if got := tc.op.IsData(); got != tc.data {
			t.Errorf("Opcode(%d).IsData() = %v; want %v", byte(tc.op), got, tc.data)
		}
	}
}
