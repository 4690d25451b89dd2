package main

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
)

// Sample is one measurement of one server at one point, as written to
// results/suite.json. Kind selects which fields apply:
//
//	http  Scenario ("plain" or "pipe16"), Conns, RPS, Requests, CPUus, P50us, P99us
//	ws    Size, Deflate, Depth, Conns, RPS (messages/s), CPUus (per message), P50us, P99us
//	idle  Conns, BytesPerConn, RSSBefore, RSSAfter
type Sample struct {
	Kind         string  `json:"kind"`
	Scenario     string  `json:"scenario,omitempty"`
	Server       string  `json:"server"`
	Rep          int     `json:"rep"`
	Conns        int     `json:"conns"`
	Size         int     `json:"size,omitempty"`
	Deflate      bool    `json:"deflate,omitempty"`
	Depth        int     `json:"depth,omitempty"` // ws: messages in flight per connection (0 in older files: 1)
	RPS          float64 `json:"per_s,omitempty"`
	Requests     int64   `json:"count,omitempty"`
	CPUus        float64 `json:"server_cpu_us,omitempty"`
	ClientCPUus  float64 `json:"client_cpu_us,omitempty"` // ws: wsload's own CPU per message
	P50us        float64 `json:"p50_us,omitempty"`
	P99us        float64 `json:"p99_us,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"`
	RSSBefore    int64   `json:"rss_before,omitempty"`
	RSSAfter     int64   `json:"rss_after,omitempty"`
	// BytesPerConnGC is the same difference after the server collected
	// garbage and freed memory to the OS (SIGUSR1), before and after.
	BytesPerConnGC float64 `json:"bytes_per_conn_gc,omitempty"`
	Errors         string  `json:"errors,omitempty"`
}

// Meta describes the run: machine, toolchain, mode and what was skipped.
type Meta struct {
	Date      string   `json:"date"`
	Mode      string   `json:"mode"` // "quick" or "full"
	CPU       string   `json:"cpu"`
	NProc     int      `json:"nproc"`
	Kernel    string   `json:"kernel"`
	Go        string   `json:"go"`
	Wrk       string   `json:"wrk"`
	LoadStart string   `json:"load_start"`
	LoadEnd   string   `json:"load_end"`
	Pinned    bool     `json:"pinned"`
	Reps      int      `json:"reps"`
	Duration  string   `json:"duration"`
	Notes     []string `json:"notes,omitempty"`
}

// Results is the whole of results/suite.json.
type Results struct {
	Meta    Meta     `json:"meta"`
	Samples []Sample `json:"samples"`
}

func (r *Results) write(path string) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// merge adds old's samples of the kinds this run did not measure and
// notes which run they came from; Meta otherwise stays this run's.
func (r *Results) merge(old *Results, ran map[string]bool) {
	kept := map[string]bool{}
	for _, s := range old.Samples {
		if !ran[s.Kind] {
			r.Samples = append(r.Samples, s)
			kept[s.Kind] = true
		}
	}
	for _, k := range []string{"http", "ws", "idle"} {
		if kept[k] {
			r.Meta.Notes = append(r.Meta.Notes, k+" samples from the "+old.Meta.Mode+" run of "+old.Meta.Date+
				" (load "+old.Meta.LoadStart+" to "+old.Meta.LoadEnd+", "+strconv.Itoa(old.Meta.Reps)+" repetition(s))")
		}
	}
	for _, n := range old.Meta.Notes {
		if !slices.Contains(r.Meta.Notes, n) {
			r.Meta.Notes = append(r.Meta.Notes, n)
		}
	}
}

func readResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// point identifies what a median is taken over: every field of a Sample
// except the server, the repetition and the measured values.
type point struct {
	Kind     string
	Scenario string
	Conns    int
	Size     int
	Deflate  bool
	Depth    int // ws: messages in flight per connection, 1 or more
}

func (p point) String() string {
	switch p.Kind {
	case "http":
		return p.Scenario + " c=" + strconv.Itoa(p.Conns)
	case "ws":
		s := "echo " + sizeName(p.Size) + " c=" + strconv.Itoa(p.Conns)
		if p.Deflate {
			s += " deflate"
		}
		if p.Depth > 1 {
			s += " depth " + strconv.Itoa(p.Depth)
		}
		return s
	default:
		return "idle c=" + strconv.Itoa(p.Conns)
	}
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

func pointOf(s Sample) point {
	p := point{Kind: s.Kind, Scenario: s.Scenario, Conns: s.Conns, Size: s.Size, Deflate: s.Deflate}
	if s.Kind == "ws" {
		p.Depth = max(s.Depth, 1)
	}
	return p
}

// median returns the median of v (the mean of the middle two for an even
// count), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Medians are the per-server medians of one point.
type Medians struct {
	Runs  int
	Value float64 // requests/s, messages/s or bytes per connection
	// Spread is (max - min) / median of Value over the runs: a large one
	// means the shared machine disturbed some of them.
	Spread      float64
	CPUus       float64
	ClientCPUus float64
	GCValue     float64 // idle: bytes per connection after GC
	P50us       float64
	P99us       float64
	// ByRep is Value per repetition, so that two servers measured in the
	// same repetition (minutes apart at most) can be compared pairwise.
	ByRep map[int]float64
}

// medians groups samples by point and server. Samples with errors still
// count: their numbers are what the server achieved, and the errors are
// listed in the report.
func medians(samples []Sample) map[point]map[string]Medians {
	type acc struct {
		v, cpu, client, gc, p50, p99 []float64
		byRep                        map[int]float64
	}
	g := map[point]map[string]*acc{}
	for _, s := range samples {
		p := pointOf(s)
		if g[p] == nil {
			g[p] = map[string]*acc{}
		}
		a := g[p][s.Server]
		if a == nil {
			a = &acc{byRep: map[int]float64{}}
			g[p][s.Server] = a
		}
		v := s.RPS
		if s.Kind == "idle" {
			v = s.BytesPerConn
		}
		a.v = append(a.v, v)
		a.byRep[s.Rep] = v
		a.cpu = append(a.cpu, s.CPUus)
		a.client = append(a.client, s.ClientCPUus)
		a.gc = append(a.gc, s.BytesPerConnGC)
		a.p50 = append(a.p50, s.P50us)
		a.p99 = append(a.p99, s.P99us)
	}
	out := map[point]map[string]Medians{}
	for p, m := range g {
		out[p] = map[string]Medians{}
		for srv, a := range m {
			med := median(a.v)
			spread := 0.0
			if med != 0 {
				spread = (slices.Max(a.v) - slices.Min(a.v)) / med
			}
			out[p][srv] = Medians{Runs: len(a.v), Value: med, Spread: spread, CPUus: median(a.cpu), ClientCPUus: median(a.client), GCValue: median(a.gc), P50us: median(a.p50), P99us: median(a.p99), ByRep: a.byRep}
		}
	}
	return out
}

// sortedPoints orders points by kind (http, ws, idle), then scenario,
// deflate, size and connections.
func sortedPoints(m map[point]map[string]Medians) []point {
	kinds := map[string]int{"http": 0, "ws": 1, "idle": 2}
	ps := make([]point, 0, len(m))
	for p := range m {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b point) int {
		if c := kinds[a.Kind] - kinds[b.Kind]; c != 0 {
			return c
		}
		if a.Scenario != b.Scenario {
			if a.Scenario < b.Scenario {
				return -1
			}
			return 1
		}
		if a.Deflate != b.Deflate {
			if !a.Deflate {
				return -1
			}
			return 1
		}
		if a.Depth != b.Depth {
			return a.Depth - b.Depth
		}
		if a.Size != b.Size {
			return a.Size - b.Size
		}
		return a.Conns - b.Conns
	})
	return ps
}
