package ws

import "encoding/binary"

// UTF8Validator checks that a byte stream is UTF-8 (RFC 3629, as required for
// text messages by RFC 6455 §8.1) while it arrives in pieces: a code point may
// be split across Write calls, frames and fragments. It rejects overlong
// forms, surrogates (U+D800-U+DFFF) and values above U+10FFFF, and it fails
// fast: Write returns false at the first byte that no valid continuation of
// the stream could follow. The zero value is ready.
type UTF8Validator struct {
	need   uint8 // continuation bytes still expected in the current code point
	lo, hi byte  // range allowed for the next continuation byte
	bad    bool
}

// Reset makes v ready for a new stream.
func (v *UTF8Validator) Reset() { *v = UTF8Validator{} }

// Done reports whether the stream written so far is valid and ends on a code
// point boundary, i.e. whether it may end here.
func (v *UTF8Validator) Done() bool { return !v.bad && v.need == 0 }

// Write feeds p and reports whether the stream is still valid or could still
// become valid with more bytes. Once it returns false it keeps returning
// false until Reset.
func (v *UTF8Validator) Write(p []byte) bool {
	if v.bad {
		return false
	}
	i := 0
	// Finish a code point started by an earlier Write.
	for v.need > 0 {
		if i == len(p) {
			return true
		}
		if c := p[i]; c < v.lo || c > v.hi {
			v.bad = true
			return false
		}
		v.lo, v.hi = 0x80, 0xBF
		v.need--
		i++
	}
	for i < len(p) {
		c := p[i]
		if c < 0x80 {
			i++
			// One ASCII byte suggests more: skip them a word at a time
			// (8 bytes, then 32 per step while the run lasts). Multi-byte
			// text does not pay for the word loads.
			if len(p)-i >= 8 && binary.LittleEndian.Uint64(p[i:i+8])&0x8080808080808080 == 0 {
				i += 8
				for len(p)-i >= 32 {
					q := p[i : i+32 : i+32]
					w := binary.LittleEndian.Uint64(q[0:8]) | binary.LittleEndian.Uint64(q[8:16]) |
						binary.LittleEndian.Uint64(q[16:24]) | binary.LittleEndian.Uint64(q[24:32])
					if w&0x8080808080808080 != 0 {
						break
					}
					i += 32
				}
				for len(p)-i >= 8 && binary.LittleEndian.Uint64(p[i:i+8])&0x8080808080808080 == 0 {
					i += 8
				}
			}
			continue
		}
		x := utf8First[c]
		if x == 0 {
			v.bad = true
			return false
		}
		r := utf8Ranges[x>>4]
		size := int(x & 7)
		if len(p)-i >= size {
			// The whole sequence is here: check it without loop state.
			// RFC 3629 §4: the second byte's range depends on the lead
			// byte, later ones are always 80..BF.
			if c1 := p[i+1]; c1 < r[0] || c1 > r[1] ||
				size > 2 && p[i+2]&0xC0 != 0x80 ||
				size > 3 && p[i+3]&0xC0 != 0x80 {
				v.bad = true
				return false
			}
			i += size
			continue
		}
		// The sequence continues in a later Write: check what is here and
		// keep the rest as state.
		i++
		lo, hi := r[0], r[1]
		for k := size; k > 1; k-- {
			if i == len(p) {
				v.need, v.lo, v.hi = uint8(k-1), lo, hi
				return true
			}
			if c := p[i]; c < lo || c > hi {
				v.bad = true
				return false
			}
			lo, hi = 0x80, 0xBF
			i++
		}
	}
	return true
}

// utf8First describes each lead byte: low 3 bits the sequence length (0 for
// bytes that cannot start a sequence), high 4 bits an index into utf8Ranges
// for the range of the second byte (RFC 3629 §4).
var utf8First = func() (t [256]uint8) {
	for c := 0xC2; c <= 0xDF; c++ {
		t[c] = 0<<4 | 2
	}
	t[0xE0] = 1<<4 | 3 // A0..BF: no overlongs
	for c := 0xE1; c <= 0xEF; c++ {
		t[c] = 0<<4 | 3
	}
	t[0xED] = 2<<4 | 3 // 80..9F: no surrogates
	t[0xF0] = 3<<4 | 4 // 90..BF: no overlongs
	for c := 0xF1; c <= 0xF3; c++ {
		t[c] = 0<<4 | 4
	}
	t[0xF4] = 4<<4 | 4 // 80..8F: nothing above U+10FFFF
	return t
}()

var utf8Ranges = [5][2]byte{
	{0x80, 0xBF},
	{0xA0, 0xBF},
	{0x80, 0x9F},
	{0x90, 0xBF},
	{0x80, 0x8F},
}

// ValidUTF8 reports whether b is entirely valid UTF-8 under the same rules as
// UTF8Validator.
func ValidUTF8(b []byte) bool {
	var v UTF8Validator
	return v.Write(b) && v.Done()
}
