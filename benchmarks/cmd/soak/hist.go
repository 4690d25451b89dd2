package main

import (
	"math"
	"slices"
	"sync"
	"time"
)

// hist is a latency histogram with logarithmic buckets 2% wide from 1 µs
// to about 60 s: fixed memory however many operations a scenario runs.
type hist struct {
	n      int64
	counts [histBuckets]int64
	max    time.Duration
}

const (
	histBase    = 1.02
	histBuckets = 900 // 1.02^900 µs ≈ 5.5e7 µs ≈ 55 s; slower lands in the last
)

var logBase = math.Log(histBase)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	b := int(math.Log(us) / logBase)
	return min(b, histBuckets-1)
}

func (h *hist) add(d time.Duration) {
	h.n++
	h.counts[bucketOf(d)]++
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	h.n += o.n
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.max = max(h.max, o.max)
}

// quantile returns the upper edge of the bucket holding quantile q (at most
// 2% above the true value), or 0 for an empty histogram.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			d := time.Duration(math.Pow(histBase, float64(i+1)) * float64(time.Microsecond))
			return min(d, h.max)
		}
	}
	return h.max
}

// goodKinds are the good clients, in report order.
var goodKinds = []string{"get", "pipe", "upload", "ws", "https", "tls-new"}

// recorder collects the good clients' results: per kind for the current
// scenario, and all kinds together for the current sampling window.
type recorder struct {
	mu       sync.Mutex
	scen     map[string]*kindStats
	window   hist
	winFails int64
}

type kindStats struct {
	h     hist
	fails int64
	errs  []string // the first few distinct failures, for the report
	nerrs []int64  // how often each of errs happened
}

func newRecorder() *recorder {
	r := &recorder{}
	r.reset()
	return r
}

// reset starts a new scenario and returns the one that ended.
func (r *recorder) reset() map[string]*kindStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.scen
	r.scen = map[string]*kindStats{}
	for _, k := range goodKinds {
		r.scen[k] = &kindStats{}
	}
	return old
}

func (r *recorder) ok(kind string, d time.Duration) {
	r.mu.Lock()
	r.scen[kind].h.add(d)
	r.window.add(d)
	r.mu.Unlock()
}

const maxErrs = 5

func (r *recorder) fail(kind string, err error) {
	r.mu.Lock()
	k := r.scen[kind]
	k.fails++
	msg := err.Error()
	if i := slices.Index(k.errs, msg); i >= 0 {
		k.nerrs[i]++
	} else if len(k.errs) < maxErrs {
		k.errs = append(k.errs, msg)
		k.nerrs = append(k.nerrs, 1)
	}
	r.winFails++
	r.mu.Unlock()
}

// takeWindow returns the current window's histogram and failures and
// starts a new window.
func (r *recorder) takeWindow() (hist, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, f := r.window, r.winFails
	r.window, r.winFails = hist{}, 0
	return h, f
}
