package main

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
)

// target is one goal from the codec, server and WebSocket issues: evhttpd's
// median over a peer's median at a point must be at least Ratio (Higher) or
// at most Ratio (!Higher). An empty Peer means an absolute bound on
// evhttpd's own median (Ratio is then that bound). Subject names the
// server under test when it is not evhttpd on its default engine.
type target struct {
	Subject  string // "" = evhttpdName[Kind]
	Kind     string
	Scenario string
	Size     int
	Deflate  bool
	Depth    int // ws: 0 = every depth measured
	Conns    int // 0: every connection count measured
	Peer     string
	Ratio    float64
	Higher   bool
	Issue    string
}

// evhttpdName is evhttpd's server name in each kind of sample.
var evhttpdName = map[string]string{"http": "evhttpd", "ws": "ws-evhttpd", "idle": "ws-evhttpd"}

// targets are the issues' numbers. Issue 3 (server) does not name a
// connection count, so its targets apply at every count measured; issue 4
// does not name how many messages a connection keeps in flight, so its
// echo targets are checked at every depth measured, each reported apart.
var targets = []target{
	{Kind: "http", Scenario: "plain", Peer: "gnet-raw", Ratio: 0.9, Higher: true, Issue: "3"},
	{Kind: "http", Scenario: "plain", Peer: "fasthttp", Ratio: 1.25, Higher: true, Issue: "3"},
	{Kind: "http", Scenario: "plain", Peer: "nethttp", Ratio: 2, Higher: true, Issue: "3"},
	{Kind: "http", Scenario: "pipe16", Peer: "gnet-raw", Ratio: 0.8, Higher: true, Issue: "3"},
	{Kind: "http", Scenario: "pipe16", Peer: "fasthttp", Ratio: 1.3, Higher: true, Issue: "3"},
	{Kind: "http", Scenario: "pipe16", Peer: "nethttp", Ratio: 5, Higher: true, Issue: "3"},
	{Kind: "ws", Size: 64, Conns: 1000, Peer: "ws-gws", Ratio: 1.2, Higher: true, Issue: "4"},
	{Kind: "ws", Size: 64, Conns: 1000, Peer: "ws-nbio", Ratio: 1.1, Higher: true, Issue: "4"},
	{Kind: "ws", Size: 64, Conns: 1000, Peer: "ws-gorilla", Ratio: 1.3, Higher: true, Issue: "4"},
	{Kind: "ws", Size: 1024, Conns: 1000, Peer: "ws-gws", Ratio: 1.2, Higher: true, Issue: "4"},
	{Kind: "ws", Size: 1024, Conns: 1000, Peer: "ws-nbio", Ratio: 1.1, Higher: true, Issue: "4"},
	{Kind: "ws", Size: 1024, Conns: 1000, Peer: "ws-gorilla", Ratio: 1.3, Higher: true, Issue: "4"},
	{Kind: "idle", Conns: 10000, Ratio: 1024, Issue: "4"},
	{Kind: "idle", Conns: 10000, Peer: "ws-gorilla", Ratio: 0.1, Issue: "4"},
	{Kind: "idle", Conns: 10000, Peer: "ws-nbio", Ratio: 1, Issue: "4"},
	// Issue 14: evhttpd on its netpoll engine against hertz (on netpoll
	// too) and against evhttpd on gnet.
	{Subject: "evhttpd-netpoll", Kind: "http", Scenario: "plain", Peer: "hertz", Ratio: 1.3, Higher: true, Issue: "14"},
	{Subject: "evhttpd-netpoll", Kind: "http", Scenario: "pipe16", Peer: "hertz", Ratio: 3, Higher: true, Issue: "14"},
	{Subject: "evhttpd-netpoll", Kind: "http", Scenario: "plain", Peer: "evhttpd", Ratio: 0.95, Higher: true, Issue: "14"},
}

// subject is the server whose median t measures.
func (t target) subject() string {
	if t.Subject != "" {
		return t.Subject
	}
	return evhttpdName[t.Kind]
}

// check is one target evaluated at one point.
type check struct {
	Issue  string
	What   string // point and comparison
	Got    float64
	Want   string
	Met    bool
	Detail string // for checks read from another report
	// Paired is the median over repetitions of evhttpd's value over the
	// peer's in the same repetition, with its range; 0 when there is no
	// peer or no repetition measured both. It is reported beside Got (the
	// ratio of medians, which decides Met): on a machine whose speed drifts
	// over minutes, a pairwise ratio cancels most of the drift.
	Paired, PairedMin, PairedMax float64
}

func (t target) matches(p point) bool {
	return t.Kind == p.Kind && t.Scenario == p.Scenario && t.Size == p.Size &&
		t.Deflate == p.Deflate && (t.Conns == 0 || t.Conns == p.Conns) && (t.Depth == 0 || t.Depth == p.Depth)
}

// evaluate checks every target at every point it applies to. A target
// whose point or servers were not measured is reported as missed, so that
// a run that silently lost a server cannot pass the guard.
func evaluate(m map[point]map[string]Medians) []check {
	var out []check
	for _, t := range targets {
		found := false
		for _, p := range sortedPoints(m) {
			if !t.matches(p) {
				continue
			}
			found = true
			out = append(out, t.at(p, m[p]))
		}
		if !found {
			out = append(out, check{Issue: t.Issue, What: t.describe(point{Kind: t.Kind, Scenario: t.Scenario, Size: t.Size, Conns: t.Conns, Depth: t.Depth}), Want: t.want(), Detail: "not measured"})
		}
	}
	return out
}

func (t target) describe(p point) string {
	ev := t.subject()
	if t.Peer == "" {
		return p.String() + ": " + ev + " bytes per connection"
	}
	return p.String() + ": " + ev + " / " + t.Peer
}

func (t target) want() string {
	op := "<= "
	if t.Higher {
		op = ">= "
	}
	s := strconv.FormatFloat(t.Ratio, 'f', -1, 64)
	if t.Peer == "" {
		return op + s + " B"
	}
	return op + s + "x"
}

func (t target) at(p point, m map[string]Medians) check {
	c := check{Issue: t.Issue, What: t.describe(p), Want: t.want()}
	ev, ok := m[t.subject()]
	if !ok {
		c.Detail = t.subject() + " not measured"
		return c
	}
	if t.Peer == "" {
		c.Got = ev.Value
	} else {
		peer, ok := m[t.Peer]
		if !ok || peer.Value <= 0 {
			c.Detail = t.Peer + " not measured"
			return c
		}
		c.Got = ev.Value / peer.Value
		c.Paired, c.PairedMin, c.PairedMax = pairedRatio(ev.ByRep, peer.ByRep)
	}
	if t.Higher {
		c.Met = c.Got >= t.Ratio
	} else {
		c.Met = c.Got <= t.Ratio
	}
	return c
}

// pairedRatio returns the median, minimum and maximum over the repetitions
// both a and b measured of a[rep] / b[rep]; zeros if there are none.
func pairedRatio(a, b map[int]float64) (med, lo, hi float64) {
	var r []float64
	for rep, av := range a {
		if bv, ok := b[rep]; ok && bv > 0 {
			r = append(r, av/bv)
		}
	}
	if len(r) == 0 {
		return 0, 0, 0
	}
	return median(r), slices.Min(r), slices.Max(r)
}

// parseChecks reads the "targets:" section of cmd/ratios' parse report
// (issue 2): lines ending in "met" are met, lines starting with "MISSED"
// are not.
func parseChecks(path string) ([]check, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []check
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "targets:":
			in = true
		case !in || line == "":
			if in && line == "" {
				in = false
			}
		case strings.HasPrefix(line, "MISSED "):
			out = append(out, check{Issue: "2", Detail: strings.TrimPrefix(line, "MISSED ")})
		case strings.HasSuffix(line, " met"):
			out = append(out, check{Issue: "2", Detail: strings.TrimSuffix(line, " met"), Met: true})
		}
	}
	return out, sc.Err()
}
