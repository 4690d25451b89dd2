//go:build !race

package ws

import (
	"strings"
	"testing"
)

func TestParseHeaderAlloc(t *testing.T) {
	frame := AppendMaskedFrame(nil, OpBinary, true, 0, [4]byte{1, 2, 3, 4}, make([]byte, 300))
	var p FrameParser
	p.Config.RequireMask = true
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := p.ParseHeader(frame); err != nil {
			t.Fatal(err)
		}
		// Split header exercises the buffering path.
		if _, _, err := p.ParseHeader(frame[:3]); err != ErrNeedMore {
			t.Fatal(err)
		}
		if _, _, err := p.ParseHeader(frame[3:8]); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseHeader allocs = %v; want 0", allocs)
	}
}

func TestMaskAlloc(t *testing.T) {
	b := make([]byte, 4096)
	allocs := testing.AllocsPerRun(1000, func() { Mask([4]byte{1, 2, 3, 4}, 3, b) })
	if allocs != 0 {
		t.Fatalf("Mask allocs = %v; want 0", allocs)
	}
}

func TestUTF8WriteAlloc(t *testing.T) {
	b := []byte("héllo wörld, κόσμε 😀 and some ascii to skip quickly")
	var v UTF8Validator
	allocs := testing.AllocsPerRun(1000, func() {
		v.Reset()
		if !v.Write(b[:3]) || !v.Write(b[3:]) || !v.Done() {
			t.Fatal("invalid")
		}
	})
	if allocs != 0 {
		t.Fatalf("UTF8Validator.Write allocs = %v; want 0", allocs)
	}
}

func TestAppendFrameAlloc(t *testing.T) {
	payload := make([]byte, 1000)
	dst := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(1000, func() {
		dst = AppendFrame(dst[:0], OpBinary, true, 0, payload)
		dst = AppendClose(dst[:0], StatusGoingAway, "bye")
		dst = AppendMaskedFrame(dst[:0], OpText, true, 0, [4]byte{9, 8, 7, 6}, payload)
	})
	if allocs != 0 {
		t.Fatalf("AppendFrame allocs = %v; want 0", allocs)
	}
}

func TestParseClosePayloadAlloc(t *testing.T) {
	p := []byte("\x03\xe8goodbye")
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := ParseClosePayload(p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseClosePayload allocs = %v; want 0", allocs)
	}
}

func TestAcceptKeyAlloc(t *testing.T) {
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		if !ValidKey(key) {
			t.Fatal("invalid key")
		}
		dst = AcceptKey(dst[:0], key)
	})
	if allocs != 0 {
		t.Fatalf("AcceptKey allocs = %v; want 0", allocs)
	}
}

func TestSelectSubprotocolAlloc(t *testing.T) {
	offered := []byte("mqtt, v2.json ,chat")
	supported := []string{"chat", "v2.json"}
	allocs := testing.AllocsPerRun(1000, func() {
		if s, ok := SelectSubprotocol(offered, supported); !ok || s != "chat" {
			t.Fatal(s, ok)
		}
	})
	if allocs != 0 {
		t.Fatalf("SelectSubprotocol allocs = %v; want 0", allocs)
	}
}

// TestDeflateAlloc: in steady state (pools warm, dst with room) a message
// costs no allocation in either direction, with and without context
// takeover.
func TestDeflateAlloc(t *testing.T) {
	msg := []byte(strings.Repeat("a steady stream of chat messages, mostly text; ", 20))
	for _, takeover := range []bool{false, true} {
		var c Compressor
		var d Decompressor
		if err := c.Init(15, takeover, 1); err != nil {
			t.Fatal(err)
		}
		if err := d.Init(15, takeover); err != nil {
			t.Fatal(err)
		}
		zbuf := make([]byte, 0, 4096)
		obuf := make([]byte, 0, 4096)
		var z []byte
		step := func() {
			var err error
			if z, err = c.Compress(zbuf[:0], msg); err != nil {
				t.Fatal(err)
			}
			out, err := d.Decompress(obuf[:0], z, 1<<20)
			if err != nil || len(out) != len(msg) {
				t.Fatal(err)
			}
		}
		step()
		if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
			t.Errorf("takeover=%v: allocs per message = %v; want 0", takeover, allocs)
		}
		c.Release()
		d.Release()
	}
}

// TestDecompressLargeAlloc: a 256 KiB message inflated into a dst that has
// room takes one pass and no allocation.
func TestDecompressLargeAlloc(t *testing.T) {
	msg := []byte(strings.Repeat("large message body with some repetition ", 256<<10/40))
	var c Compressor
	z, err := c.Compress(nil, msg)
	if err != nil {
		t.Fatal(err)
	}
	var d Decompressor
	dst := make([]byte, 0, len(msg))
	step := func() {
		out, err := d.Decompress(dst[:0], z, 1<<20)
		if err != nil || len(out) != len(msg) {
			t.Fatal(err)
		}
	}
	step()
	if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
		t.Fatalf("Decompress(256 KiB into a large enough dst) allocs = %v; want 0", allocs)
	}
}

// stackPool is a BufferPool that keeps what it is given, as a server's
// per-loop free list does.
type stackPool struct{ bufs [][]byte }

func (p *stackPool) Get(n int) []byte {
	for i := len(p.bufs) - 1; i >= 0; i-- {
		if b := p.bufs[i]; cap(b) >= n {
			p.bufs = append(p.bufs[:i], p.bufs[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

func (p *stackPool) Put(b []byte) { p.bufs = append(p.bufs, b[:0]) }

// TestReaderAlloc: in steady state a Reader allocates nothing per message,
// delivered in place, gathered from pieces (with a pool and with its own
// buffers), with control frames between fragments, and inflated.
func TestReaderAlloc(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	text := strings.Repeat("steady text é€ ", 64)
	var c Compressor
	if err := c.Init(15, false, 1); err != nil {
		t.Fatal(err)
	}
	z, err := c.Compress(nil, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	whole := AppendMaskedFrame(nil, OpText, true, 0, key, []byte(text))
	frags := AppendMaskedFrame(nil, OpText, false, 0, key, []byte(text[:100]))
	frags = AppendMaskedFrame(frags, OpPing, true, 0, key, []byte("ping"))
	frags = AppendMaskedFrame(frags, OpContinuation, true, 0, key, []byte(text[100:]))
	compressed := AppendMaskedFrame(nil, OpText, true, Rsv1, key, z)
	for _, tc := range []struct {
		name    string
		in      []byte
		split   int // bytes per Read; 0 for the whole input
		pool    bool
		deflate bool
		msgs    int
	}{
		{"in place", whole, 0, true, false, 1},
		{"gathered, pool", whole, 100, true, false, 1},
		{"gathered, own buffers", whole, 100, false, false, 1},
		{"fragments and ping, pool", frags, 37, true, false, 2},
		{"fragments and ping, own buffers", frags, 37, false, false, 2},
		{"inflated, pool", compressed, 0, true, true, 1},
		{"inflated in pieces, own buffers", compressed, 50, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg ReaderConfig
			if tc.pool {
				cfg.Pool = &stackPool{}
			}
			var d Decompressor
			if tc.deflate {
				cfg.Inflate = &d
			}
			var r Reader
			r.Init(cfg)
			work := make([]byte, len(tc.in))
			step := func() {
				copy(work, tc.in) // Read unmasks in place
				got := 0
				for rest := work; len(rest) > 0; {
					b := rest
					if tc.split > 0 && len(b) > tc.split {
						b = b[:tc.split]
					}
					n, m, err := r.Read(b)
					rest = rest[n:]
					if err == ErrNeedMore {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if m.Op == OpText && len(m.Payload) != len(text) {
						t.Fatalf("message of %d bytes; want %d", len(m.Payload), len(text))
					}
					got++
				}
				if got != tc.msgs {
					t.Fatalf("%d deliveries; want %d", got, tc.msgs)
				}
			}
			step()
			if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
				t.Errorf("allocs per message = %v; want 0", allocs)
			}
			r.Release()
		})
	}
}

func TestHandshakeAlloc(t *testing.T) {
	req := handshake("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: permessage-deflate", "Origin: http://example.com").freeze()
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(200, func() {
		var h Handshake
		if err := CheckHandshake(req, &h); err != nil {
			t.Fatal(err)
		}
		if err := CheckOrigin(h.Origin, []byte("example.com")); err != nil {
			t.Fatal(err)
		}
		dst = AppendAccept(dst[:0], h.Key, "chat", nil, nil)
	})
	if allocs != 0 {
		t.Fatalf("CheckHandshake, CheckOrigin, AppendAccept allocs = %v; want 0", allocs)
	}
}
