package engine

import (
	"math/rand/v2"
	"testing"
	"time"
)

// tconn is the wheel tests' connection: just the link.
type tconn struct{ tl TimerLink[*tconn] }

func (c *tconn) TimerLink() *TimerLink[*tconn] { return &c.tl }

type wheel = Wheel[*tconn]
type conn = tconn

// runWheel runs wh up to end in steps of step and returns, per conn, the
// virtual times at which it fired.
func runWheel(wh *wheel, start time.Time, end, step time.Duration, fire func(w *conn, now time.Time)) {
	for now := start.Add(step); !now.After(start.Add(end)); now = now.Add(step) {
		wh.Advance(now, func(w *conn) { fire(w, now) })
	}
}

func TestWheelFiresOnceNeverEarly(t *testing.T) {
	const res = 10 * time.Millisecond
	cases := []struct {
		name  string
		slots int
		d     time.Duration
	}{
		{"sub-resolution", 8, time.Millisecond},
		{"one step", 8, res},
		{"between steps", 8, 25 * time.Millisecond},
		{"one revolution", 8, 8 * res},
		{"several revolutions", 8, 37 * res},
		{"long", 64, 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			var wh wheel
			wh.Init(res, tc.slots, start)
			w := &conn{}
			setAt := start.Add(3 * time.Millisecond)
			wh.Advance(setAt, nil)
			wh.Set(w, tc.d, setAt)
			var fired []time.Time
			runWheel(&wh, start, tc.d+time.Second, time.Millisecond, func(_ *conn, now time.Time) { fired = append(fired, now) })
			if len(fired) != 1 {
				t.Fatalf("set(%v) fired %d times; want 1", tc.d, len(fired))
			}
			if late := fired[0].Sub(setAt); late < tc.d || late > tc.d+2*res {
				t.Errorf("set(%v) fired after %v; want in [%v, %v]", tc.d, late, tc.d, tc.d+2*res)
			}
			if wh.n != 0 {
				t.Errorf("wheel holds %d timers after firing; want 0", wh.n)
			}
		})
	}
}

func TestWheelResetAndCancel(t *testing.T) {
	const res = 10 * time.Millisecond
	start := time.Unix(1000, 0)
	var wh wheel
	wh.Init(res, 16, start)
	a, b, c := &conn{}, &conn{}, &conn{}
	wh.Set(a, time.Hour, start)
	wh.Set(a, 50*time.Millisecond, start) // reset replaces
	wh.Set(b, 50*time.Millisecond, start)
	wh.Cancel(b)
	wh.Cancel(b) // idempotent
	wh.Set(c, 30*time.Millisecond, start)
	got := map[*conn]int{}
	runWheel(&wh, start, 2*time.Second, 5*time.Millisecond, func(w *conn, _ time.Time) { got[w]++ })
	if got[a] != 1 || got[b] != 0 || got[c] != 1 {
		t.Errorf("fired a=%d b=%d c=%d; want 1 0 1", got[a], got[b], got[c])
	}
}

// TestWheelChangesWhileFiring sets and cancels timers from inside fire: a
// conn re-arms itself, and the first due conn cancels the second.
func TestWheelChangesWhileFiring(t *testing.T) {
	const res = 10 * time.Millisecond
	start := time.Unix(1000, 0)
	var wh wheel
	wh.Init(res, 4, start)
	a, b, r := &conn{}, &conn{}, &conn{}
	wh.Set(a, 20*time.Millisecond, start)
	wh.Set(b, 20*time.Millisecond, start)
	wh.Set(r, 20*time.Millisecond, start)
	got := map[*conn]int{}
	runWheel(&wh, start, time.Second, 10*time.Millisecond, func(w *conn, now time.Time) {
		got[w]++
		switch w {
		case a:
			wh.Cancel(b)
		case r:
			if got[r] < 3 {
				wh.Set(r, 15*time.Millisecond, now)
			}
		}
	})
	if got[a] != 1 || got[b] != 0 || got[r] != 3 {
		t.Errorf("fired a=%d b=%d r=%d; want 1 0 3", got[a], got[b], got[r])
	}
}

// TestWheelMany arms random timers, cancels some, sleeps through whole
// revolutions at random, and checks each survivor fired once, not early.
func TestWheelMany(t *testing.T) {
	const res = time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Unix(1000, 0)
	var wh wheel
	wh.Init(res, 32, start)
	const n = 5000
	conns := make([]conn, n)
	due := make([]time.Duration, n)
	for i := range conns {
		due[i] = time.Duration(1+rng.IntN(500)) * time.Millisecond / 4 * 3
		wh.Set(&conns[i], due[i], start)
	}
	cancelled := map[*conn]bool{}
	for i := 0; i < n; i += 7 {
		wh.Cancel(&conns[i])
		cancelled[&conns[i]] = true
	}
	fired := map[*conn]time.Duration{}
	now := start
	for now.Sub(start) < time.Second {
		now = now.Add(time.Duration(1+rng.IntN(80)) * res) // sometimes more than a revolution
		wh.Advance(now, func(w *conn) {
			if _, dup := fired[w]; dup {
				t.Fatalf("conn fired twice")
			}
			fired[w] = now.Sub(start)
		})
	}
	for i := range conns {
		w := &conns[i]
		at, ok := fired[w]
		switch {
		case cancelled[w] && ok:
			t.Errorf("cancelled timer %d fired", i)
		case !cancelled[w] && !ok:
			t.Errorf("timer %d (%v) never fired", i, due[i])
		case ok && at < due[i]:
			t.Errorf("timer %d (%v) fired early at %v", i, due[i], at)
		}
	}
	if wh.n != 0 {
		t.Errorf("wheel holds %d timers; want 0", wh.n)
	}
}

// TestTimerAlloc: Set and Cancel allocate nothing.
func TestTimerAlloc(t *testing.T) {
	var wh wheel
	start := time.Now()
	wh.Init(time.Millisecond, 64, start)
	w := &conn{}
	d := 10 * time.Millisecond
	if a := testing.AllocsPerRun(1000, func() {
		wh.Set(w, d, start)
		d += time.Millisecond
		wh.Cancel(w)
	}); a != 0 {
		t.Errorf("Set+Cancel: %v allocs/op; want 0", a)
	}
}
