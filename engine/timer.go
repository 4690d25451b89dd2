package engine

import "time"

// timerList is an intrusive doubly linked list of conns, threaded through
// their tprev/tnext fields. A conn is on at most one list, named by its
// texpiry (see conn).
type timerList struct {
	head, tail *conn
}

func (l *timerList) push(w *conn) {
	w.tprev, w.tnext = l.tail, nil
	if l.tail != nil {
		l.tail.tnext = w
	} else {
		l.head = w
	}
	l.tail = w
}

func (l *timerList) remove(w *conn) {
	if w.tprev != nil {
		w.tprev.tnext = w.tnext
	} else {
		l.head = w.tnext
	}
	if w.tnext != nil {
		w.tnext.tprev = w.tprev
	} else {
		l.tail = w.tprev
	}
	w.tprev, w.tnext = nil, nil
}

// wheel is a hashed timing wheel, one per loop. Time is counted in ticks of
// res since start; a timer due at tick t sits in slot t&mask and fires when
// the wheel's sweep reaches tick t (later rounds of the same slot wait).
// Set and cancel are O(1) and allocate nothing; advancing costs one slot
// visit per elapsed tick plus one step per timer in the visited slots.
type wheel struct {
	res    time.Duration
	start  time.Time
	now    uint64 // last tick swept
	mask   uint64
	slots  []timerList
	firing timerList // timers due in the sweep now running
	n      int       // timers armed (in slots or firing)
}

func (wh *wheel) init(res time.Duration, slots int, start time.Time) {
	wh.res, wh.start = res, start
	wh.slots = make([]timerList, slots)
	wh.mask = uint64(slots - 1)
}

// tickOf returns the tick t is in.
func (wh *wheel) tickOf(t time.Time) uint64 {
	d := t.Sub(wh.start)
	if d < 0 {
		return 0
	}
	return uint64(d / wh.res)
}

// set arms w to fire d after now, replacing any pending timer of w. The due
// tick is the first one that starts at or after now+d, so the timer never
// fires early and at most about one resolution step late (plus tick delivery).
func (wh *wheel) set(w *conn, d time.Duration, now time.Time) {
	wh.cancel(w)
	due := wh.tickOf(now.Add(d)) + 1
	if due <= wh.now {
		due = wh.now + 1
	}
	w.texpiry = due
	wh.slots[due&wh.mask].push(w)
	wh.n++
}

// onFiring is the texpiry of a conn on the wheel's firing list.
const onFiring = ^uint64(0)

// listOf returns the list w is on, nil if none.
func (wh *wheel) listOf(w *conn) *timerList {
	switch w.texpiry {
	case 0:
		return nil
	case onFiring:
		return &wh.firing
	}
	return &wh.slots[w.texpiry&wh.mask]
}

func (wh *wheel) cancel(w *conn) {
	if l := wh.listOf(w); l != nil {
		l.remove(w)
		w.texpiry = 0
		wh.n--
	}
}

// advance sweeps every tick up to now's and calls fire for each due timer.
// Due timers move to the firing list first, so fire may set or cancel any
// timer (its own included) without disturbing the sweep.
func (wh *wheel) advance(now time.Time, fire func(*conn)) {
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
	for wh.firing.head != nil {
		w := wh.firing.head
		wh.firing.remove(w)
		w.texpiry = 0
		wh.n--
		fire(w)
	}
}

// collect moves the timers of slot that are due by target to firing.
func (wh *wheel) collect(slot *timerList, target uint64) {
	for w := slot.head; w != nil; {
		next := w.tnext
		if w.texpiry <= target {
			slot.remove(w)
			w.texpiry = onFiring
			wh.firing.push(w)
		}
		w = next
	}
}
