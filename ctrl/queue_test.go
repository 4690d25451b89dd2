package ctrl

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestNewQueueCap(t *testing.T) {
	cases := []struct{ in, want int }{
		{-5, DefaultQueueCap},
		{0, DefaultQueueCap},
		{1, MinQueueCap},
		{2, 2},
		{3, 4},
		{1000, 1024},
		{1024, 1024},
		{1025, 2048},
		{MaxQueueCap - 1, MaxQueueCap},
		{MaxQueueCap, MaxQueueCap},
		{MaxQueueCap + 1, MaxQueueCap},
		{1 << 40, MaxQueueCap},
	}
	for _, c := range cases {
		if got := queueCap(c.in); got != c.want {
			t.Errorf("queueCap(%d) = %d; want %d", c.in, got, c.want)
		}
		if c.want <= DefaultQueueCap {
			if got := NewQueue(c.in).Cap(); got != c.want {
				t.Errorf("NewQueue(%d).Cap() = %d; want %d", c.in, got, c.want)
			}
		}
	}
}

// drainAll drains q completely, returning the items' IDs in order.
func drainAll(q *Queue, max int) (ids []uint64, calls int) {
	for {
		calls++
		_, more := q.Drain(max, func(it Item) { ids = append(ids, it.ID) })
		if !more {
			return ids, calls
		}
	}
}

func TestQueueFIFO(t *testing.T) {
	for _, max := range []int{0, 1, 3, 8, 100} {
		t.Run("max="+itoa(max), func(t *testing.T) {
			q := NewQueue(8)
			next := uint64(0)
			want := uint64(0)
			// Several laps round the ring, with the queue at various
			// fill levels.
			for round := range 50 {
				for range round % 9 {
					if _, err := q.Push(Item{ID: next}); err != nil {
						t.Fatalf("Push(%d) = %v; want nil (round %d)", next, err, round)
					}
					next++
				}
				if got := q.Len(); got != int(next-want) {
					t.Fatalf("Len() = %d; want %d", got, next-want)
				}
				ids, _ := drainAll(q, max)
				for _, id := range ids {
					if id != want {
						t.Fatalf("Drain gave item %d; want %d", id, want)
					}
					want++
				}
				if want != next || q.Len() != 0 {
					t.Fatalf("after draining: got up to %d of %d, Len %d", want, next, q.Len())
				}
			}
		})
	}
}

func TestQueueFull(t *testing.T) {
	q := NewQueue(4)
	for i := range 4 {
		if _, err := q.Push(Item{ID: uint64(i)}); err != nil {
			t.Fatalf("Push(%d) = %v; want nil", i, err)
		}
	}
	for range 3 {
		if ring, err := q.Push(Item{ID: 99}); !errors.Is(err, ErrFull) || ring {
			t.Fatalf("Push on a full queue = %v, %v; want false, ErrFull", ring, err)
		}
	}
	if q.Len() != 4 {
		t.Fatalf("Len() = %d; want 4", q.Len())
	}
	n, more := q.Drain(1, func(it Item) {
		if it.ID != 0 {
			t.Fatalf("Drain gave %d; want 0", it.ID)
		}
	})
	if n != 1 || !more {
		t.Fatalf("Drain(1) = %d, %v; want 1, true", n, more)
	}
	if _, err := q.Push(Item{ID: 4}); err != nil {
		t.Fatalf("Push after one Drain = %v; want nil", err)
	}
	ids, _ := drainAll(q, 0)
	if len(ids) != 4 || ids[0] != 1 || ids[3] != 4 {
		t.Fatalf("drained %v; want [1 2 3 4]", ids)
	}
	if ErrFull.Error() != "ctrl: queue full" {
		t.Fatalf("ErrFull = %q", ErrFull)
	}
}

// TestQueueRingProtocol walks the doorbell protocol step by step on one
// goroutine.
func TestQueueRingProtocol(t *testing.T) {
	q := NewQueue(16)
	nop := func(Item) {}
	push := func(want bool) {
		t.Helper()
		ring, err := q.Push(Item{})
		if err != nil || ring != want {
			t.Fatalf("Push() = %v, %v; want %v, nil", ring, err, want)
		}
	}
	drain := func(max, wantN int, wantMore bool) {
		t.Helper()
		if n, more := q.Drain(max, nop); n != wantN || more != wantMore {
			t.Fatalf("Drain(%d) = %d, %v; want %d, %v", max, n, more, wantN, wantMore)
		}
	}
	push(true) // a new queue is armed
	push(false)
	push(false)
	drain(0, 3, false)
	drain(0, 0, false) // an empty Drain keeps it armed
	push(true)
	push(false)
	push(false)
	drain(2, 2, true) // stopped at max: still disarmed
	push(false)
	drain(2, 2, false) // max reached exactly as the queue emptied: armed
	push(true)
	drain(1, 1, false)
	push(true)

	// The race Drain guards against, taken apart: the consumer finds the
	// queue empty, a producer publishes and sees the queue disarmed (so it
	// does not ring), then the consumer arms. rearm must report more.
	q = NewQueue(16)
	push(true)
	if _, ok := q.pop(); !ok {
		t.Fatal("pop() found nothing")
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop() found a second item")
	}
	push(false) // disarmed, no bell
	if !q.rearm() {
		t.Fatal("rearm() = false with an unannounced item queued; want true (lost wake-up)")
	}
	push(false) // rearm took the arm back: no bell needed
	drain(0, 2, false)
	push(true)

	// A producer that has claimed the head cell but not yet published it
	// must ring after it publishes.
	q = NewQueue(16)
	push(true)
	drain(0, 1, false)
	pos := q.tail.Add(1) - 1 // claim, as Push would, and stall
	drain(0, 0, false)
	c := &q.cells[pos&q.mask]
	c.seq.Store(pos + 1)
	if !(q.armed.Load() && q.armed.Swap(false)) {
		t.Fatal("a producer publishing after the consumer armed would not ring")
	}
	drain(0, 1, false)

	// Disarm: an awake consumer silences the doorbell until its next
	// Drain, which arms it again.
	q = NewQueue(16)
	q.Disarm()
	push(false)
	push(false)
	drain(0, 2, false)
	push(true)
	q.Disarm() // already disarmed by that push: stays so
	push(false)
	drain(0, 2, false)
	drain(0, 0, false)
	q.Disarm()
	drain(0, 0, false) // an empty Drain after Disarm arms it
	push(true)
}

// TestQueueMultiProducer pushes from 8 goroutines and checks that every item
// arrives exactly once and each producer's items arrive in order.
func TestQueueMultiProducer(t *testing.T) {
	const producers = 8
	perProducer := 200000
	if testing.Short() {
		perProducer = 20000
	}
	q := NewQueue(1024)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := 0; i < perProducer; {
				_, err := q.Push(Item{ID: uint64(p)<<32 | uint64(i), Kind: uint8(p)})
				if err != nil {
					runtime.Gosched() // full: let the consumer run
					continue
				}
				i++
			}
		})
	}
	next := make([]int, producers)
	total := 0
	var bad error
	for total < producers*perProducer {
		n, _ := q.Drain(256, func(it Item) {
			p, i := int(it.ID>>32), int(uint32(it.ID))
			if bad == nil && (p >= producers || int(it.Kind) != p || i != next[p]) {
				bad = errors.New("out of order")
				t.Errorf("item from producer %d seq %d (kind %d); want seq %d", p, i, it.Kind, next[min(p, producers-1)])
			}
			if p < producers {
				next[p]++
			}
		})
		total += n
		if n == 0 {
			runtime.Gosched()
		}
	}
	wg.Wait()
	if n, _ := q.Drain(0, func(Item) {}); n != 0 {
		t.Fatalf("%d items left after all %d were drained", n, total)
	}
	for p, n := range next {
		if n != perProducer {
			t.Errorf("producer %d: %d items; want %d", p, n, perProducer)
		}
	}
}

// TestQueueNoLostWakeup runs a consumer that sleeps whenever Drain says
// more == false and is woken only by producers whose Push said ring == true,
// the way the server's loop is woken by doorbell datagrams. Bells coalesce
// (a bell already pending absorbs the next, like datagrams the loop reads in
// one go). A lost wake-up leaves the consumer asleep with items queued; the
// watchdog turns that into a failure instead of a hang.
func TestQueueNoLostWakeup(t *testing.T) {
	const producers = 4
	perProducer := 50000
	if testing.Short() {
		perProducer = 5000
	}
	for _, max := range []int{0, 1, 16} {
		t.Run("max="+itoa(max), func(t *testing.T) {
			q := NewQueue(256)
			bell := make(chan struct{}, 1)
			var wg sync.WaitGroup
			var ringCount [producers]int
			for p := range producers {
				wg.Go(func() {
					for i := 0; i < perProducer; {
						ring, err := q.Push(Item{ID: uint64(i)})
						if err != nil {
							runtime.Gosched()
							continue
						}
						i++
						if ring {
							ringCount[p]++
							select {
							case bell <- struct{}{}:
							default: // a bell is pending already
							}
						}
					}
				})
			}
			total, sleeps := 0, 0
			watchdog := time.NewTimer(60 * time.Second)
			defer watchdog.Stop()
			for total < producers*perProducer {
				n, more := q.Drain(max, func(Item) {})
				total += n
				if more || total == producers*perProducer {
					continue
				}
				sleeps++
				select {
				case <-bell:
				case <-watchdog.C:
					t.Fatalf("consumer asleep with %d of %d items drained, Len %d: lost wake-up", total, producers*perProducer, q.Len())
				}
			}
			wg.Wait()
			sum := 0
			for _, c := range ringCount {
				sum += c
			}
			if sum == 0 || sum > total {
				t.Fatalf("%d rings for %d items; want 1..%d", sum, total, total)
			}
			// Quiescent: the queue must be empty and, once drained, armed.
			if n, more := q.Drain(0, func(Item) {}); n != 0 || more {
				t.Fatalf("final Drain = %d, %v; want 0, false", n, more)
			}
			if ring, _ := q.Push(Item{}); !ring {
				t.Fatal("Push after the final Drain did not ring")
			}
			t.Logf("%d items, %d rings, %d sleeps", total, sum, sleeps)
		})
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// BenchmarkQueue measures Push from 1, 2 and 4 producer goroutines into one
// queue drained by the benchmark goroutine. ns/op is per item; items/s is
// its inverse.
func BenchmarkQueue(b *testing.B) {
	for _, producers := range []int{1, 2, 4} {
		b.Run("producers="+itoa(producers), func(b *testing.B) {
			q := NewQueue(DefaultQueueCap)
			fn := func() {}
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N / producers
			for p := range producers {
				n := per
				if p == 0 {
					n += b.N % producers
				}
				wg.Go(func() {
					it := Item{Arg: fn, Kind: uint8(p)}
					for i := 0; i < n; {
						if _, err := q.Push(it); err != nil {
							runtime.Gosched()
							continue
						}
						i++
					}
				})
			}
			got := 0
			for got < b.N {
				n, _ := q.Drain(0, func(it Item) { it.Arg.(func())() })
				got += n
				if n == 0 {
					runtime.Gosched()
				}
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// TestQueueDrainReentrant has fn push to the queue it is drained from: a
// Drain(0) takes only what was there when it started and reports more.
func TestQueueDrainReentrant(t *testing.T) {
	q := NewQueue(16)
	for i := range 3 {
		q.Push(Item{ID: uint64(i)})
	}
	var got []uint64
	requeue := func(it Item) {
		got = append(got, it.ID)
		if ring, err := q.Push(Item{ID: it.ID + 10}); err != nil || ring {
			t.Fatalf("Push from fn = %v, %v; want false, nil (consumer busy)", ring, err)
		}
	}
	if n, more := q.Drain(0, requeue); n != 3 || !more {
		t.Fatalf("Drain(0) with fn re-queueing = %d, %v; want 3, true", n, more)
	}
	if n, more := q.Drain(0, func(it Item) { got = append(got, it.ID) }); n != 3 || more {
		t.Fatalf("second Drain(0) = %d, %v; want 3, false", n, more)
	}
	want := []uint64{0, 1, 2, 10, 11, 12}
	if len(got) != len(want) {
		t.Fatalf("drained %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("drained %v; want %v", got, want)
		}
	}
}

// TestQueueDrainPanic checks the documented recovery: a panicking fn loses
// only its own item, and the next Drain finishes the rest and re-arms.
func TestQueueDrainPanic(t *testing.T) {
	q := NewQueue(16)
	for i := range 4 {
		q.Push(Item{ID: uint64(i)})
	}
	var got []uint64
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("fn's panic did not propagate")
			}
		}()
		q.Drain(0, func(it Item) {
			if it.ID == 1 {
				panic("boom")
			}
			got = append(got, it.ID)
		})
	}()
	if ring, _ := q.Push(Item{ID: 4}); ring {
		t.Fatal("Push after a panicking Drain rang; the queue should stay disarmed")
	}
	if n, more := q.Drain(0, func(it Item) { got = append(got, it.ID) }); n != 3 || more {
		t.Fatalf("Drain after the panic = %d, %v; want 3, false", n, more)
	}
	if len(got) != 4 || got[0] != 0 || got[1] != 2 || got[3] != 4 {
		t.Fatalf("drained %v; want [0 2 3 4]", got)
	}
	if ring, _ := q.Push(Item{}); !ring {
		t.Fatal("Push after recovery did not ring")
	}
}
