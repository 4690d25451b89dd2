package sessions

import "sync/atomic"

// Stamp is the tests' session record stamp: the use stamp of its last
// request, taken from a UseCounter, read through Stamped.
type Stamp struct {
	v atomic.Uint64
}

// Touch records a use of the session now, taking the next stamp from c.
func (s *Stamp) Touch(c *UseCounter) { s.v.Store(c.Next()) }

// LRUStamp returns the last stamp Touch recorded, or 0.
func (s *Stamp) LRUStamp() uint64 { return s.v.Load() }
