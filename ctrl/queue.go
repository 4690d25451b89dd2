package ctrl

import (
	"errors"
	"math/bits"
	"sync/atomic"
)

// ErrFull is returned by Queue.Push when the queue holds Cap items; the item
// was not queued.
var ErrFull = errors.New("ctrl: queue full")

// Queue capacity limits.
const (
	DefaultQueueCap = 16384   // capacity NewQueue uses when asked for 0 or less
	MinQueueCap     = 2       // smallest capacity; smaller requests are raised to it
	MaxQueueCap     = 1 << 20 // largest capacity (48 MiB of ring); larger requests are lowered to it
)

// Item is one unit of work for an event loop: the loop interprets Kind, ID
// and Arg itself; Queue only carries the value. Pushing a pre-built Item
// whose Arg is a pointer (or nil) allocates nothing.
type Item struct {
	Arg  any
	ID   uint64 // the session the work is for, if any
	Kind uint8  // the server's own tag for the item
}

// cell is one slot of the ring. seq says whose turn the cell is (Vyukov):
//
//	seq == pos       free, waiting for the producer that claims position pos
//	seq == pos+1     holds the item pushed at pos, waiting for the consumer
//	seq == pos+cap   consumed, free for the producer of the next lap
//
// seq is written with atomic stores after item is written (producer) or
// cleared (consumer), so whoever loads the new seq also sees item in the
// state it was left in: Go's atomics are sequentially consistent, and a load
// that observes a store is synchronized after it.
type cell struct {
	seq  atomic.Uint64
	item Item
}

// pad keeps fields written by different parties on separate cache lines, so a
// producer's CAS on the tail does not slow the consumer's stores to the head.
type pad [64]byte

// Queue is a bounded lock-free multi-producer single-consumer queue of Items
// for one event loop, with a doorbell protocol that tells producers when the
// consumer is idle and needs to be woken.
//
// Push may be called from any goroutine. Drain must be called from one
// goroutine at a time (the loop); Len and Cap from anywhere.
type Queue struct {
	_     pad
	tail  atomic.Uint64 // next position a producer claims (CAS by producers)
	_     pad
	head  atomic.Uint64 // next position the consumer pops (stored by the consumer only)
	_     pad
	armed atomic.Bool // the consumer is (about to go) idle and waits for a bell
	_     pad
	mask  uint64
	cells []cell
}

// NewQueue returns an empty, armed queue holding up to capacity items.
// capacity is rounded up to a power of two; 0 or less means DefaultQueueCap,
// and the result is clamped to MinQueueCap..MaxQueueCap. The ring is
// allocated up front (48 bytes per item slot on 64-bit platforms).
func NewQueue(capacity int) *Queue {
	capacity = queueCap(capacity)
	q := &Queue{mask: uint64(capacity - 1), cells: make([]cell, capacity)}
	for i := range q.cells {
		q.cells[i].seq.Store(uint64(i))
	}
	// A new queue has an idle consumer: the first Push must ring.
	q.armed.Store(true)
	return q
}

// queueCap returns the capacity NewQueue uses when asked for capacity.
func queueCap(capacity int) int {
	switch {
	case capacity <= 0:
		capacity = DefaultQueueCap
	case capacity < MinQueueCap:
		capacity = MinQueueCap
	case capacity > MaxQueueCap:
		capacity = MaxQueueCap
	}
	return 1 << bits.Len(uint(capacity-1)) // round up to a power of two
}

// Cap returns the most items the queue holds.
func (q *Queue) Cap() int { return len(q.cells) }

// Len returns the number of items pushed and not yet drained. Items whose
// producer has claimed a slot but not finished writing it are counted, so
// Len can briefly exceed what Drain would find right now.
func (q *Queue) Len() int {
	// Load head first: it only grows, and tail >= head at any moment, so
	// reading tail later can only make the difference larger, never negative.
	h := q.head.Load()
	t := q.tail.Load()
	n := int(t - h)
	if n > len(q.cells) {
		n = len(q.cells)
	}
	return n
}

// Push appends it to the queue. When the queue is full it returns ErrFull and
// it is dropped. Otherwise ring reports whether the caller must wake the
// consumer (send a doorbell): it is true for exactly one Push after each time
// the consumer armed the queue in Drain, so a burst of pushes rings once.
// Push never blocks; under contention it retries its CAS, and some producer
// always makes progress.
func (q *Queue) Push(it Item) (ring bool, err error) {
	pos := q.tail.Load()
	var c *cell
claim:
	for {
		c = &q.cells[pos&q.mask]
		seq := c.seq.Load()
		switch dif := int64(seq - pos); {
		case dif == 0:
			// The cell is free for position pos: claim it.
			if q.tail.CompareAndSwap(pos, pos+1) {
				break claim
			}
			pos = q.tail.Load()
		case dif < 0:
			// The cell still holds the item from the previous lap:
			// the ring is full.
			return false, ErrFull
		default:
			// Another producer claimed pos first; catch up.
			pos = q.tail.Load()
		}
	}
	c.item = it
	c.seq.Store(pos + 1) // publish: the consumer may take the item now
	// Disarm after publishing. Ordering argument (all atomics are
	// sequentially consistent): the consumer arms and then looks at the
	// head cell. If its look comes before our publish above, our Load and
	// Swap below come after its arm and see true (or another producer saw it
	// first and rings); if its look comes after our publish, it finds an item
	// and reports more. Either way the item is not left behind unnoticed.
	// The Load keeps producers from writing the shared flag while the
	// consumer is busy, which is most of the time under load.
	return q.armed.Load() && q.armed.Swap(false), nil
}

// pop removes the item at the head, if the producer that claimed it has
// finished writing it. Consumer only.
func (q *Queue) pop() (Item, bool) {
	pos := q.head.Load()
	c := &q.cells[pos&q.mask]
	if c.seq.Load() != pos+1 {
		// Empty, or the head producer has claimed the cell and not yet
		// published it; that producer disarms (and may ring) after
		// publishing, so the consumer will hear of it.
		return Item{}, false
	}
	it := c.item
	c.item = Item{}               // drop references so the GC can free them
	c.seq.Store(pos + q.mask + 1) // free the cell for the next lap
	q.head.Store(pos + 1)
	return it, true
}

// ready reports whether the head cell holds a published item. Consumer only.
func (q *Queue) ready() bool {
	pos := q.head.Load()
	return q.cells[pos&q.mask].seq.Load() == pos+1
}

// Disarm tells producers not to ring until the next Drain re-arms the
// doorbell: the consumer is awake and drains before it waits again, so a
// doorbell would only cost both sides a wake-up for work about to be done.
// A consumer that Disarms must Drain afterwards, until more is false,
// before it waits for a doorbell. Consumer only.
func (q *Queue) Disarm() {
	if q.armed.Load() {
		q.armed.Store(false)
	}
}

// rearm arms the doorbell after the consumer found the queue empty and
// reports whether the consumer must drain again because an item was
// published meanwhile. Consumer only.
func (q *Queue) rearm() (more bool) {
	q.armed.Store(true)
	if !q.ready() {
		// Empty after arming: any later publish will see armed == true
		// (see Push) and ring.
		return false
	}
	// An item slipped in between our last pop and the arm; its producer
	// may have seen armed == false and not rung. Take the arm back, so
	// nobody rings for work we are about to do, and drain again. If the CAS
	// fails a producer has disarmed and will ring; that bell is spurious
	// but harmless.
	q.armed.CompareAndSwap(true, false)
	return true
}

// Drain pops up to max items (max <= 0: the Len items there at the call)
// and calls fn for each in order: the order in which their Pushes claimed a
// slot, which is FIFO per producer and one total order overall. Consumer
// only.
//
// It never loses a wake-up: when it returns more == false the queue was
// found empty after arming, so the next Push returns ring == true; when it
// returns more == true (max items were drained and there may be others, or an
// item arrived while arming) the caller must call Drain again without waiting
// for a doorbell.
//
// fn runs on the calling goroutine and may Push to this queue. If fn panics,
// the panic propagates after the item was removed, the queue stays disarmed,
// and the caller must call Drain again once it has recovered.
func (q *Queue) Drain(max int, fn func(Item)) (n int, more bool) {
	if max <= 0 {
		// What is there now. Items fn or other producers push meanwhile
		// are left for the next call (more == true), so a fn that keeps
		// re-queueing cannot pin the loop here.
		max = q.Len()
	}
	for n < max {
		it, ok := q.pop()
		if !ok {
			return n, q.rearm()
		}
		n++
		fn(it)
	}
	if !q.ready() {
		return n, q.rearm()
	}
	// Stopped at max with more to do. Leave the doorbell disarmed: the
	// caller comes back without one. If it happens to be armed (a producer
	// published but has not yet disarmed), that producer rings and the extra
	// wake finds the queue drained.
	return n, true
}
