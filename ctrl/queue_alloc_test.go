//go:build !race

package ctrl

import "testing"

type allocArg struct{ n int }

func TestQueuePushDrainAlloc(t *testing.T) {
	q := NewQueue(2048) // room for AllocsPerRun's 1001 pushes
	arg := &allocArg{}
	it := Item{Arg: arg, ID: 7, Kind: 1}
	run := func(it Item) { it.Arg.(*allocArg).n++ }
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := q.Push(it); err != nil {
			t.Fatalf("Push() = %v", err)
		}
	}); n != 0 {
		t.Errorf("Push: %v allocs/op; want 0", n)
	}
	q.Drain(0, run)
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := q.Push(it); err != nil {
			t.Fatalf("Push() = %v", err)
		}
		if n, _ := q.Drain(0, run); n != 1 {
			t.Fatalf("Drain() = %d; want 1", n)
		}
	}); n != 0 {
		t.Errorf("Push+Drain: %v allocs/op; want 0", n)
	}
	if arg.n == 0 {
		t.Fatal("Drain never ran the items")
	}
}
