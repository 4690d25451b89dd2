package ws

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

// testMessages returns a fixed-seed mix of message shapes: empty, 1 byte,
// text, random (incompressible), repetitive and 1 MiB.
func testMessages(r *rand.Rand) [][]byte {
	words := strings.Fields("the quick brown fox jumps over lazy dog websocket frame deflate window κόσμε 😀")
	text := func(n int) []byte {
		var b []byte
		for len(b) < n {
			b = append(b, words[r.Intn(len(words))]...)
			b = append(b, ' ')
		}
		return b[:n]
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		r.Read(b)
		return b
	}
	msgs := [][]byte{{}, {'x'}, text(10), text(300), random(100), text(5000)}
	for i := 0; i < 20; i++ {
		switch r.Intn(3) {
		case 0:
			msgs = append(msgs, text(r.Intn(3000)))
		case 1:
			msgs = append(msgs, random(r.Intn(3000)))
		default:
			msgs = append(msgs, bytes.Repeat(text(1+r.Intn(50)), 1+r.Intn(100)))
		}
	}
	msgs = append(msgs, text(40000), append(text(1<<19), random(1<<19)...), text(7))
	return msgs
}

type deflateCase struct {
	name     string
	bits     int
	takeover bool
	level    int
}

func deflateCases() []deflateCase {
	var cs []deflateCase
	for _, bits := range []int{8, 9, 12, 15} {
		for _, takeover := range []bool{false, true} {
			levels := []int{0}
			if bits == 15 {
				// 7 stands for 7..9: one lazy-matching encoder with
				// different search depths; 9 is slow under -race.
				levels = []int{1, 5, 7, -2, -1}
			}
			for _, level := range levels {
				name := fmt.Sprintf("bits=%d/takeover=%v/level=%d", bits, takeover, level)
				cs = append(cs, deflateCase{name, bits, takeover, level})
			}
		}
	}
	return cs
}

// TestDeflateRoundTrip compresses a conversation with Compressor, checks
// every message with the independent checkInflate (which also proves the
// window size was honoured) and inflates it with Decompressor.
func TestDeflateRoundTrip(t *testing.T) {
	msgs := testMessages(rand.New(rand.NewSource(7692)))
	for _, tc := range deflateCases() {
		t.Run(tc.name, func(t *testing.T) {
			var c Compressor
			var d Decompressor
			if err := c.Init(tc.bits, tc.takeover, tc.level); err != nil {
				t.Fatal(err)
			}
			if err := d.Init(tc.bits, tc.takeover); err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			defer d.Release()
			var history []byte // plaintext so far, for checkInflate's window
			for i, m := range msgs {
				z, err := c.Compress([]byte("prefix"), m)
				if err != nil {
					t.Fatalf("Compress(msg %d) = %v", i, err)
				}
				if string(z[:6]) != "prefix" {
					t.Fatalf("Compress did not append to dst")
				}
				z = z[6:]
				if len(m) == 0 && !bytes.Equal(z, []byte{0x00}) {
					t.Errorf("Compress(empty) = %x; want 00 (RFC 7692 §7.2.3.6)", z)
				}
				var dict []byte
				if tc.takeover {
					dict = history
				}
				// The bit-by-bit checker is slow: it sees every message up to
				// 64 KiB, and the 1 MiB one in the 8-bit cases.
				if len(m) <= 64<<10 || tc.bits == 8 {
					got, maxDist, err := checkInflate(append(append([]byte(nil), z...), deflateTail[:]...), dict)
					if err != nil || !bytes.Equal(got, m) {
						t.Fatalf("checkInflate(msg %d, len %d) = len %d, %v", i, len(m), len(got), err)
					}
					if maxDist > 1<<tc.bits {
						t.Fatalf("msg %d: match distance %d exceeds the %d-bit window", i, maxDist, tc.bits)
					}
				}
				out, err := d.Decompress([]byte("dst"), z, 2<<20)
				if err != nil || string(out[:3]) != "dst" || !bytes.Equal(out[3:], m) {
					t.Fatalf("Decompress(msg %d, len %d) = len %d, %v", i, len(m), len(out)-3, err)
				}
				history = append(history, m...)
				if tc.takeover {
					if c.DictLen() > 1<<tc.bits || d.DictLen() > 1<<tc.bits {
						t.Fatalf("dictionaries %d, %d bytes; window is %d", c.DictLen(), d.DictLen(), 1<<tc.bits)
					}
				} else if c.DictLen() != 0 || d.DictLen() != 0 {
					t.Fatalf("dictionaries kept without context takeover: %d, %d", c.DictLen(), d.DictLen())
				}
			}
			c.Release()
			d.Release()
			if c.DictLen() != 0 || d.DictLen() != 0 {
				t.Fatal("Release kept a dictionary")
			}
		})
	}
}

// TestDeflateWindowMatters shows the window check has teeth: with a 15-bit
// window the repeated block is matched from far back, with 9 bits it is not.
func TestDeflateWindowMatters(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	block := make([]byte, 300)
	r.Read(block)
	gap := make([]byte, 2000)
	r.Read(gap)
	msg := append(append(append([]byte(nil), block...), gap...), block...)
	for _, tc := range []struct {
		bits    int
		farSeen bool
	}{{15, true}, {9, false}} {
		var c Compressor
		if err := c.Init(tc.bits, false, 0); err != nil {
			t.Fatal(err)
		}
		z, err := c.Compress(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		_, maxDist, err := checkInflate(append(z, deflateTail[:]...), nil)
		if err != nil {
			t.Fatal(err)
		}
		if far := maxDist > 1<<9; far != tc.farSeen {
			t.Errorf("bits %d: max distance %d; want far match %v", tc.bits, maxDist, tc.farSeen)
		}
	}
}

// TestDeflateInteropStd uses the standard library's compress/flate as an
// independent peer in both directions, with and without context takeover.
func TestDeflateInteropStd(t *testing.T) {
	msgs := testMessages(rand.New(rand.NewSource(1951)))
	for _, takeover := range []bool{false, true} {
		name := map[bool]string{false: "no-takeover", true: "takeover"}[takeover]
		t.Run("std-to-ws/"+name, func(t *testing.T) {
			var d Decompressor
			if err := d.Init(15, takeover); err != nil {
				t.Fatal(err)
			}
			defer d.Release()
			var buf bytes.Buffer
			w, _ := stdflate.NewWriter(&buf, stdflate.DefaultCompression)
			for i, m := range msgs {
				if !takeover {
					w.Reset(&buf)
				}
				buf.Reset()
				w.Write(m)
				w.Flush()
				z := buf.Bytes()
				if !bytes.HasSuffix(z, deflateTail[:]) {
					t.Fatalf("std flush output lacks the tail")
				}
				out, err := d.Decompress(nil, z[:len(z)-4], 2<<20)
				if err != nil || !bytes.Equal(out, m) {
					t.Fatalf("Decompress(std msg %d, len %d) = len %d, %v", i, len(m), len(out), err)
				}
			}
		})
		t.Run("ws-to-std/"+name, func(t *testing.T) {
			var c Compressor
			if err := c.Init(15, takeover, 0); err != nil {
				t.Fatal(err)
			}
			defer c.Release()
			var stream bytes.Buffer
			fr := stdflate.NewReader(&stream)
			for i, m := range msgs {
				z, err := c.Compress(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				if !takeover {
					stream.Reset()
					fr.(stdflate.Resetter).Reset(&stream, nil)
				}
				stream.Write(z)
				stream.Write(deflateTail[:])
				got := make([]byte, len(m))
				if _, err := io.ReadFull(fr, got); err != nil || !bytes.Equal(got, m) {
					t.Fatalf("std inflate of msg %d (len %d) = %v", i, len(m), err)
				}
			}
		})
	}
	t.Run("std-final-block", func(t *testing.T) {
		// A peer may end a message with a final block (BFINAL).
		var buf bytes.Buffer
		w, _ := stdflate.NewWriter(&buf, 5)
		w.Write([]byte("hello hello hello"))
		w.Close()
		var d Decompressor
		out, err := d.Decompress(nil, buf.Bytes(), 100)
		if err != nil || string(out) != "hello hello hello" {
			t.Fatalf("Decompress(final block) = %q, %v", out, err)
		}
	})
}

func TestDecompressErrors(t *testing.T) {
	zeros := make([]byte, 10<<20)
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, stdflate.BestCompression)
	w.Write(zeros)
	w.Flush()
	bomb := bytes.TrimSuffix(buf.Bytes(), deflateTail[:])

	t.Run("bomb", func(t *testing.T) {
		const limit = 1 << 20
		var d Decompressor
		// Warm the inflater pool so the measurement sees Decompress alone.
		if _, err := d.Decompress(nil, []byte{0x00}, limit); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out, err := d.Decompress(nil, bomb, limit)
		runtime.ReadMemStats(&after)
		if err != ErrMessageTooBig || len(out) != 0 {
			t.Fatalf("Decompress(bomb of %d bytes) = len %d, %v; want ErrMessageTooBig", len(bomb), len(out), err)
		}
		if delta := after.TotalAlloc - before.TotalAlloc; delta > limit+256<<10 {
			t.Fatalf("Decompress(bomb) allocated %d bytes; want < %d", delta, limit+256<<10)
		}
	})
	t.Run("large valid message", func(t *testing.T) {
		var d Decompressor
		out, err := d.Decompress([]byte("ab"), bomb, 16<<20)
		if err != nil || len(out) != 2+len(zeros) || string(out[:2]) != "ab" || !bytes.Equal(out[2:], zeros) {
			t.Fatalf("Decompress(10 MiB zeros) = len %d, %v", len(out), err)
		}
	})
	t.Run("exact limit", func(t *testing.T) {
		var d Decompressor
		for _, pre := range [][]byte{nil, make([]byte, 0, 20<<20)} {
			out, err := d.Decompress(pre, bomb, int64(len(zeros)))
			if err != nil || len(out) != len(zeros) {
				t.Fatalf("Decompress(limit == size) = len %d, %v", len(out), err)
			}
			if _, err := d.Decompress(pre, bomb, int64(len(zeros)-1)); err != ErrMessageTooBig {
				t.Fatalf("Decompress(limit == size-1) = %v; want ErrMessageTooBig", err)
			}
		}
	})
	t.Run("default limit", func(t *testing.T) {
		var d Decompressor
		if _, err := d.Decompress(nil, bomb, 0); err != ErrMessageTooBig {
			t.Fatalf("Decompress(limit 0) = %v; want ErrMessageTooBig at DefaultMaxMessageSize", err)
		}
	})
	t.Run("corrupt after 64 KiB", func(t *testing.T) {
		// Valid blocks, then a block of the reserved type 3: the error must
		// surface from the counting pass and from the direct pass alike.
		var buf bytes.Buffer
		w, _ := stdflate.NewWriter(&buf, 1)
		w.Write(benchText(200 << 10))
		w.Flush()
		bad := append(bytes.TrimSuffix(buf.Bytes(), deflateTail[:]), 0x07)
		var d Decompressor
		for _, pre := range [][]byte{nil, make([]byte, 0, 300<<10)} {
			if out, err := d.Decompress(pre, bad, 1<<20); err != ErrBadDeflate || len(out) != 0 {
				t.Fatalf("Decompress(corrupt, cap %d) = len %d, %v; want ErrBadDeflate", cap(pre), len(out), err)
			}
		}
	})
	t.Run("empty payload", func(t *testing.T) {
		// Not valid DEFLATE once the tail is appended (the tail is only the
		// end of a stored block), but it ends exactly where the tail ends,
		// so it is read as an empty message, as documented.
		var d Decompressor
		out, err := d.Decompress([]byte("x"), nil, 10)
		if err != nil || string(out) != "x" {
			t.Fatalf("Decompress(empty) = %q, %v; want \"x\", nil", out, err)
		}
	})
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"reserved block type", []byte{0x07}},
		{"bad stored length", []byte{0x00, 0x05, 0x00, 0x05, 0x00}},
		{"garbage", []byte("this is not deflate data at all")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Decompressor
			out, err := d.Decompress([]byte("keep"), tc.in, 1<<20)
			if err != ErrBadDeflate || string(out) != "keep" {
				t.Fatalf("Decompress(%q) = %q, %v; want \"keep\", ErrBadDeflate", tc.in, out, err)
			}
		})
	}
}

func TestDeflateInit(t *testing.T) {
	var c Compressor
	var d Decompressor
	for _, bits := range []int{7, 16, -1} {
		if err := c.Init(bits, true, 1); err != ErrDeflateWindowBits {
			t.Errorf("Compressor.Init(bits %d) = %v; want ErrDeflateWindowBits", bits, err)
		}
		if err := d.Init(bits, true); err != ErrDeflateWindowBits {
			t.Errorf("Decompressor.Init(bits %d) = %v; want ErrDeflateWindowBits", bits, err)
		}
	}
	if err := c.Init(15, true, 10); err != ErrDeflateLevel {
		t.Errorf("Compressor.Init(level 10) = %v; want ErrDeflateLevel", err)
	}
	// The zero values work: 15 bits, no context takeover.
	var zc Compressor
	var zd Decompressor
	z, err := zc.Compress(nil, []byte("zero value"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := zd.Decompress(nil, z, 100)
	if err != nil || string(out) != "zero value" || zc.DictLen() != 0 || zd.DictLen() != 0 {
		t.Fatalf("zero-value round trip = %q, %v", out, err)
	}
}
