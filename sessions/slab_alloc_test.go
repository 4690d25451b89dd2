//go:build !race

package sessions

import "testing"

func TestSlabAlloc(t *testing.T) {
	s := newSlab[*rec](t, 16)
	r := &rec{}
	var c UseCounter
	var id ID
	if n := testing.AllocsPerRun(1000, func() {
		var ok bool
		if id, ok = s.Alloc(r); !ok {
			t.Fatal("Alloc() = false")
		}
		if v, ok := s.Get(id); !ok || v != r {
			t.Fatal("Get() lost the value")
		}
		v, _ := s.Get(id)
		v.Touch(&c)
		if !s.Free(id) {
			t.Fatal("Free() = false")
		}
	}); n != 0 {
		t.Errorf("Alloc+Get+Free: %v allocs/op; want 0", n)
	}
	for range 8 {
		s.Alloc(&rec{})
	}
	found := 0
	if n := testing.AllocsPerRun(100, func() {
		s.Range(func(ID, *rec) bool { found++; return true })
		if _, ok := s.Oldest(nil); !ok {
			t.Fatal("Oldest() found nothing")
		}
		if _, ok := s.Oldest(func(id ID, _ *rec) bool { return id.Slot() > 2 }); !ok {
			t.Fatal("Oldest(eligible) found nothing")
		}
	}); n != 0 {
		t.Errorf("Range+Oldest: %v allocs/op; want 0", n)
	}
	if found == 0 {
		t.Fatal("Range visited nothing")
	}
}
