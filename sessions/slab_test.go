package sessions

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

type rec struct {
	id    atomic.Uint64 // the ID Alloc returned for this value, once known
	owner int
	Stamp
}

func newSlab[T any](t testing.TB, n int) *Slab[T] {
	t.Helper()
	s, err := NewSlab[T](n)
	if err != nil {
		t.Fatalf("NewSlab(%d) = %v", n, err)
	}
	return s
}

func TestIDLayout(t *testing.T) {
	cases := []struct {
		slot int
		gen  uint32
		want ID
		str  string
	}{
		{0, 1, 1 << 32, "0:1"},
		{5, 3, 3<<32 | 5, "5:3"},
		{MaxCapacity - 1, 0xffffffff, 0xffffffff<<32 | (MaxCapacity - 1), "16777215:4294967295"},
	}
	for _, c := range cases {
		id := makeID(c.slot, c.gen)
		if id != c.want || id.Slot() != c.slot || id.Gen() != c.gen || id.String() != c.str {
			t.Errorf("makeID(%d, %d) = %#x (slot %d, gen %d, %q); want %#x, %q", c.slot, c.gen, uint64(id), id.Slot(), id.Gen(), id.String(), uint64(c.want), c.str)
		}
	}
}

func TestNewSlab(t *testing.T) {
	for _, n := range []int{-1, 0, MaxCapacity + 1} {
		if s, err := NewSlab[*rec](n); !errors.Is(err, ErrCapacity) || s != nil {
			t.Errorf("NewSlab(%d) = %v, %v; want nil, ErrCapacity", n, s, err)
		}
	}
	for _, n := range []int{1, 2, 1000} {
		s, err := NewSlab[*rec](n)
		if err != nil || s.Cap() != n || s.Len() != 0 {
			t.Fatalf("NewSlab(%d) = Cap %d, Len %d, %v; want Cap %d, Len 0, nil", n, s.Cap(), s.Len(), err, n)
		}
	}
	// Two uint32 words and one pointer per slot, no padding.
	if want := 8 + int(unsafe.Sizeof(uintptr(0))); SlotBytes != want {
		t.Errorf("SlotBytes = %d; want %d", SlotBytes, want)
	}
}

func TestSlabBasic(t *testing.T) {
	s := newSlab[*rec](t, 4)
	r1, r2 := &rec{owner: 1}, &rec{owner: 2}
	id1, ok := s.Alloc(r1)
	if !ok || id1 == 0 || id1.Gen()&1 != 1 {
		t.Fatalf("Alloc() = %v, %v; want an odd-generation ID, true", id1, ok)
	}
	id2, _ := s.Alloc(r2)
	if id1.Slot() == id2.Slot() {
		t.Fatalf("two live sessions share slot %d", id1.Slot())
	}
	if v, ok := s.Get(id1); !ok || v != r1 {
		t.Fatalf("Get(%v) = %p, %v; want %p, true", id1, v, ok, r1)
	}
	if s.Len() != 2 {
		t.Fatalf("Len() = %d; want 2", s.Len())
	}
	if !s.Free(id1) {
		t.Fatalf("Free(%v) = false; want true", id1)
	}
	if s.Free(id1) {
		t.Fatalf("second Free(%v) = true; want false", id1)
	}
	if v, ok := s.Get(id1); ok || v != nil {
		t.Fatalf("Get(freed %v) = %p, %v; want nil, false", id1, v, ok)
	}
	id3, _ := s.Alloc(&rec{owner: 3})
	if id3.Slot() != id1.Slot() || id3 == id1 {
		t.Fatalf("Alloc after Free = %v; want slot %d reused with a new generation", id3, id1.Slot())
	}
	if _, ok := s.Get(id1); ok {
		t.Fatalf("Get(%v) = true after its slot went to %v", id1, id3)
	}
	if s.Free(id1) {
		t.Fatalf("Free(stale %v) freed the slot's new session %v", id1, id3)
	}
	if v, ok := s.Get(id3); !ok || v.owner != 3 {
		t.Fatalf("Get(%v) = %v, %v; want owner 3, true", id3, v, ok)
	}
}

func TestSlabNeverIssued(t *testing.T) {
	s := newSlab[*rec](t, 4)
	live, _ := s.Alloc(&rec{})
	cases := []ID{
		0,
		makeID(0, 0),               // generation 0 is never live
		makeID(live.Slot(), 2),     // even generation: a free state
		makeID(live.Slot(), 3),     // odd, but not issued yet
		makeID(1, 1),               // a slot never allocated
		makeID(4, 1),               // beyond the capacity
		makeID(MaxCapacity, 1),     // far beyond
		makeID(0xffffffff, 1),      // slot field all ones
		makeID(live.Slot(), 1<<31), // even, large
	}
	for _, id := range cases {
		if v, ok := s.Get(id); ok || v != nil {
			t.Errorf("Get(%v) = %p, %v; want nil, false", id, v, ok)
		}
		if s.Free(id) {
			t.Errorf("Free(%v) = true; want false", id)
		}
	}
	if v, ok := s.Get(live); !ok || v == nil || s.Len() != 1 {
		t.Fatalf("live session %v damaged: Get = %p, %v, Len %d", live, v, ok, s.Len())
	}
}

func TestSlabFull(t *testing.T) {
	const n = 64
	s := newSlab[*rec](t, n)
	ids := make([]ID, 0, n)
	seen := map[int]bool{}
	for i := range n {
		id, ok := s.Alloc(&rec{owner: i})
		if !ok {
			t.Fatalf("Alloc #%d of %d = false", i, n)
		}
		if seen[id.Slot()] {
			t.Fatalf("slot %d handed out twice", id.Slot())
		}
		seen[id.Slot()] = true
		ids = append(ids, id)
	}
	for range 3 {
		if id, ok := s.Alloc(&rec{}); ok || id != 0 {
			t.Fatalf("Alloc on a full slab = %v, true; want 0, false", id)
		}
	}
	if s.Len() != n {
		t.Fatalf("Len() = %d; want %d", s.Len(), n)
	}
	// Free in a scrambled order and fill again.
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids[:n/2] {
		if !s.Free(id) {
			t.Fatalf("Free(%v) = false", id)
		}
	}
	for i := range n / 2 {
		if _, ok := s.Alloc(&rec{}); !ok {
			t.Fatalf("refill Alloc #%d = false", i)
		}
	}
	if _, ok := s.Alloc(&rec{}); ok {
		t.Fatal("Alloc after refilling = true; want false")
	}
	for _, id := range ids[:n/2] {
		if _, ok := s.Get(id); ok {
			t.Fatalf("Get(%v) = true for a session freed before the refill", id)
		}
	}
	for _, id := range ids[n/2:] {
		if v, ok := s.Get(id); !ok || v == nil {
			t.Fatalf("Get(%v) = %p, %v; want the survivor", id, v, ok)
		}
	}
}

// TestSlabGenerationReuse reuses one slot thousands of times: every ID it
// ever issued except the current one must be stale.
func TestSlabGenerationReuse(t *testing.T) {
	s := newSlab[*rec](t, 1)
	const rounds = 5000
	old := make([]ID, 0, rounds)
	seen := make(map[ID]bool, rounds)
	for i := range rounds {
		r := &rec{owner: i}
		id, ok := s.Alloc(r)
		if !ok || seen[id] {
			t.Fatalf("round %d: Alloc() = %v, %v; want a fresh ID", i, id, ok)
		}
		seen[id] = true
		if v, ok := s.Get(id); !ok || v != r {
			t.Fatalf("round %d: Get(%v) = %p, %v; want %p", i, id, v, ok, r)
		}
		if i%500 == 0 {
			for _, o := range old {
				if _, ok := s.Get(o); ok || s.Free(o) {
					t.Fatalf("round %d: stale %v still works", i, o)
				}
			}
		}
		if !s.Free(id) {
			t.Fatalf("round %d: Free(%v) = false", i, id)
		}
		old = append(old, id)
	}
	for _, o := range old {
		if _, ok := s.Get(o); ok || s.Free(o) {
			t.Fatalf("stale %v still works after %d reuses", o, rounds)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("Len() = %d; want 0", s.Len())
	}
}

// TestSlabGenerationReuseConcurrent has one goroutine reuse a single slot as
// fast as it can while readers Get and Free IDs it published: a reader must
// never see a value that belongs to another ID, and no stranger's Free may
// succeed more than once per ID.
func TestSlabGenerationReuseConcurrent(t *testing.T) {
	s := newSlab[*rec](t, 1)
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	var cur atomic.Uint64
	var done atomic.Bool
	var strangerFrees atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for i := 0; !done.Load(); i++ {
				x := ID(cur.Load())
				if v, ok := s.Get(x); ok {
					if v == nil {
						t.Errorf("Get(%v) = nil, true: read the slot after it was freed", x)
						return
					}
					if got := ID(v.id.Load()); got != x {
						t.Errorf("Get(%v) returned the value of %v", x, got)
						return
					}
				}
				if i%64 == 0 && s.Free(x) {
					strangerFrees.Add(1)
				}
			}
		})
	}
	ownFrees := 0
	for i := range rounds {
		r := &rec{owner: i}
		// A stranger whose Free won the slot may still be handing it back
		// to the free list (Free retires the slot, then pushes it): Alloc
		// fails until that push lands, so retry a bounded number of times.
		id, ok := s.Alloc(r)
		for try := 0; !ok && try < 100000; try++ {
			runtime.Gosched()
			id, ok = s.Alloc(r)
		}
		if !ok {
			t.Fatalf("round %d: Alloc on an empty one-slot slab = false", i)
		}
		r.id.Store(uint64(id))
		cur.Store(uint64(id))
		if s.Free(id) {
			ownFrees++
		}
	}
	done.Store(true)
	wg.Wait()
	if got := int64(ownFrees) + strangerFrees.Load(); got != int64(rounds) {
		t.Fatalf("%d own + %d stranger Frees = %d; want exactly %d, one per ID", ownFrees, strangerFrees.Load(), got, rounds)
	}
	if s.Len() != 0 {
		t.Fatalf("Len() = %d; want 0", s.Len())
	}
}

// TestSlabConcurrent runs Alloc, Get and Free from 8 goroutines, 100k
// operations each, on a small table so slots are reused constantly and the
// table is often full. IDs are shared through a published ring so Gets and
// Frees hit other goroutines' sessions, live and stale.
func TestSlabConcurrent(t *testing.T) {
	const (
		workers  = 8
		capacity = 64
	)
	ops := 100000
	if testing.Short() {
		ops = 10000
	}
	s := newSlab[*rec](t, capacity)
	var published [256]atomic.Uint64
	var freed sync.Map // ID -> struct{}: every successful Free, to prove exactly-once
	var allocs, frees atomic.Int64
	type pending struct {
		id ID
		v  *rec
	}
	var wg sync.WaitGroup
	late := make([][]pending, workers)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			var mine []ID
			for range ops {
				switch op := rng.IntN(10); {
				case op < 3: // Alloc
					r := &rec{owner: w}
					id, ok := s.Alloc(r)
					if !ok {
						continue
					}
					allocs.Add(1)
					if id.Gen()&1 == 0 || id.Slot() >= capacity {
						t.Errorf("Alloc() = %v: even generation or slot out of range", id)
						return
					}
					// Nobody else knows id yet, so it must be live and ours.
					if v, ok := s.Get(id); !ok || v != r {
						t.Errorf("Get(%v) right after Alloc = %p, %v; want %p", id, v, ok, r)
						return
					}
					// The previous session of the slot must be stale.
					if id.Gen() > 2 {
						if _, ok := s.Get(makeID(id.Slot(), id.Gen()-2)); ok {
							t.Errorf("slot %d: generation %d live next to %d", id.Slot(), id.Gen()-2, id.Gen())
							return
						}
					}
					r.id.Store(uint64(id))
					published[rng.IntN(len(published))].Store(uint64(id))
					mine = append(mine, id)
				case op < 5: // Free one of mine (it may have been freed by a stranger)
					if len(mine) == 0 {
						continue
					}
					k := rng.IntN(len(mine))
					id := mine[k]
					mine[k] = mine[len(mine)-1]
					mine = mine[:len(mine)-1]
					if s.Free(id) {
						frees.Add(1)
						if _, dup := freed.LoadOrStore(id, struct{}{}); dup {
							t.Errorf("Free(%v) succeeded twice", id)
							return
						}
					}
				case op < 6: // Free a published ID: races with its owner
					id := ID(published[rng.IntN(len(published))].Load())
					if s.Free(id) {
						frees.Add(1)
						if _, dup := freed.LoadOrStore(id, struct{}{}); dup {
							t.Errorf("Free(%v) succeeded twice", id)
							return
						}
					}
				default: // Get a published ID
					id := ID(published[rng.IntN(len(published))].Load())
					v, ok := s.Get(id)
					if !ok {
						continue
					}
					if v == nil {
						t.Errorf("Get(%v) = nil, true: read the slot after it was freed", id)
						return
					}
					switch got := ID(v.id.Load()); got {
					case id:
					case 0: // its Alloc has not returned yet: check later
						late[w] = append(late[w], pending{id, v})
					default:
						t.Errorf("Get(%v) returned the value of %v", id, got)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for _, ps := range late {
		for _, p := range ps {
			if got := ID(p.v.id.Load()); got != p.id {
				t.Errorf("Get(%v) returned the value of %v", p.id, got)
			}
		}
	}
	// Quiescent: Len, Range and the counters agree.
	live := allocs.Load() - frees.Load()
	if int64(s.Len()) != live {
		t.Fatalf("Len() = %d; want allocs-frees = %d", s.Len(), live)
	}
	n, slots := 0, map[int]bool{}
	s.Range(func(id ID, v *rec) bool {
		n++
		if slots[id.Slot()] {
			t.Errorf("Range visits slot %d twice", id.Slot())
		}
		slots[id.Slot()] = true
		if ID(v.id.Load()) != id {
			t.Errorf("Range gives %v with the value of %v", id, ID(v.id.Load()))
		}
		if _, gone := freed.Load(id); gone {
			t.Errorf("Range gives freed %v", id)
		}
		return true
	})
	if int64(n) != live {
		t.Fatalf("Range visited %d; want %d", n, live)
	}
	t.Logf("%d allocs, %d frees, %d live", allocs.Load(), frees.Load(), live)
	// Drain and refill: the free list holds exactly the free slots.
	s.Range(func(id ID, _ *rec) bool {
		if !s.Free(id) {
			t.Errorf("Free(%v) = false at quiescence", id)
		}
		return true
	})
	for i := range capacity {
		if _, ok := s.Alloc(&rec{}); !ok {
			t.Fatalf("Alloc #%d into an empty slab = false", i)
		}
	}
	if _, ok := s.Alloc(&rec{}); ok {
		t.Fatal("free list holds more slots than the capacity")
	}
}

// TestSlabAllocFreeContention hammers only the free list from every
// goroutine on a slab that is almost always full, for the ABA tag.
func TestSlabAllocFreeContention(t *testing.T) {
	s := newSlab[*rec](t, 4)
	var wg sync.WaitGroup
	n := 50000
	if testing.Short() {
		n = 5000
	}
	for range 8 {
		wg.Go(func() {
			r := &rec{}
			for range n {
				id, ok := s.Alloc(r)
				if !ok {
					runtime.Gosched()
					continue
				}
				if !s.Free(id) {
					t.Errorf("Free(%v) of my own session = false", id)
					return
				}
			}
		})
	}
	wg.Wait()
	if s.Len() != 0 {
		t.Fatalf("Len() = %d; want 0", s.Len())
	}
	for i := range 4 {
		if _, ok := s.Alloc(r0); !ok {
			t.Fatalf("Alloc #%d = false", i)
		}
	}
	if _, ok := s.Alloc(r0); ok {
		t.Fatal("free list corrupted: a fifth slot in a four-slot slab")
	}
}

var r0 = &rec{}

func TestSlabRange(t *testing.T) {
	s := newSlab[*rec](t, 8)
	var ids []ID
	for i := range 6 {
		id, _ := s.Alloc(&rec{owner: i})
		ids = append(ids, id)
	}
	s.Free(ids[1])
	s.Free(ids[4])
	var got []int
	s.Range(func(id ID, v *rec) bool {
		got = append(got, v.owner)
		return true
	})
	if want := []int{0, 2, 3, 5}; !equalInts(got, want) {
		t.Fatalf("Range visited owners %v; want %v", got, want)
	}
	got = got[:0]
	s.Range(func(id ID, v *rec) bool {
		got = append(got, v.owner)
		return len(got) < 2
	})
	if want := []int{0, 2}; !equalInts(got, want) {
		t.Fatalf("Range stopping after 2 visited %v; want %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSlabValueKinds checks the two storage paths: pointer-shaped T stored
// directly, other T copied into a cell.
func TestSlabValueKinds(t *testing.T) {
	t.Run("struct", func(t *testing.T) {
		type big struct {
			a, b int
			s    string
		}
		s := newSlab[big](t, 2)
		if s.direct {
			t.Fatal("struct T stored directly")
		}
		id, _ := s.Alloc(big{1, 2, "x"})
		if v, ok := s.Get(id); !ok || v != (big{1, 2, "x"}) {
			t.Fatalf("Get(%v) = %v, %v; want {1 2 x}, true", id, v, ok)
		}
		s.Free(id)
		if v, ok := s.Get(id); ok || v != (big{}) {
			t.Fatalf("Get(freed) = %v, %v; want zero, false", v, ok)
		}
	})
	t.Run("interface", func(t *testing.T) {
		s := newSlab[any](t, 2)
		a, _ := s.Alloc("text")
		b, _ := s.Alloc(nil)
		if v, ok := s.Get(a); !ok || v != "text" {
			t.Fatalf("Get(%v) = %v, %v; want text", a, v, ok)
		}
		if v, ok := s.Get(b); !ok || v != nil {
			t.Fatalf("Get(%v) = %v, %v; want nil, true", b, v, ok)
		}
	})
	t.Run("map", func(t *testing.T) {
		s := newSlab[map[string]int](t, 2)
		if !s.direct {
			t.Fatal("map T not stored directly")
		}
		m := map[string]int{"k": 7}
		id, _ := s.Alloc(m)
		if v, ok := s.Get(id); !ok || v["k"] != 7 {
			t.Fatalf("Get(%v) = %v, %v; want the map", id, v, ok)
		}
	})
	t.Run("func", func(t *testing.T) {
		s := newSlab[func() int](t, 2)
		n := 41
		id, _ := s.Alloc(func() int { n++; return n })
		if v, ok := s.Get(id); !ok || v() != 42 {
			t.Fatalf("Get(%v) did not return the closure", id)
		}
	})
	t.Run("nil pointer", func(t *testing.T) {
		s := newSlab[*rec](t, 2)
		id, _ := s.Alloc(nil)
		if v, ok := s.Get(id); !ok || v != nil {
			t.Fatalf("Get(%v) = %p, %v; want nil, true", id, v, ok)
		}
	})
}

func BenchmarkSlabAllocFree(b *testing.B) {
	s := newSlab[*rec](b, 1024)
	r := &rec{}
	b.ReportAllocs()
	for b.Loop() {
		id, _ := s.Alloc(r)
		s.Free(id)
	}
}

func BenchmarkSlabAllocFreeParallel(b *testing.B) {
	s := newSlab[*rec](b, 1024)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := &rec{}
		for pb.Next() {
			if id, ok := s.Alloc(r); ok {
				s.Free(id)
			}
		}
	})
}

func BenchmarkSlabGet(b *testing.B) {
	s := newSlab[*rec](b, 1024)
	id, _ := s.Alloc(&rec{})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Get(id); !ok {
			b.Fatal("Get failed")
		}
	}
}

func BenchmarkSlabGetParallel(b *testing.B) {
	s := newSlab[*rec](b, 1024)
	ids := make([]ID, 256)
	for i := range ids {
		ids[i], _ = s.Alloc(&rec{})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := s.Get(ids[i&255]); !ok {
				b.Error("Get failed")
				return
			}
			i++
		}
	})
}

func BenchmarkSlabOldest(b *testing.B) {
	s := newSlab[*rec](b, 1024)
	var c UseCounter
	for range 1024 {
		r := &rec{}
		r.Touch(&c)
		s.Alloc(r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.Oldest(nil); !ok {
			b.Fatal("Oldest found nothing")
		}
	}
}

// TestSlabGetRacingFree drives the window inside Get deterministically: the
// session is freed, and its slot reused or not, after Get's first generation
// check and before it reads the value. Get must answer false, never the
// newer session's value or the cleared slot.
func TestSlabGetRacingFree(t *testing.T) {
	cases := []struct {
		name  string
		reuse int // sessions allocated into the slot after the Free
	}{
		{"freed", 0},
		{"freed and reused", 1},
		{"reused twice", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSlab[*rec](t, 1)
			old := &rec{owner: 1}
			id, _ := s.Alloc(old)
			between := func() {
				if !s.Free(id) {
					t.Fatalf("Free(%v) = false", id)
				}
				for i := range c.reuse {
					nid, ok := s.Alloc(&rec{owner: 2 + i})
					if !ok {
						t.Fatal("Alloc into the freed slot = false")
					}
					if i < c.reuse-1 {
						s.Free(nid)
					}
				}
			}
			if v, ok := s.load(id.Slot(), id.Gen(), between); ok || v != nil {
				t.Fatalf("Get(%v) racing with Free = %+v, %v; want nil, false", id, v, ok)
			}
			if v, ok := s.Get(id); ok || v != nil {
				t.Fatalf("Get(%v) after Free = %p, %v; want nil, false", id, v, ok)
			}
		})
	}
	// And the window without interference reads the live value.
	s := newSlab[*rec](t, 1)
	r := &rec{}
	id, _ := s.Alloc(r)
	if v, ok := s.load(id.Slot(), id.Gen(), func() {}); !ok || v != r {
		t.Fatalf("load(%v) = %p, %v; want %p, true", id, v, ok, r)
	}
}

// TestSlabFreeListABA stalls a pop between reading the top slot's next link
// and its CAS, while other pops and pushes take the top slot and a second
// one and put only the top back: the classic ABA. The stalled pop must not
// install the stale link, or the second slot, still in use, would be handed
// out again.
func TestSlabFreeListABA(t *testing.T) {
	s := newSlab[*rec](t, 3)
	ran := false
	var a, b int
	between := func() {
		if ran {
			return
		}
		ran = true
		var ok1, ok2 bool
		a, ok1 = s.pop(nil) // the slot the stalled pop is looking at
		b, ok2 = s.pop(nil) // its stale next
		if !ok1 || !ok2 {
			t.Fatal("pop on a fresh slab failed")
		}
		s.push(a) // the same top slot is back, now linked past b
	}
	got, ok := s.pop(between)
	if !ok || got != a {
		t.Fatalf("stalled pop = %d, %v; want slot %d after a retry", got, ok, a)
	}
	seen := map[int]bool{a: true, b: true}
	for {
		i, ok := s.pop(nil)
		if !ok {
			break
		}
		if seen[i] {
			t.Fatalf("slot %d handed out twice: the free list took a stale link", i)
		}
		seen[i] = true
	}
	if len(seen) != 3 {
		t.Fatalf("%d distinct slots popped; want 3", len(seen))
	}
}
