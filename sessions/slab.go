package sessions

import (
	"errors"
	"reflect"
	"sync/atomic"
	"unsafe"
)

// Capacity limits of a Slab.
const (
	MinCapacity = 1
	MaxCapacity = 1 << 24
)

// ErrCapacity is returned by NewSlab for a capacity outside
// MinCapacity..MaxCapacity.
var ErrCapacity = errors.New("sessions: capacity out of range")

// slot is one session's cell. 16 bytes on 64-bit platforms.
//
// gen is the state machine of the slot: even means free, odd means live.
// Alloc moves it from even g to g+1, Free from odd g to g+1, so every
// session the slot ever holds gets a generation no earlier session had (until
// 2^32 wraps).
//
// val holds the session's value as a pointer (see Slab.direct). It is only
// ever written while gen is even (Alloc before publishing, Free after
// retiring), and only read together with two loads of gen that bracket it.
//
// next links free slots: index+1 of the next free slot, 0 at the end. It is
// only meaningful while the slot is on the free list, but is read with an
// atomic load by poppers that lost a race (see pop), so it is atomic too.
type slot struct {
	gen  atomic.Uint32
	next atomic.Uint32
	val  atomic.Pointer[byte]
}

// Slab is a fixed-capacity table of session slots with generation-stamped
// IDs. Alloc, Free, Get, Range, Oldest and Len may be called from any
// goroutine at any time.
//
// Memory ordering: every shared field is a sync/atomic value, and Go's
// atomics are sequentially consistent, so the argument can reason about one
// total order of all atomic operations.
//
//   - Publication. Alloc stores the value and only then stores the odd
//     generation. A Get that loads that generation is therefore ordered after
//     the value store and sees the value (and, for pointer T, everything the
//     allocating goroutine wrote through the pointer before Alloc).
//   - No value of a newer session for an old ID. Get loads gen (g1, must equal
//     the ID's), loads the value, loads gen again (g2) and answers only if
//     g2 == g1. Suppose the value it loaded belongs to a later session of the
//     slot. That session's Alloc stored it after popping the slot from the
//     free list, which happened after the Free that pushed it, which first
//     moved gen from g1 to g1+1. So the bump precedes the value load, which
//     precedes the second gen load, and g2 != g1: Get answers false. The
//     only escape is gen cycling through all 2^32 values in between.
//   - Exactly-once Free. Free retires a session with one CompareAndSwap of gen
//     from the ID's generation to the next; of any number of racing Frees of
//     the same ID exactly one CAS succeeds, and a later Free finds gen moved.
//   - Free list. A Treiber stack whose 64-bit head packs the top slot's
//     index+1 (low 32 bits) with a counter bumped on every successful push and
//     pop (high 32 bits). A pop that read head, then stalled while the top
//     slot was popped, reused, freed and pushed again, fails its CAS because
//     the counter moved, so the stack is never corrupted by ABA (short of
//     2^32 stack operations during one stall).
type Slab[T any] struct {
	head  atomic.Uint64 // free list: index+1 of the top slot | counter<<32
	_     [56]byte      // keep the hot head off the live counter's line
	live  atomic.Int64
	slots []slot
	// direct is true when T is a single pointer (pointer, map, chan, func,
	// unsafe.Pointer): the value itself is stored in val. Other T are copied
	// into a new heap cell per Alloc and val points to it.
	direct bool
}

// SlotBytes is the memory a Slab uses per slot, allocated up front by
// NewSlab. Values of non-pointer T take a heap cell of their own on top.
const SlotBytes = int(unsafe.Sizeof(slot{}))

// NewSlab returns an empty slab of capacity slots (MinCapacity..MaxCapacity;
// anything else is ErrCapacity). All capacity*SlotBytes bytes are allocated
// now; Alloc, Get and Free never allocate when T is a pointer type.
func NewSlab[T any](capacity int) (*Slab[T], error) {
	if capacity < MinCapacity || capacity > MaxCapacity {
		return nil, ErrCapacity
	}
	s := &Slab[T]{slots: make([]slot, capacity)}
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Pointer, reflect.UnsafePointer, reflect.Map, reflect.Chan, reflect.Func:
		s.direct = true
	}
	// Chain every slot in index order so low slots are used first.
	for i := range capacity - 1 {
		s.slots[i].next.Store(uint32(i + 2))
	}
	s.head.Store(1)
	return s, nil
}

// Cap returns the number of slots.
func (s *Slab[T]) Cap() int { return len(s.slots) }

// Len returns the number of live sessions. While Alloc and Free run
// concurrently it is a moment's count; at quiescence it is exact.
func (s *Slab[T]) Len() int { return int(s.live.Load()) }

// Alloc takes a free slot, gives it a fresh generation, stores v and returns
// the new session's ID. ok is false, at once, when every slot is in use.
// Alloc is lock-free: it retries only when another Alloc or Free changed the
// free list at the same moment, and then one of them has made progress.
func (s *Slab[T]) Alloc(v T) (id ID, ok bool) {
	i, ok := s.pop(nil)
	if !ok {
		return 0, false
	}
	sl := &s.slots[i]
	g := sl.gen.Load() + 1 // even (free) to odd (live); only we touch it now
	sl.val.Store(s.toPtr(v))
	sl.gen.Store(g) // publish: from here Get(id) sees v
	s.live.Add(1)
	return makeID(i, g), true
}

// Get returns the value of the live session id. ok is false, and v is the
// zero T, when id was never issued or its session was freed (the slot may
// hold a newer session by now; Get never returns that one). Get is wait-free.
func (s *Slab[T]) Get(id ID) (v T, ok bool) {
	i, g := id.Slot(), id.Gen()
	if g&1 == 0 || i >= len(s.slots) {
		return v, false
	}
	return s.load(i, g, nil)
}

// load is Get's seqlock read of slot i for generation g. between, nil except
// in tests, runs after the first generation check and before the value is
// read: the window in which a concurrent Free and Alloc could swap the value.
func (s *Slab[T]) load(i int, g uint32, between func()) (v T, ok bool) {
	sl := &s.slots[i]
	if sl.gen.Load() != g {
		return v, false
	}
	if between != nil {
		between()
	}
	p := sl.val.Load()
	if sl.gen.Load() != g {
		// Freed while we read: p may be nil or a newer session's value.
		return v, false
	}
	return s.fromPtr(p), true
}

// Free ends session id and returns its slot to the free list. It reports
// whether it did: it is false for a stale or never-issued id, and of several
// Frees of the same id, concurrent or not, exactly one returns true. From the
// moment it returns, Get(id) is false.
func (s *Slab[T]) Free(id ID) bool {
	i, g := id.Slot(), id.Gen()
	if g&1 == 0 || i >= len(s.slots) {
		return false
	}
	sl := &s.slots[i]
	if !sl.gen.CompareAndSwap(g, g+1) {
		return false
	}
	// Retired: gen is even, Gets of id fail their second check. Drop the
	// value so the slab does not keep it alive, then hand the slot back.
	sl.val.Store(nil)
	s.live.Add(-1)
	s.push(i)
	return true
}

// Range calls fn for each live session in slot order until fn returns false.
// Sessions allocated or freed while Range runs may or may not be visited;
// every visited pair was live, with that value, at the moment it was read.
// Range allocates nothing.
func (s *Slab[T]) Range(fn func(id ID, v T) bool) {
	for i := range s.slots {
		g := s.slots[i].gen.Load()
		if g&1 == 0 {
			continue
		}
		v, ok := s.load(i, g, nil)
		if ok && !fn(makeID(i, g), v) {
			return
		}
	}
}

// pop takes the top slot off the free list; ok is false when it is empty.
// between, nil except in tests, runs after next is read and before the CAS:
// the window of the ABA problem.
func (s *Slab[T]) pop(between func()) (i int, ok bool) {
	for {
		h := s.head.Load()
		top := uint32(h)
		if top == 0 {
			return 0, false
		}
		// If another goroutine pops this slot first, next may change
		// under us; the counter in head then makes our CAS fail.
		next := s.slots[top-1].next.Load()
		if between != nil {
			between()
		}
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(next)) {
			return int(top - 1), true
		}
	}
}

// push puts slot i on top of the free list.
func (s *Slab[T]) push(i int) {
	sl := &s.slots[i]
	for {
		h := s.head.Load()
		sl.next.Store(uint32(h))
		if s.head.CompareAndSwap(h, (h>>32+1)<<32|uint64(i+1)) {
			return
		}
	}
}

// toPtr turns v into what val stores.
func (s *Slab[T]) toPtr(v T) *byte {
	if s.direct {
		// T is exactly one pointer word; reinterpret it. The GC sees the
		// pointer in val, so the referent stays alive.
		return *(**byte)(unsafe.Pointer(&v))
	}
	c := new(T)
	*c = v
	return (*byte)(unsafe.Pointer(c))
}

// fromPtr is the inverse of toPtr. A heap cell is never written after it is
// published, so reading it needs no synchronisation beyond val's load.
func (s *Slab[T]) fromPtr(p *byte) T {
	if s.direct {
		return *(*T)(unsafe.Pointer(&p))
	}
	if p == nil {
		var zero T
		return zero
	}
	return *(*T)(unsafe.Pointer(p))
}
