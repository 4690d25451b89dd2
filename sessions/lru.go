package sessions

import "sync/atomic"

// Stamped is what a session value provides for Oldest: the use stamp of its
// last request. Smaller means less recently used. Pointer types implement it
// without allocation on the call path.
type Stamped interface {
	LRUStamp() uint64
}

// UseCounter is the server-wide monotonic use counter of ESP's LRU purge: each
// request takes the next value and stamps it into its session, so stamps
// order sessions by last use without reading a clock. The zero value is ready
// and the first stamp is 1 (0 can mean "never used"). Safe for concurrent use.
type UseCounter struct {
	n atomic.Uint64
}

// Next returns a stamp larger than every stamp returned before it.
func (c *UseCounter) Next() uint64 { return c.n.Add(1) }

// Load returns the most recent stamp handed out (0 before the first).
func (c *UseCounter) Load() uint64 { return c.n.Load() }

// Oldest returns the live session with the smallest LRUStamp among those for
// which eligible returns true (eligible nil: all). Values whose T does not
// implement Stamped count as stamp 0. ok is false when no live session is
// eligible. Ties go to the lower slot.
//
// Like esp_http_server's LRU purge it walks every slot, O(Cap), so it is
// meant for the rare moment the table is full, not for every request.
// Sessions touched or freed during the walk may be judged on either side of
// the change; the caller should re-check the chosen ID (Get) before acting.
func (s *Slab[T]) Oldest(eligible func(id ID, v T) bool) (ID, bool) {
	return s.OldestBy(stampOf[T], eligible)
}

// OldestBy is Oldest with the stamp read by stamp instead of Stamped.
func (s *Slab[T]) OldestBy(stamp func(v T) uint64, eligible func(id ID, v T) bool) (ID, bool) {
	var best ID
	var bestStamp uint64
	found := false
	s.Range(func(id ID, v T) bool {
		if eligible != nil && !eligible(id, v) {
			return true
		}
		if st := stamp(v); !found || st < bestStamp {
			best, bestStamp, found = id, st, true
		}
		return true
	})
	return best, found
}

func stampOf[T any](v T) uint64 {
	if st, ok := any(v).(Stamped); ok {
		return st.LRUStamp()
	}
	return 0
}
