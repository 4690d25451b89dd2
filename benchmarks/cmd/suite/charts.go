package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// chartGroup is one SVG: the points of one kind and scenario side by side
// on the x axis, one bar per server at each.
type chartGroup struct {
	file, title, ylabel string
	kind, scenario      string
	value               func(Medians) float64
}

func val(m Medians) float64 { return m.Value }
func cpu(m Medians) float64 { return m.CPUus }

// drawCharts writes one bar chart per group from the medians and returns
// the files written, by kind.
func drawCharts(dir string, m map[point]map[string]Medians) (map[string][]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	groups := []chartGroup{
		{"http-plain.svg", "HTTP plaintext, not pipelined", "requests/s (median)", "http", "plain", val},
		{"http-pipe16.svg", "HTTP plaintext, pipelined 16 deep", "requests/s (median)", "http", "pipe16", val},
		{"http-cpu.svg", "HTTP plaintext, server CPU per request", "CPU µs/request (median)", "http", "", cpu},
		{"ws-echo.svg", "WebSocket echo", "messages/s (median)", "ws", "", val},
		{"ws-idle.svg", "Idle WebSocket connections", "server RSS bytes per connection (median)", "idle", "", val},
	}
	out := map[string][]string{}
	for _, g := range groups {
		var pts []point
		for _, p := range sortedPoints(m) {
			if p.Kind == g.kind && (g.scenario == "" || p.Scenario == g.scenario) {
				pts = append(pts, p)
			}
		}
		if len(pts) == 0 {
			continue
		}
		if err := drawGroup(filepath.Join(dir, g.file), g, pts, m); err != nil {
			return nil, err
		}
		out[g.kind] = append(out[g.kind], g.file)
	}
	return out, nil
}

func drawGroup(path string, g chartGroup, pts []point, m map[point]map[string]Medians) error {
	var servers []string
	for _, p := range pts {
		for s := range m[p] {
			if !slices.Contains(servers, s) {
				servers = append(servers, s)
			}
		}
	}
	ev := evhttpdName[g.kind]
	slices.SortFunc(servers, func(a, b string) int {
		if a == ev {
			return -1
		}
		if b == ev {
			return 1
		}
		return strings.Compare(a, b)
	})
	p := plot.New()
	p.Title.Text = g.title
	p.Y.Label.Text = g.ylabel
	p.Legend.Top = true
	width := vg.Points(60 / float64(len(servers)))
	for i, s := range servers {
		vals := make(plotter.Values, len(pts))
		for j, pt := range pts {
			vals[j] = g.value(m[pt][s])
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-float64(len(servers)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(strings.TrimPrefix(s, "ws-"), bars)
	}
	names := make([]string, len(pts))
	for i, pt := range pts {
		names[i] = pt.String()
	}
	p.NominalX(names...)
	w := vg.Length(max(6, 2.2*float64(len(pts)))) * vg.Inch
	return p.Save(w, 4*vg.Inch, path)
}
