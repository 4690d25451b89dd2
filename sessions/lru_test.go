package sessions

import (
	"sync"
	"testing"
)

func TestUseCounter(t *testing.T) {
	var c UseCounter
	if c.Load() != 0 {
		t.Fatalf("zero UseCounter Load() = %d; want 0", c.Load())
	}
	var wg sync.WaitGroup
	const workers, per = 4, 1000
	got := make([][]uint64, workers)
	for w := range workers {
		wg.Go(func() {
			prev := uint64(0)
			for range per {
				n := c.Next()
				if n <= prev {
					t.Errorf("Next() = %d after %d; want increasing", n, prev)
					return
				}
				prev = n
				got[w] = append(got[w], n)
			}
		})
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for _, g := range got {
		for _, n := range g {
			if n == 0 || seen[n] {
				t.Fatalf("stamp %d zero or handed out twice", n)
			}
			seen[n] = true
		}
	}
	if c.Load() != workers*per {
		t.Fatalf("Load() = %d; want %d", c.Load(), workers*per)
	}
}

func TestOldest(t *testing.T) {
	var c UseCounter
	s := newSlab[*rec](t, 8)
	if id, ok := s.Oldest(nil); ok || id != 0 {
		t.Fatalf("Oldest on an empty slab = %v, true; want 0, false", id)
	}
	ids := make([]ID, 5)
	recs := make([]*rec, 5)
	for i := range ids {
		recs[i] = &rec{owner: i}
		ids[i], _ = s.Alloc(recs[i])
		recs[i].Touch(&c)
	}
	// Use order now: 0 1 2 3 4. Touch 0 and 2 again: 1 3 4 0 2.
	recs[0].Touch(&c)
	recs[2].Touch(&c)
	all := func(ID, *rec) bool { return true }
	not := func(bad ...int) func(ID, *rec) bool {
		return func(_ ID, v *rec) bool {
			for _, b := range bad {
				if v.owner == b {
					return false
				}
			}
			return true
		}
	}
	cases := []struct {
		name     string
		eligible func(ID, *rec) bool
		want     int // owner, -1 for none
	}{
		{"nil means all", nil, 1},
		{"all", all, 1},
		{"skip 1", not(1), 3},
		{"skip 1 3 4", not(1, 3, 4), 0},
		{"only 2", not(0, 1, 3, 4), 2},
		{"none", func(ID, *rec) bool { return false }, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, ok := s.Oldest(c.eligible)
			if c.want < 0 {
				if ok {
					t.Fatalf("Oldest() = %v, true; want false", id)
				}
				return
			}
			if !ok || id != ids[c.want] {
				t.Fatalf("Oldest() = %v, %v; want %v (owner %d), true", id, ok, ids[c.want], c.want)
			}
		})
	}
	// A freed session is never chosen, even though its stamp is smallest.
	s.Free(ids[1])
	if id, _ := s.Oldest(nil); id != ids[3] {
		t.Fatalf("Oldest() after freeing the oldest = %v; want %v", id, ids[3])
	}
	// Ties go to the lower slot; never-touched sessions (stamp 0) first.
	fresh := &rec{owner: 9}
	fid, _ := s.Alloc(fresh)
	if id, _ := s.Oldest(nil); id != fid {
		t.Fatalf("Oldest() = %v; want the never-touched %v", id, fid)
	}
}

func TestOldestBy(t *testing.T) {
	s := newSlab[int](t, 4) // int does not implement Stamped
	a, _ := s.Alloc(30)
	b, _ := s.Alloc(10)
	c, _ := s.Alloc(20)
	if id, ok := s.OldestBy(func(v int) uint64 { return uint64(v) }, nil); !ok || id != b {
		t.Fatalf("OldestBy(value) = %v, %v; want %v", id, ok, b)
	}
	if id, ok := s.OldestBy(func(v int) uint64 { return uint64(v) }, func(id ID, _ int) bool { return id != b }); !ok || id != c {
		t.Fatalf("OldestBy(value, not b) = %v, %v; want %v", id, ok, c)
	}
	// Without Stamped every value counts as 0 and the lowest slot wins.
	if id, ok := s.Oldest(nil); !ok || id != a {
		t.Fatalf("Oldest() over non-Stamped values = %v, %v; want %v", id, ok, a)
	}
}
