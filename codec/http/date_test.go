package http

import (
	"math/rand"
	nethttp "net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rspTClock is a fake clock safe for concurrent use. It keeps a time.Time
// rather than nanoseconds so that instants outside 1678..2262 work.
type rspTClock struct{ t atomic.Pointer[time.Time] }

func (c *rspTClock) Now() time.Time        { return *c.t.Load() }
func (c *rspTClock) Set(t time.Time)       { c.t.Store(&t) }
func (c *rspTClock) Add(d time.Duration)   { c.Set(c.Now().Add(d)) } // one writer at a time
func rspTDate(t time.Time) string          { return t.UTC().Format(nethttp.TimeFormat) }
func rspTCache(c *rspTClock) *DateCache    { return &DateCache{Now: c.Now} }
func rspTAppend(d *DateCache) string       { return string(d.Append(nil)) }
func rspTAppendHeader(d *DateCache) string { return string(d.AppendHeader(nil)) }

func TestDateFormat(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC), "Sun, 06 Nov 1994 08:49:37 GMT"}, // RFC 9110 §5.6.7
		{time.Unix(0, 0), "Thu, 01 Jan 1970 00:00:00 GMT"},
		{time.Date(2000, 2, 29, 23, 59, 59, 999999999, time.UTC), "Tue, 29 Feb 2000 23:59:59 GMT"},
		{time.Date(2024, 12, 31, 12, 0, 0, 0, time.UTC), "Tue, 31 Dec 2024 12:00:00 GMT"},
		{time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), "Tue, 19 Jan 2038 03:14:08 GMT"},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "Fri, 31 Dec 9999 23:59:59 GMT"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "Mon, 01 Jan 0001 00:00:00 GMT"},
		// A zone other than UTC is converted.
		{time.Date(2024, 1, 1, 1, 30, 0, 0, time.FixedZone("X", 2*3600)), "Sun, 31 Dec 2023 23:30:00 GMT"},
		// Years the grammar cannot hold are clamped (RFC 9110 §5.6.7 has 4DIGIT).
		{time.Date(12345, 6, 7, 8, 9, 10, 0, time.UTC), "Thu, 07 Jun 9999 08:09:10 GMT"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var b [DateLen]byte
			rspFormatDate(&b, tt.t)
			if string(b[:]) != tt.want {
				t.Errorf("rspFormatDate(%v) = %q; want %q", tt.t, b[:], tt.want)
			}
			var clk rspTClock
			clk.Set(tt.t)
			if got := rspTAppend(rspTCache(&clk)); got != tt.want {
				t.Errorf("DateCache.Append at %v = %q; want %q", tt.t, got, tt.want)
			}
		})
	}
}

// TestDateFormatRandom compares with net/http's formatting over random
// instants from 1970 to 2200.
func TestDateFormatRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		ts := time.Unix(rng.Int63n(end), rng.Int63n(1e9))
		var b [DateLen]byte
		rspFormatDate(&b, ts)
		if want := rspTDate(ts); string(b[:]) != want {
			t.Fatalf("rspFormatDate(%v) = %q; want %q", ts, b[:], want)
		}
	}
}

func TestDateCacheRefresh(t *testing.T) {
	var clk rspTClock
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	clk.Set(start)
	d := rspTCache(&clk)

	if got, want := rspTAppendHeader(d), "Date: "+rspTDate(start)+"\r\n"; got != want {
		t.Fatalf("AppendHeader() = %q; want %q", got, want)
	}
	first := d.cur.Load()

	// Within the same second the published entry is reused, not reformatted.
	for _, step := range []time.Duration{time.Millisecond, 300 * time.Millisecond, 698 * time.Millisecond} {
		clk.Add(step)
		if got, want := rspTAppend(d), rspTDate(start); got != want {
			t.Fatalf("Append() at %v = %q; want %q", clk.Now(), got, want)
		}
		if d.cur.Load() != first {
			t.Fatalf("entry replaced within the same second at %v", clk.Now())
		}
	}

	// The next second, reached by the last nanosecond, refreshes.
	clk.Set(start.Add(time.Second))
	if got, want := rspTAppend(d), rspTDate(start.Add(time.Second)); got != want {
		t.Fatalf("Append() after one second = %q; want %q", got, want)
	}
	if d.cur.Load() == first {
		t.Fatalf("entry not replaced after the second changed")
	}

	// Jumps forwards and backwards both refresh.
	for _, at := range []time.Time{start.Add(time.Hour), start.Add(-time.Hour), start} {
		clk.Set(at)
		if got, want := rspTAppend(d), rspTDate(at); got != want {
			t.Fatalf("Append() at %v = %q; want %q", at, got, want)
		}
	}
}

func TestDateCacheAt(t *testing.T) {
	var clk rspTClock
	start := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	clk.Set(start.Add(-24 * time.Hour)) // the clock is not consulted
	d := rspTCache(&clk)
	for _, at := range []time.Time{start, start.Add(999 * time.Millisecond), start.Add(time.Second), start} {
		want := "Date: " + rspTDate(at) + "\r\n"
		if got := string(d.AppendHeaderAt(nil, at)); got != want {
			t.Errorf("AppendHeaderAt(%v) = %q; want %q", at, got, want)
		}
		if got := string(AppendDateAt(nil, at)); got != want {
			t.Errorf("AppendDateAt(%v) = %q; want %q", at, got, want)
		}
	}
	// The entry published by AppendHeaderAt serves Append in the same second.
	clk.Set(start)
	e := d.cur.Load()
	if got, want := rspTAppend(d), rspTDate(start); got != want || d.cur.Load() != e {
		t.Errorf("Append() after AppendHeaderAt = %q (entry reused %v); want %q, reused", got, d.cur.Load() == e, want)
	}
}

func TestDateCacheZeroValue(t *testing.T) {
	var d DateCache
	before := time.Now().Truncate(time.Second)
	got := rspTAppend(&d)
	after := time.Now()
	ts, err := nethttp.ParseTime(got)
	if err != nil {
		t.Fatalf("Append() = %q: %v", got, err)
	}
	if ts.Before(before) || ts.After(after) {
		t.Errorf("Append() = %v; want between %v and %v", ts, before, after)
	}
}

func TestAppendDate(t *testing.T) {
	before := time.Now().Truncate(time.Second)
	got := AppendDate([]byte("x"))
	after := time.Now()
	if len(got) != 1+len("Date: ")+DateLen+2 || string(got[:7]) != "xDate: " || string(got[len(got)-2:]) != "\r\n" {
		t.Fatalf("AppendDate() = %q; want \"xDate: <IMF-fixdate>\\r\\n\"", got)
	}
	ts, err := nethttp.ParseTime(string(got[7 : 7+DateLen]))
	if err != nil {
		t.Fatalf("AppendDate() = %q: %v", got, err)
	}
	if ts.Before(before) || ts.After(after) {
		t.Errorf("AppendDate() = %v; want between %v and %v", ts, before, after)
	}
}

// TestDateCacheConcurrent runs readers while the clock advances; under -race
// it proves the publication is race-free, and every read must be a whole,
// valid date of a second the clock has shown.
func TestDateCacheConcurrent(t *testing.T) {
	var clk rspTClock
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(start)
	d := rspTCache(&clk)
	const seconds = 200
	valid := make(map[string]bool, seconds)
	for i := range seconds {
		valid[rspTDate(start.Add(time.Duration(i)*time.Second))] = true
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64)
			for !stop.Load() {
				buf = d.AppendHeader(buf[:0])
				if s := string(buf[6 : 6+DateLen]); !valid[s] {
					errs <- s
					return
				}
			}
		}()
	}
	for range seconds - 1 {
		for range 5 {
			clk.Add(200 * time.Millisecond)
			_ = d.Append(nil)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent read returned %q, not a date the clock showed", s)
	}
	if got, want := rspTAppend(d), rspTDate(start.Add((seconds-1)*time.Second)); got != want {
		t.Errorf("Append() after the run = %q; want %q", got, want)
	}
}
