package main

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateClock keeps the current IMF-fixdate (RFC 9110 §5.6.7) for servers that
// write their own Date header, refreshed by a ticker every 500 ms so it is
// never more than one second stale.
type dateClock struct {
	v    atomic.Pointer[string]
	done chan struct{}
}

func newDateClock() *dateClock {
	d := &dateClock{done: make(chan struct{})}
	d.set(time.Now())
	go d.run()
	return d
}

func (d *dateClock) set(t time.Time) {
	s := t.UTC().Format(http.TimeFormat)
	d.v.Store(&s)
}

func (d *dateClock) run() {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			d.set(now)
		case <-d.done:
			return
		}
	}
}

// get returns the current date; the string is immutable.
func (d *dateClock) get() string { return *d.v.Load() }

func (d *dateClock) stop() { close(d.done) }
