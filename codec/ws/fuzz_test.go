package ws

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func fuzzParserConfig(bits byte) ParserConfig {
	cfg := ParserConfig{AllowRSV1: bits&1 != 0, RequireMask: bits&2 != 0, RejectMask: bits&4 != 0}
	if bits&8 != 0 {
		cfg.MaxFrameSize = int64(bits) * 1000
	}
	return cfg
}

// FuzzParseHeader: parsing whole, byte by byte and split at one offset
// agree, never panic, and an accepted header re-encodes to the same bytes
// (non-minimal encodings are rejected, so the encoding is unique).
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f}, byte(2), 3)
	f.Add([]byte{0x82, 0x7F, 0, 0, 0, 1, 0, 0, 0, 0}, byte(0), 5)
	f.Add([]byte{0xC1, 0x7E, 0x01, 0x00}, byte(1), 1)
	f.Add([]byte{0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0}, byte(0), 9)
	f.Add([]byte{0x09, 0x00}, byte(0), 1)
	f.Fuzz(func(t *testing.T, data []byte, cfgBits byte, split int) {
		cfg := fuzzParserConfig(cfgBits)
		var p FrameParser
		p.Config = cfg
		n, h, err := p.ParseHeader(data)
		if err == nil {
			if n < 2 || n > MaxHeaderSize || n > len(data) {
				t.Fatalf("ParseHeader(%q) consumed %d", data, n)
			}
			if enc := AppendHeader(nil, h); !bytes.Equal(enc, data[:n]) {
				t.Fatalf("AppendHeader(ParseHeader(%q)) = %q", data[:n], enc)
			}
			if h.Length < 0 || (h.Op.IsControl() && (h.Length > MaxControlPayload || !h.Fin)) {
				t.Fatalf("ParseHeader(%q) accepted %+v", data, h)
			}
		} else if err != ErrNeedMore && n != 0 {
			t.Fatalf("ParseHeader(%q) = %d, %v; want n 0 on error", data, n, err)
		}
		type result struct {
			n   int
			h   Header
			err error
		}
		feed := func(chunks ...[]byte) result {
			q := FrameParser{Config: cfg}
			total := 0
			for _, c := range chunks {
				n, h, err := q.ParseHeader(c)
				if err == ErrNeedMore {
					total += n
					continue
				}
				if err != nil {
					return result{0, Header{}, err}
				}
				return result{total + n, h, nil}
			}
			return result{0, Header{}, ErrNeedMore}
		}
		want := result{n, h, err}
		if err == ErrNeedMore {
			want.n = 0
		} else if err != nil {
			want = result{0, Header{}, err}
		}
		var bytewise [][]byte
		for i := range data {
			bytewise = append(bytewise, data[i:i+1])
		}
		if got := feed(bytewise...); got != want {
			t.Fatalf("byte by byte: ParseHeader(%q) = %+v; want %+v", data, got, want)
		}
		if len(data) > 0 {
			s := split % (len(data) + 1)
			if s < 0 {
				s = -s
			}
			if got := feed(data[:s], data[s:]); got != want {
				t.Fatalf("split at %d: ParseHeader(%q) = %+v; want %+v", s, data, got, want)
			}
		}
	})
}

// FuzzUTF8: UTF8Validator agrees with utf8.Valid however the input is split,
// and fails exactly at the first byte that no continuation can repair.
func FuzzUTF8(f *testing.F) {
	f.Add([]byte("héllo wörld"), 3)
	f.Add([]byte("\xed\xa0\x80"), 1)
	f.Add([]byte("\xf4\x90\x80\x80"), 2)
	f.Add([]byte("\xf0\x9f\x98\x80 ok"), 2)
	f.Add([]byte("abc\xc0"), 0)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		want := utf8.Valid(data)
		var v UTF8Validator
		if got := v.Write(data) && v.Done(); got != want {
			t.Fatalf("Write(%q) && Done() = %v; want %v", data, got, want)
		}
		s := split % (len(data) + 1)
		if s < 0 {
			s = -s
		}
		v.Reset()
		ok := v.Write(data[:s])
		ok = v.Write(data[s:]) && ok
		if got := ok && v.Done(); got != want {
			t.Fatalf("split at %d: Write(%q) && Done() = %v; want %v", s, data, got, want)
		}
		if len(data) <= 64 {
			v.Reset()
			gotFail := -1
			for i := range data {
				if !v.Write(data[i : i+1]) {
					gotFail = i
					break
				}
			}
			if wantFail := failIndex(data); gotFail != wantFail {
				t.Fatalf("byte by byte: Write(%q) failed at %d; want %d", data, gotFail, wantFail)
			}
		}
	})
}

// FuzzClosePayload: a close payload is accepted exactly when the RFC allows
// it, and what is accepted survives AppendClose.
func FuzzClosePayload(f *testing.F) {
	f.Add([]byte("\x03\xe8bye"))
	f.Add([]byte{0x03})
	f.Add([]byte("\x03\xed"))
	f.Add([]byte("\x0f\xa0\xed\xa0\x80"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		var want error
		switch {
		case len(p) == 0:
		case len(p) == 1:
			want = ErrBadClosePayload
		case !ValidCloseCode(StatusCode(uint16(p[0])<<8 | uint16(p[1]))):
			want = ErrInvalidCloseCode
		case !utf8.Valid(p[2:]):
			want = ErrCloseReasonUTF8
		}
		if err != want {
			t.Fatalf("ParseClosePayload(%q) = %v; want %v", p, err, want)
		}
		if err != nil || len(p) == 0 || len(p) > MaxControlPayload {
			return
		}
		frame := AppendClose(nil, code, string(reason))
		if !bytes.Equal(frame[2:], p) {
			t.Fatalf("AppendClose(ParseClosePayload(%q)) payload = %q", p, frame[2:])
		}
	})
}

// FuzzNegotiateDeflate: no header crashes the negotiation, an accepted
// offer yields in-range parameters and a response that a client parses back
// to the same parameters.
func FuzzNegotiateDeflate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits", "", byte(0))
	f.Add("permessage-deflate; server_max_window_bits=16, permessage-deflate; server_no_context_takeover", "x", byte(3))
	f.Add(`permessage-deflate; server_max_window_bits="1\0"`, "permessage-deflate", byte(0x5a))
	f.Add(",,,", "", byte(0))
	f.Fuzz(func(t *testing.T, a, b string, cfgBits byte) {
		cfg := DeflateConfig{
			ServerNoContextTakeover: cfgBits&1 != 0,
			ClientNoContextTakeover: cfgBits&2 != 0,
			ServerMaxWindowBits:     []int{0, 8, 11, 15}[cfgBits>>2&3],
			ClientMaxWindowBits:     []int{0, 9, 12, 15}[cfgBits>>4&3],
		}
		p, resp, ok := NegotiateDeflate([][]byte{[]byte(a), []byte(b)}, cfg)
		if !ok {
			if resp != nil || p != (DeflateParams{}) {
				t.Fatalf("declined with %+v, %q", p, resp)
			}
			return
		}
		if p.ServerMaxWindowBits < 8 || p.ServerMaxWindowBits > 15 || p.ClientMaxWindowBits < 8 || p.ClientMaxWindowBits > 15 {
			t.Fatalf("NegotiateDeflate(%q, %q) = %+v", a, b, p)
		}
		if cfg.ServerNoContextTakeover && !p.ServerNoContextTakeover || cfg.ClientNoContextTakeover && !p.ClientNoContextTakeover {
			t.Fatalf("NegotiateDeflate(%q, %q) = %+v ignores %+v", a, b, p, cfg)
		}
		if cfg.ServerMaxWindowBits != 0 && p.ServerMaxWindowBits > cfg.ServerMaxWindowBits {
			t.Fatalf("NegotiateDeflate(%q, %q) = %+v exceeds %+v", a, b, p, cfg)
		}
		back, ok := ParseDeflateResponse(resp)
		if !ok || back != p {
			t.Fatalf("ParseDeflateResponse(%q) = %+v, %v; want %+v", resp, back, ok, p)
		}
	})
}

// FuzzDeflateRoundTrip: Compressor and Decompressor round-trip any message
// under any parameters, and Decompress of arbitrary bytes never panics nor
// returns more than its limit.
func FuzzDeflateRoundTrip(f *testing.F) {
	f.Add([]byte("hello hello hello"), byte(15), true, int8(1))
	f.Add([]byte{}, byte(8), false, int8(9))
	f.Add(bytes.Repeat([]byte{0}, 5000), byte(9), true, int8(-2))
	f.Add([]byte{0xff, 0x00, 0x07}, byte(12), false, int8(0))
	f.Fuzz(func(t *testing.T, msg []byte, bits byte, takeover bool, level int8) {
		wb := 8 + int(bits)%8
		lv := int(level)%12 - 2
		if lv < -2 {
			lv = -lv % 10
		}
		var c Compressor
		var d Decompressor
		if err := c.Init(wb, takeover, lv); err != nil {
			t.Fatalf("Init(%d, %v, %d) = %v", wb, takeover, lv, err)
		}
		if err := d.Init(wb, takeover); err != nil {
			t.Fatal(err)
		}
		defer c.Release()
		defer d.Release()
		// Two messages so context takeover is exercised.
		for i := 0; i < 2; i++ {
			z, err := c.Compress(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.Decompress(nil, z, int64(len(msg))+1)
			if err != nil || !bytes.Equal(out, msg) {
				t.Fatalf("round trip %d of %q (bits %d, takeover %v, level %d) = %q, %v", i, msg, wb, takeover, lv, out, err)
			}
		}
		var raw Decompressor
		const limit = 1 << 16
		out, err := raw.Decompress(nil, msg, limit)
		if len(out) > limit || (err != nil && len(out) != 0) {
			t.Fatalf("Decompress(%q) = len %d, %v", msg, len(out), err)
		}
	})
}
