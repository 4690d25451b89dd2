package engine

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"
)

// firedAt runs wh up to end in steps of step and returns, per conn, the
// virtual times at which it fired.
func runWheel(wh *wheel, start time.Time, end, step time.Duration, fire func(w *conn, now time.Time)) {
	for now := start.Add(step); !now.After(start.Add(end)); now = now.Add(step) {
		wh.advance(now, func(w *conn) { fire(w, now) })
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
			wh.init(res, tc.slots, start)
			w := &conn{}
			setAt := start.Add(3 * time.Millisecond)
			wh.advance(setAt, nil)
			wh.set(w, tc.d, setAt)
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
	wh.init(res, 16, start)
	a, b, c := &conn{}, &conn{}, &conn{}
	wh.set(a, time.Hour, start)
	wh.set(a, 50*time.Millisecond, start) // reset replaces
	wh.set(b, 50*time.Millisecond, start)
	wh.cancel(b)
	wh.cancel(b) // idempotent
	wh.set(c, 30*time.Millisecond, start)
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
	wh.init(res, 4, start)
	a, b, r := &conn{}, &conn{}, &conn{}
	wh.set(a, 20*time.Millisecond, start)
	wh.set(b, 20*time.Millisecond, start)
	wh.set(r, 20*time.Millisecond, start)
	got := map[*conn]int{}
	runWheel(&wh, start, time.Second, 10*time.Millisecond, func(w *conn, now time.Time) {
		got[w]++
		switch w {
		case a:
			wh.cancel(b)
		case r:
			if got[r] < 3 {
				wh.set(r, 15*time.Millisecond, now)
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
	wh.init(res, 32, start)
	const n = 5000
	conns := make([]conn, n)
	due := make([]time.Duration, n)
	for i := range conns {
		due[i] = time.Duration(1+rng.IntN(500)) * time.Millisecond / 4 * 3
		wh.set(&conns[i], due[i], start)
	}
	cancelled := map[*conn]bool{}
	for i := 0; i < n; i += 7 {
		wh.cancel(&conns[i])
		cancelled[&conns[i]] = true
	}
	fired := map[*conn]time.Duration{}
	now := start
	for now.Sub(start) < time.Second {
		now = now.Add(time.Duration(1+rng.IntN(80)) * res) // sometimes more than a revolution
		wh.advance(now, func(w *conn) {
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

// TestTimers checks SetTimer through the engine: fires once on the conn's
// loop, never early; reset and cancel work; many timers at once.
func TestTimers(t *testing.T) {
	const res = 10 * time.Millisecond
	type rec struct {
		fired  int
		setAt  time.Time
		d      time.Duration
		at     time.Time
		loop   int
		gotOn  int
		cancel bool
	}
	h := newEcho()
	var mu sync.Mutex
	recs := map[Conn]*rec{}
	var seq int
	h.onOpen = func(c Conn) {
		mu.Lock()
		defer mu.Unlock()
		seq++
		r := &rec{d: time.Duration(1+seq%40) * 7 * time.Millisecond, loop: c.Loop(), setAt: time.Now()}
		recs[c] = r
		switch seq % 4 {
		case 0: // reset: the long timer is replaced by the short one
			c.SetTimer(time.Hour)
			c.SetTimer(r.d)
		case 1: // cancel
			c.SetTimer(r.d)
			c.SetTimer(0)
			r.cancel = true
		default:
			c.SetTimer(r.d)
		}
	}
	h.onTimer = func(c Conn) {
		mu.Lock()
		defer mu.Unlock()
		r := recs[c]
		r.fired++
		r.at = time.Now()
		r.gotOn = c.Loop()
	}
	e := startEngine(t, Config{Loops: 2, TimerResolution: res, TimerSlots: 16}, h)
	defer stopEngine(t, e)
	const n = 200
	var cs []net.Conn
	for range n {
		c, err := net.Dial("tcp", e.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	waitFor(t, "conns open", func() bool { return h.numOpened() == n })
	waitFor(t, "timers fired", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			if !r.cancel && r.fired == 0 {
				return false
			}
		}
		return true
	})
	// Longest timer is 280ms: wait past it plus slack for duplicates and
	// cancelled timers that fire anyway.
	time.Sleep(300*time.Millisecond + 3*res)
	mu.Lock()
	defer mu.Unlock()
	for c, r := range recs {
		name := fmt.Sprintf("conn %v d=%v", c.RemoteAddr(), r.d)
		switch {
		case r.cancel && r.fired != 0:
			t.Errorf("%s: cancelled timer fired", name)
		case !r.cancel && r.fired != 1:
			t.Errorf("%s: fired %d times; want 1", name, r.fired)
		case !r.cancel && r.at.Sub(r.setAt) < r.d:
			t.Errorf("%s: fired after %v; want >= %v", name, r.at.Sub(r.setAt), r.d)
		case !r.cancel && r.gotOn != r.loop:
			t.Errorf("%s: fired on loop %d; want %d", name, r.gotOn, r.loop)
		}
	}
	if st := e.Stats(); st.TimersFired == 0 {
		t.Errorf("Stats.TimersFired = 0")
	}
	h.mu.Lock()
	for _, a := range h.affinity {
		t.Error(a)
	}
	h.mu.Unlock()
}

func TestTicks(t *testing.T) {
	h := newEcho()
	var mu sync.Mutex
	ticks := map[int][]time.Time{}
	h.onTick = func(loop int, now time.Time) {
		mu.Lock()
		ticks[loop] = append(ticks[loop], now)
		mu.Unlock()
	}
	e := startEngine(t, Config{Loops: 2, TimerResolution: 5 * time.Millisecond, TickInterval: 20 * time.Millisecond}, h)
	cs := pinLoops(t, e, h)
	waitFor(t, "ticks on both loops", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ticks[0]) >= 5 && len(ticks[1]) >= 5
	})
	for _, c := range cs {
		c.Close()
	}
	stopEngine(t, e)
	mu.Lock()
	defer mu.Unlock()
	for l, ts := range ticks {
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < 20*time.Millisecond-5*time.Millisecond/2 {
				t.Errorf("loop %d: ticks %v apart; want >= TickInterval - TimerResolution/2", l, gap)
			}
		}
	}
	h.verifyClosed(t)
}
