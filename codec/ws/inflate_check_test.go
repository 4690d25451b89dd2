package ws

import "errors"

// A small, slow DEFLATE decoder (RFC 1951) used only by tests: it is
// independent of both flate packages and reports the largest match distance
// used, which proves that a compressor honoured a window size.

var errCheckInflate = errors.New("inflate check: invalid stream")

type checkBitReader struct {
	b   []byte
	pos int // bit position
}

func (r *checkBitReader) bit() (uint32, bool) {
	if r.pos >= 8*len(r.b) {
		return 0, false
	}
	v := uint32(r.b[r.pos>>3]>>(r.pos&7)) & 1
	r.pos++
	return v, true
}

func (r *checkBitReader) bits(n int) (uint32, bool) {
	var v uint32
	for i := 0; i < n; i++ {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		v |= b << i
	}
	return v, true
}

// checkHuffman is a canonical Huffman code: the number of codes of each
// length and the symbols in code order.
type checkHuffman struct {
	count   [16]int
	symbols []int
}

func newCheckHuffman(lengths []int) *checkHuffman {
	h := &checkHuffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	for l := 1; l < 16; l++ {
		for s, sl := range lengths {
			if sl == l {
				h.symbols = append(h.symbols, s)
			}
		}
	}
	return h
}

// decode reads one symbol, most significant code bit first (RFC 1951 §3.1.1).
func (h *checkHuffman) decode(r *checkBitReader) (int, bool) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, ok := r.bit()
		if !ok {
			return 0, false
		}
		code |= int(b)
		if n := h.count[l]; code-first < n {
			return h.symbols[index+code-first], true
		} else {
			index += n
			first += n
		}
		first <<= 1
		code <<= 1
	}
	return 0, false
}

var (
	checkLenBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	checkLenExtra = [...]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	checkDistBase = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	checkDistExtr = [...]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	checkClOrder  = [...]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// checkInflate decodes a raw DEFLATE stream that ends with a final block or
// at a byte boundary after a non-final block (a sync flush), with dict as
// the preceding window. It returns the output (without dict) and the largest
// distance any match used.
func checkInflate(data, dict []byte) (out []byte, maxDist int, err error) {
	r := &checkBitReader{b: data}
	hist := append([]byte(nil), dict...)
	for {
		if r.pos+3 > 8*len(data) {
			break // sync-flushed stream ends between blocks
		}
		final, _ := r.bits(1)
		typ, _ := r.bits(2)
		switch typ {
		case 0:
			r.pos = (r.pos + 7) &^ 7
			n, ok1 := r.bits(16)
			nn, ok2 := r.bits(16)
			if !ok1 || !ok2 || n != ^nn&0xffff || r.pos/8+int(n) > len(data) {
				return nil, 0, errCheckInflate
			}
			hist = append(hist, data[r.pos/8:r.pos/8+int(n)]...)
			r.pos += 8 * int(n)
		case 1, 2:
			var lit, dist *checkHuffman
			if typ == 1 {
				l := make([]int, 288)
				for i := range l {
					switch {
					case i < 144:
						l[i] = 8
					case i < 256:
						l[i] = 9
					case i < 280:
						l[i] = 7
					default:
						l[i] = 8
					}
				}
				d := make([]int, 30)
				for i := range d {
					d[i] = 5
				}
				lit, dist = newCheckHuffman(l), newCheckHuffman(d)
			} else {
				var e error
				if lit, dist, e = checkDynamic(r); e != nil {
					return nil, 0, e
				}
			}
			for {
				sym, ok := lit.decode(r)
				if !ok {
					return nil, 0, errCheckInflate
				}
				if sym < 256 {
					hist = append(hist, byte(sym))
					continue
				}
				if sym == 256 {
					break
				}
				sym -= 257
				if sym >= len(checkLenBase) {
					return nil, 0, errCheckInflate
				}
				e, _ := r.bits(checkLenExtra[sym])
				length := checkLenBase[sym] + int(e)
				ds, ok := dist.decode(r)
				if !ok || ds >= len(checkDistBase) {
					return nil, 0, errCheckInflate
				}
				e, _ = r.bits(checkDistExtr[ds])
				d := checkDistBase[ds] + int(e)
				if d > len(hist) {
					return nil, 0, errCheckInflate
				}
				maxDist = max(maxDist, d)
				for i := 0; i < length; i++ {
					hist = append(hist, hist[len(hist)-d])
				}
			}
		default:
			return nil, 0, errCheckInflate
		}
		if final == 1 {
			break
		}
	}
	return hist[len(dict):], maxDist, nil
}

func checkDynamic(r *checkBitReader) (lit, dist *checkHuffman, err error) {
	hlit, _ := r.bits(5)
	hdist, _ := r.bits(5)
	hclen, ok := r.bits(4)
	if !ok {
		return nil, nil, errCheckInflate
	}
	cl := make([]int, 19)
	for i := 0; i < int(hclen)+4; i++ {
		v, _ := r.bits(3)
		cl[checkClOrder[i]] = int(v)
	}
	clh := newCheckHuffman(cl)
	n := int(hlit) + 257 + int(hdist) + 1
	lengths := make([]int, 0, n)
	for len(lengths) < n {
		sym, ok := clh.decode(r)
		if !ok {
			return nil, nil, errCheckInflate
		}
		switch {
		case sym < 16:
			lengths = append(lengths, sym)
		case sym == 16:
			if len(lengths) == 0 {
				return nil, nil, errCheckInflate
			}
			rep, _ := r.bits(2)
			for i := 0; i < 3+int(rep); i++ {
				lengths = append(lengths, lengths[len(lengths)-1])
			}
		case sym == 17:
			rep, _ := r.bits(3)
			for i := 0; i < 3+int(rep); i++ {
				lengths = append(lengths, 0)
			}
		default:
			rep, _ := r.bits(7)
			for i := 0; i < 11+int(rep); i++ {
				lengths = append(lengths, 0)
			}
		}
	}
	if len(lengths) > n {
		return nil, nil, errCheckInflate
	}
	return newCheckHuffman(lengths[:hlit+257]), newCheckHuffman(lengths[hlit+257:]), nil
}
