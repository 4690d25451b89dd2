package sessions

import "strconv"

// ID names one session for its whole life. The low 32 bits hold the slot
// index (0-based), the high 32 bits the slot's generation at the time the
// session was allocated. Live generations are odd, so a valid ID is never 0
// and never has an even generation; see Slab for how generations advance.
//
// An ID stays unique while its slot is reused fewer than 2^31 times; after
// that the generation wraps and an ID that old could name a live session
// again.
type ID uint64

func makeID(slot int, gen uint32) ID { return ID(uint64(gen)<<32 | uint64(uint32(slot))) }

// Slot returns the slot index the ID names.
func (id ID) Slot() int { return int(uint32(id)) }

// Gen returns the generation the ID was issued with.
func (id ID) Gen() uint32 { return uint32(id >> 32) }

// String returns "slot:gen", for example "12:3", for logs.
func (id ID) String() string {
	var b [21]byte
	s := strconv.AppendUint(b[:0], uint64(id.Slot()), 10)
	s = append(s, ':')
	s = strconv.AppendUint(s, uint64(id.Gen()), 10)
	return string(s)
}
