package engine

import "time"

// TimerLink is the intrusive part of a connection that a Wheel threads its
// lists through: a backend's connection type embeds one and returns it from
// its TimerLink method. Arming and cancelling a timer then allocates
// nothing, and an idle connection with no timer pays these 24 bytes only.
type TimerLink[T any] struct {
	prev, next T
	// expiry also says which list the connection is on: 0 none, onFiring
	// the wheel's firing list, else the slot of that tick.
	expiry uint64
}

// Timed is a backend's connection pointer type: comparable, with its link.
type Timed[T any] interface {
	comparable
	TimerLink() *TimerLink[T]
}

// timerList is an intrusive doubly linked list of T.
type timerList[T Timed[T]] struct {
	head, tail T
}

func (l *timerList[T]) push(w T) {
	var zero T
	lk := w.TimerLink()
	lk.prev, lk.next = l.tail, zero
	if l.tail != zero {
		l.tail.TimerLink().next = w
	} else {
		l.head = w
	}
	l.tail = w
}

func (l *timerList[T]) remove(w T) {
	var zero T
	lk := w.TimerLink()
	if lk.prev != zero {
		lk.prev.TimerLink().next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != zero {
		lk.next.TimerLink().prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	lk.prev, lk.next = zero, zero
}

// Wheel is a hashed timing wheel, one per loop, used only on that loop.
// Time is counted in ticks of the resolution since start; a timer due at
// tick t sits in slot t&mask and fires when the sweep reaches tick t (later
// rounds of the same slot wait). Set and Cancel are O(1) and allocate
// nothing; Advance costs one slot visit per elapsed tick plus one step per
// timer in the visited slots. A connection has at most one timer.
type Wheel[T Timed[T]] struct {
	res    time.Duration
	start  time.Time
	now    uint64 // last tick swept
	mask   uint64
	slots  []timerList[T]
	firing timerList[T] // timers due in the sweep now running
	n      int          // timers armed (in slots or firing)
}

// Init sizes the wheel: slots must be a power of two (Config.WithDefaults
// rounds TimerSlots up to one).
func (wh *Wheel[T]) Init(res time.Duration, slots int, start time.Time) {
	wh.res, wh.start = res, start
	wh.slots = make([]timerList[T], slots)
	wh.mask = uint64(slots - 1)
}

// Len reports how many timers are armed.
func (wh *Wheel[T]) Len() int { return wh.n }

// tickOf returns the tick t is in.
func (wh *Wheel[T]) tickOf(t time.Time) uint64 {
	d := t.Sub(wh.start)
	if d < 0 {
		return 0
	}
	return uint64(d / wh.res)
}

// Set arms w to fire d after now, replacing any pending timer of w. The due
// tick is the first one that starts at or after now+d, so the timer never
// fires early and at most about one resolution step late (plus the delay
// of the tick's delivery).
func (wh *Wheel[T]) Set(w T, d time.Duration, now time.Time) {
	wh.Cancel(w)
	due := wh.tickOf(now.Add(d)) + 1
	if due <= wh.now {
		due = wh.now + 1
	}
	w.TimerLink().expiry = due
	wh.slots[due&wh.mask].push(w)
	wh.n++
}

// onFiring is the expiry of a connection on the wheel's firing list.
const onFiring = ^uint64(0)

// listOf returns the list w is on, nil if none.
func (wh *Wheel[T]) listOf(w T) *timerList[T] {
	switch e := w.TimerLink().expiry; e {
	case 0:
		return nil
	case onFiring:
		return &wh.firing
	default:
		return &wh.slots[e&wh.mask]
	}
}

// Cancel disarms w's timer, if any. Idempotent.
func (wh *Wheel[T]) Cancel(w T) {
	if l := wh.listOf(w); l != nil {
		l.remove(w)
		w.TimerLink().expiry = 0
		wh.n--
	}
}

// Advance sweeps every tick up to now's and calls fire for each due timer.
// Due timers move to the firing list first, so fire may set or cancel any
// timer (its own included) without disturbing the sweep.
func (wh *Wheel[T]) Advance(now time.Time, fire func(T)) {
	target := wh.tickOf(now)
	if target <= wh.now {
		return
	}
	if wh.n > 0 {
		if target-wh.now > uint64(len(wh.slots)) {
			// Slept through a whole revolution: one pass over every
			// slot collects everything due by target.
			for i := range wh.slots {
				wh.collect(&wh.slots[i], target)
			}
		} else {
			for t := wh.now + 1; t <= target; t++ {
				wh.collect(&wh.slots[t&wh.mask], target)
			}
		}
	}
	wh.now = target
	var zero T
	for wh.firing.head != zero {
		w := wh.firing.head
		wh.firing.remove(w)
		w.TimerLink().expiry = 0
		wh.n--
		fire(w)
	}
}

// collect moves the timers of slot that are due by target to firing.
func (wh *Wheel[T]) collect(slot *timerList[T], target uint64) {
	var zero T
	for w := slot.head; w != zero; {
		lk := w.TimerLink()
		next := lk.next
		if lk.expiry <= target {
			slot.remove(w)
			lk.expiry = onFiring
			wh.firing.push(w)
		}
		w = next
	}
}
