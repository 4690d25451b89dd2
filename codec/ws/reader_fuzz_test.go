package ws

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// fuzzScript turns fuzz input into a stream of client frames and the
// deliveries a Reader must make of them: data messages (text made valid
// UTF-8, binary as is) of up to about 24 KiB, compressed or not, cut into
// 1-4 fragments with pings between them, and close frames, all written by
// this package's frame writer (AppendMaskedFrame) and Compressor.
func fuzzScript(t *testing.T, data []byte, frames, deflate, takeover bool) (wire []byte, want []rmsg) {
	var z Compressor
	if deflate {
		if err := z.Init(15, takeover, 1); err != nil {
			t.Fatal(err)
		}
		defer z.Release()
	}
	i := 0
	next := func() byte {
		if i < len(data) {
			i++
			return data[i-1]
		}
		return 0
	}
	key := [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	for n := 0; i < len(data) && n < 32; n++ {
		c := next()
		key[n%4] ^= c
		if c&0xc0 == 0xc0 {
			p := AppendClose(nil, StatusCode(1000+int(c&3)), "bye")[2:]
			wire = AppendMaskedFrame(wire, OpClose, true, 0, key, p)
			want = append(want, msgClose(StatusCode(1000+int(c&3)), string(p)))
			continue
		}
		op := OpBinary
		if c&1 != 0 {
			op = OpText
		}
		compress := deflate && c&2 != 0
		nfrag := 1 + int(c>>2&3)
		pings := c&0x10 != 0
		size := int(next())
		if c&0x20 != 0 {
			size *= 97
		}
		size = min(size, len(data)-i)
		payload := data[i : i+size]
		i += size
		if op == OpText {
			payload = []byte(strings.ToValidUTF8(string(payload), "?"))
		}
		body := payload
		var rsv byte
		if compress {
			var err error
			if body, err = z.Compress(nil, payload); err != nil {
				t.Fatal(err)
			}
			rsv = Rsv1
		}
		var msgWant []rmsg
		for k := 0; k < nfrag; k++ {
			piece := body[len(body)*k/nfrag : len(body)*(k+1)/nfrag]
			fop, fin, frsv := op, k == nfrag-1, rsv
			if k > 0 {
				fop, frsv = OpContinuation, 0
			}
			if k > 0 && pings {
				ping := fmt.Sprint("p", n, k)
				wire = AppendMaskedFrame(wire, OpPing, true, 0, key, []byte(ping))
				msgWant = append(msgWant, msgCtl(OpPing, ping))
			}
			wire = AppendMaskedFrame(wire, fop, fin, frsv, key, piece)
			if frames && !compress {
				msgWant = append(msgWant, msgFrame(fop, fin, string(piece)))
			}
		}
		if compress {
			msgWant = append(msgWant, msgZ(op, string(payload)))
		} else if !frames {
			msgWant = append(msgWant, rmsg{op: op, fin: true, payload: string(payload)})
		}
		want = append(want, msgWant...)
	}
	return wire, want
}

// fuzzChunkings feeds an input whole, a byte at a time (the first 64 KiB),
// split at one offset, and in two random chunkings.
func fuzzChunkings(in []byte, split uint16) (names []string, runs [][][]byte) {
	names = append(names, "whole")
	runs = append(runs, [][]byte{in})
	if len(in) <= 64<<10 {
		var bw [][]byte
		for k := range in {
			bw = append(bw, in[k:k+1])
		}
		names = append(names, "bytewise")
		runs = append(runs, bw)
	}
	if len(in) > 1 {
		s := 1 + int(split)%(len(in)-1)
		names = append(names, fmt.Sprint("split ", s))
		runs = append(runs, [][]byte{in[:s], in[s:]})
	}
	r := rand.New(rand.NewSource(int64(split)))
	for k := 0; k < 2; k++ {
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+r.Intn([]int{5, 200, 9000}[r.Intn(3)]))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		names = append(names, fmt.Sprint("random ", k))
		runs = append(runs, chunks)
	}
	return names, runs
}

// FuzzReader: (1) round trip: the frames fuzzScript writes from the input
// are read back, whole and in every chunking fuzzChunkings makes, as
// exactly the messages (or frames) written; (2) the input itself read as
// wire bytes gives the same deliveries and the same error in every
// chunking, never a panic, never more consumed than given (feed checks).
func FuzzReader(f *testing.F) {
	f.Add([]byte("\x01\x05hello\x02\x10compressible compressible\x1d\x07fragmnt"), byte(0x2), uint16(3))
	f.Add([]byte("\x3f\x02"+strings.Repeat("x", 300)+"\xc1\x10"), byte(0x7), uint16(100))
	f.Add([]byte("\x11\x04\xe2\x82\xac\xe2"), byte(0x1), uint16(2))
	f.Add(fr(OpText, true, "raw frame"), byte(0x0), uint16(4))
	f.Add(cat(fr(OpText, false, "a"), fr(OpPing, true, "p"), fr(OpContinuation, true, "b")), byte(0x1), uint16(9))
	f.Add(frRsv(OpBinary, true, Rsv1, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), byte(0x2), uint16(5))
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, byte(0), uint16(7))
	f.Fuzz(func(t *testing.T, data []byte, flags byte, split uint16) {
		frames, deflate, takeover := flags&1 != 0, flags&2 != 0, flags&4 != 0
		cfg := func(max int) ReaderConfig {
			c := ReaderConfig{MaxMessage: int64(max), MaxFragments: 64, Frames: frames}
			if deflate {
				d := new(Decompressor)
				if err := d.Init(15, takeover); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(d.Release)
				c.Inflate = d
			}
			return c
		}

		wire, want := fuzzScript(t, data, frames, deflate, takeover)
		names, runs := fuzzChunkings(wire, split)
		for k, chunks := range runs {
			got, err, _, idle := feed(t, cfg(1<<20), chunks)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(want) || !idle {
				t.Fatalf("round trip, %s: deliveries\n %v, err %v, idle %v\nwant\n %v", names[k], got, err, idle, want)
			}
		}

		names, runs = fuzzChunkings(data, split)
		var first []rmsg
		var firstErr error
		for k, chunks := range runs {
			got, err, _, _ := feed(t, cfg(1<<16), chunks)
			if k == 0 {
				first, firstErr = got, err
				continue
			}
			if err != firstErr || fmt.Sprint(got) != fmt.Sprint(first) {
				t.Fatalf("raw input, %s: %v, %v; whole: %v, %v", names[k], got, err, first, firstErr)
			}
		}
	})
}
