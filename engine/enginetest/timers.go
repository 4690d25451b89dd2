package enginetest

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/evhttpd/httpd/engine"
)

// testTimers checks SetTimer through the engine: fires once on the conn's
// loop, never early; reset and cancel work; many timers at once.
func testTimers(t *testing.T) {
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
	recs := map[engine.Conn]*rec{}
	var seq int
	h.onOpen = func(c engine.Conn) {
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
	h.onTimer = func(c engine.Conn) {
		mu.Lock()
		defer mu.Unlock()
		r := recs[c]
		r.fired++
		r.at = time.Now()
		r.gotOn = c.Loop()
	}
	e := startEngine(t, engine.Config{Loops: 2, TimerResolution: res, TimerSlots: 16}, h)
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

func testTicks(t *testing.T) {
	h := newEcho()
	var mu sync.Mutex
	ticks := map[int][]time.Time{}
	h.onTick = func(loop int, now time.Time) {
		mu.Lock()
		ticks[loop] = append(ticks[loop], now)
		mu.Unlock()
	}
	e := startEngine(t, engine.Config{Loops: 2, TimerResolution: 5 * time.Millisecond, TickInterval: 20 * time.Millisecond}, h)
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
