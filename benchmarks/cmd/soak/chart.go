package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// drawChart writes an SVG of the server's RSS (with the limit) above the
// good clients' p99 per sampling window (with the bound), both over time,
// each scenario's start marked and named.
func drawChart(r *run, path string) error {
	r.mu.Lock()
	samples := append([]sample(nil), r.samples...)
	r.mu.Unlock()
	if len(samples) == 0 {
		return nil
	}
	rss := make(plotter.XYs, len(samples))
	var p99 plotter.XYs
	var ymaxRSS, ymaxP99 float64
	for i, s := range samples {
		rss[i] = plotter.XY{X: s.T, Y: float64(s.RSS) / (1 << 20)}
		ymaxRSS = max(ymaxRSS, rss[i].Y)
		if s.Ops > 0 {
			y := max(float64(s.P99)/float64(time.Millisecond), p99Floor)
			p99 = append(p99, plotter.XY{X: s.T, Y: y})
			ymaxP99 = max(ymaxP99, y)
		}
	}
	limit := float64(r.rssLimit) / (1 << 20)
	bound := float64(r.p99) / float64(time.Millisecond)
	ymaxRSS = max(ymaxRSS, limit) * 1.25
	ymaxP99 = max(ymaxP99, bound) * 2
	xmax := samples[len(samples)-1].T

	top := plot.New()
	// Both panels have a title so that plot.Align gives them the same room.
	top.Title.Text = "evhttpd soak: server RSS and its limit"
	top.Y.Label.Text = "MiB"
	top.Y.Min, top.Y.Max = 0, ymaxRSS
	top.Y.Tick.Marker = plainTicks{}
	bot := plot.New()
	bot.Title.Text = fmt.Sprintf("good clients: p99 of each %v window and the bound", r.t.sample)
	bot.X.Label.Text = "seconds"
	bot.Y.Label.Text = "ms (log scale)"
	bot.Y.Min, bot.Y.Max = p99Floor, ymaxP99
	bot.Y.Scale = plot.LogScale{}
	bot.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	for _, p := range []*plot.Plot{top, bot} {
		p.X.Min, p.X.Max = 0, xmax
		p.Legend.Top = true
	}

	blue := color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	red := color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	grey := color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
	if err := addLine(top, rss, blue, nil, "RSS"); err != nil {
		return err
	}
	if err := addLine(top, plotter.XYs{{X: 0, Y: limit}, {X: xmax, Y: limit}}, red, dashes, "limit"); err != nil {
		return err
	}
	if len(p99) > 0 {
		if err := addLine(bot, p99, blue, nil, "p99"); err != nil {
			return err
		}
	}
	if err := addLine(bot, plotter.XYs{{X: 0, Y: bound}, {X: xmax, Y: bound}}, red, dashes, "bound"); err != nil {
		return err
	}

	// Scenario starts: a dotted line in both panels, the name in the top one.
	var marks plotter.XYs
	var names []string
	starts := make([]float64, 0, len(r.results)+1)
	for _, res := range r.results {
		starts = append(starts, res.startT)
		names = append(names, res.name)
	}
	if n := len(r.results); n > 0 {
		starts = append(starts, r.results[n-1].settleEnd)
		names = append(names, "clients gone")
	}
	for _, x := range starts {
		if err := addLine(top, plotter.XYs{{X: x, Y: 0}, {X: x, Y: ymaxRSS}}, grey, dots, ""); err != nil {
			return err
		}
		if err := addLine(bot, plotter.XYs{{X: x, Y: p99Floor}, {X: x, Y: ymaxP99}}, grey, dots, ""); err != nil {
			return err
		}
		marks = append(marks, plotter.XY{X: x, Y: ymaxRSS * 0.97})
	}
	if len(marks) > 0 {
		labels, err := plotter.NewLabels(plotter.XYLabels{XYs: marks, Labels: names})
		if err != nil {
			return err
		}
		for i := range labels.TextStyle {
			labels.TextStyle[i].Rotation = -math.Pi / 2
			labels.TextStyle[i].XAlign = draw.XLeft
			labels.TextStyle[i].YAlign = draw.YBottom
			labels.TextStyle[i].Font.Size = vg.Points(8)
		}
		top.Add(labels)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	w, h := vg.Length(11)*vg.Inch, vg.Length(7)*vg.Inch
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	if filepath.Ext(path) == ".png" { // for a look without an SVG viewer
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	} else {
		c = vgsvg.New(w, h)
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align([][]*plot.Plot{{top}, {bot}}, tiles, dc)
	top.Draw(canvases[0][0])
	bot.Draw(canvases[1][0])
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plainTicks are gonum's default ticks labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

var (
	dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	dots   = []vg.Length{vg.Points(1), vg.Points(3)}
)

// p99Floor is the bottom of the log-scale p99 axis, in ms.
const p99Floor = 0.1

func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dash []vg.Length, legend string) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.LineStyle.Color = c
	l.LineStyle.Width = vg.Points(1.2)
	l.LineStyle.Dashes = dash
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}
