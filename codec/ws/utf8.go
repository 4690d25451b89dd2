package ws

import "encoding/binary"

// UTF8Validator checks that a byte stream is UTF-8 (RFC 3629, as required for
// text messages by RFC 6455 §8.1) while it arrives in pieces: a code point may
// be split across Write calls, frames and fragments. It rejects overlong
// forms, surrogates (U+D800-U+DFFF) and values above U+10FFFF, and it fails
// fast: the Write that holds the first byte no valid continuation of the
// stream could follow returns false. The zero value is ready.
type UTF8Validator struct {
	s uint64 // the automaton's state (see utf8DFA)
}

// Reset makes v ready for a new stream.
func (v *UTF8Validator) Reset() { v.s = utf8Accept }

// Done reports whether the stream written so far is valid and ends on a code
// point boundary, i.e. whether it may end here.
func (v *UTF8Validator) Done() bool { return v.s == utf8Accept }

// Write feeds p and reports whether the stream is still valid or could still
// become valid with more bytes. Once it returns false it keeps returning
// false until Reset.
//
// Between code points, ASCII is skipped a word at a time (64 bytes per
// step in a long run); other bytes go through the automaton eight at a time, one table load and
// one shift each, with no branch per byte.
func (v *UTF8Validator) Write(p []byte) bool {
	s := v.s
	i := 0
	for len(p)-i >= 8 && s != utf8Reject {
		if s == utf8Accept && binary.LittleEndian.Uint64(p[i:i+8])&0x8080808080808080 == 0 {
			// An ASCII word suggests a run: 64 bytes per step while it
			// lasts.
			i += 8
			for len(p)-i >= 64 {
				q := p[i : i+64 : i+64]
				w := binary.LittleEndian.Uint64(q[0:8]) | binary.LittleEndian.Uint64(q[8:16]) |
					binary.LittleEndian.Uint64(q[16:24]) | binary.LittleEndian.Uint64(q[24:32]) |
					binary.LittleEndian.Uint64(q[32:40]) | binary.LittleEndian.Uint64(q[40:48]) |
					binary.LittleEndian.Uint64(q[48:56]) | binary.LittleEndian.Uint64(q[56:64])
				if w&0x8080808080808080 != 0 {
					break
				}
				i += 64
			}
			for len(p)-i >= 8 && binary.LittleEndian.Uint64(p[i:i+8])&0x8080808080808080 == 0 {
				i += 8
			}
			continue
		}
		q := p[i : i+8 : i+8]
		s = utf8DFA[q[0]] >> (s & 63)
		s = utf8DFA[q[1]] >> (s & 63)
		s = utf8DFA[q[2]] >> (s & 63)
		s = utf8DFA[q[3]] >> (s & 63)
		s = utf8DFA[q[4]] >> (s & 63)
		s = utf8DFA[q[5]] >> (s & 63)
		s = utf8DFA[q[6]] >> (s & 63)
		s = utf8DFA[q[7]] >> (s & 63)
		s &= 63
		i += 8
	}
	if s == utf8Accept && i < len(p) && len(p) >= 8 && binary.LittleEndian.Uint64(p[len(p)-8:])&0x8080808080808080 == 0 {
		// An ASCII tail, read as the word ending at the end of p (its
		// first bytes, already taken, are read again).
		i = len(p)
	}
	for ; i < len(p) && s != utf8Reject; i++ {
		s = utf8DFA[p[i]] >> (s & 63) & 63
	}
	v.s = s
	return s != utf8Reject
}

// The validator is a deterministic automaton over bytes (RFC 3629 §4) in a
// shift encoding: a state is the bit offset of its 6-bit field, and
// utf8DFA[b] holds, in the field of each state, the state that byte b leads
// to. One step is next = utf8DFA[b] >> state & 63, which keeps the chain
// from one byte to the next at a shift and a mask.
//
// The nine states: accept (between code points), reject (sticky), and
// seven inside a sequence, named by what they still need.
const (
	utf8Accept = 0 * 6
	utf8Reject = 1 * 6
	utf8Need1  = 2 * 6 // one more 80..BF
	utf8Need2  = 3 * 6 // two more 80..BF
	utf8E0     = 4 * 6 // after E0: A0..BF (no overlong), then one more
	utf8ED     = 5 * 6 // after ED: 80..9F (no surrogate), then one more
	utf8Need3  = 6 * 6 // after F1..F3: three more 80..BF
	utf8F0     = 7 * 6 // after F0: 90..BF (no overlong), then two more
	utf8F4     = 8 * 6 // after F4: 80..8F (not above U+10FFFF), then two more
)

var utf8DFA = func() (t [256]uint64) {
	next := func(state int, b int) int {
		in := func(lo, hi int) bool { return lo <= b && b <= hi }
		switch state {
		case utf8Accept:
			switch {
			case b < 0x80:
				return utf8Accept
			case in(0xC2, 0xDF):
				return utf8Need1
			case b == 0xE0:
				return utf8E0
			case b == 0xED:
				return utf8ED
			case in(0xE1, 0xEF):
				return utf8Need2
			case b == 0xF0:
				return utf8F0
			case in(0xF1, 0xF3):
				return utf8Need3
			case b == 0xF4:
				return utf8F4
			}
		case utf8Need1:
			if in(0x80, 0xBF) {
				return utf8Accept
			}
		case utf8Need2:
			if in(0x80, 0xBF) {
				return utf8Need1
			}
		case utf8E0:
			if in(0xA0, 0xBF) {
				return utf8Need1
			}
		case utf8ED:
			if in(0x80, 0x9F) {
				return utf8Need1
			}
		case utf8Need3:
			if in(0x80, 0xBF) {
				return utf8Need2
			}
		case utf8F0:
			if in(0x90, 0xBF) {
				return utf8Need2
			}
		case utf8F4:
			if in(0x80, 0x8F) {
				return utf8Need2
			}
		}
		return utf8Reject
	}
	for b := range t {
		for state := utf8Accept; state <= utf8F4; state += 6 {
			t[b] |= uint64(next(state, b)) << state
		}
	}
	return t
}()

// ValidUTF8 reports whether b is entirely valid UTF-8 under the same rules as
// UTF8Validator.
func ValidUTF8(b []byte) bool {
	var v UTF8Validator
	return v.Write(b) && v.Done()
}
