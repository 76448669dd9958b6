package report

import (
	"fmt"
	"math"
	"strconv"
)

// chart is an SVG drawing in primitives that the template writes out (and
// so escapes): the geometry is computed here, in user units of a W×H view box.
type chart struct {
	ID, Title string
	W, H      float64
	Rects     []rect
	Lines     []line
	Paths     []pathShape
	Texts     []text
}

type rect struct {
	X, Y, W, H float64
	Class, Tip string
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type text struct {
	X, Y             float64
	S, Anchor, Class string
}

// The plot area's margins inside a chart.
const (
	chartW      = 880
	marginLeft  = 60
	marginRight = 16
	marginTop   = 14
	marginBase  = 40 // below the plot: tick labels and the axis title
)

// niceTop rounds v up to a multiple of a step of 1, 2, 2.5 or 5 times a
// power of ten, about a quarter of it; integer axes take steps of 1 at least.
func niceTop(v float64, integer bool) (top, step float64) {
	if v <= 0 || math.IsNaN(v) {
		v = 1
	}
	raw := v / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	if integer {
		step = math.Max(1, math.Round(step))
	}
	return step * math.Ceil(v/step-1e-9), step
}

// short writes an axis number compactly: 950, 12k, 1.5M, 0.25.
func short(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
	}
}

// yAxis draws the horizontal grid lines and their labels of a value axis
// from 0 to top, and returns the y of a value.
func (c *chart) yAxis(x0, x1, y0, y1, top, step float64, title string) func(float64) float64 {
	y := func(v float64) float64 { return y0 - (y0-y1)*v/top }
	for v := 0.0; v <= top+step/2; v += step {
		cls := "grid"
		if v == 0 {
			cls = "axis"
		}
		c.Lines = append(c.Lines, line{x0, y(v), x1, y(v), cls})
		c.Texts = append(c.Texts, text{x0 - 6, y(v) + 4, short(v), "end", "tick"})
	}
	if title != "" {
		c.Texts = append(c.Texts, text{x0, y1 - 4, title, "start", "axis-title"})
	}
	return y
}

// columns is a vertical bar chart of values under their labels, at most
// about a dozen labels shown; tips are the bars' hover texts.
func columns(id, title string, labels []string, values []float64, tips []string, yTitle, xTitle string, integer bool) *chart {
	c := &chart{ID: id, Title: title, W: chartW, H: 260}
	x0, x1, y0, y1 := float64(marginLeft), c.W-marginRight, c.H-marginBase, marginTop+10.0
	peak := 0.0
	for _, v := range values {
		peak = math.Max(peak, v)
	}
	top, step := niceTop(peak, integer)
	y := c.yAxis(x0, x1, y0, y1, top, step, yTitle)
	slot := (x1 - x0) / float64(max(1, len(values)))
	every := max(1, (len(labels)+11)/12)
	for i, v := range values {
		gap := math.Min(slot*0.15, 6)
		c.Rects = append(c.Rects, rect{x0 + float64(i)*slot + gap/2, y(v), math.Max(slot-gap, 0.5), y0 - y(v), "bar", tips[i]})
		if i%every == 0 {
			c.Texts = append(c.Texts, text{x0 + (float64(i)+0.5)*slot, y0 + 14, labels[i], "middle", "tick"})
		}
	}
	c.Texts = append(c.Texts, text{(x0 + x1) / 2, c.H - 6, xTitle, "middle", "axis-title"})
	return c
}

// rowItem is one bar of a horizontal bar chart.
type rowItem struct {
	Label string
	N     int
	Other bool // the remainder after the top rows
}

// rows is a horizontal bar chart of counts, one row per item, each bar
// with its count and share of total.
func rows(id, title string, items []rowItem, total int) *chart {
	const rowH, labelW = 20.0, 190.0
	c := &chart{ID: id, Title: title, W: chartW, H: marginTop + rowH*float64(len(items)) + 8}
	peak := 1
	for _, it := range items {
		peak = max(peak, it.N)
	}
	x0, x1 := labelW, c.W-90
	for i, it := range items {
		yTop := marginTop + rowH*float64(i)
		w := (x1 - x0) * float64(it.N) / float64(peak)
		cls := "bar"
		if it.Other {
			cls = "bar other"
		}
		share := fmt.Sprintf("%d (%.1f%%)", it.N, 100*ratio(it.N, total))
		c.Rects = append(c.Rects, rect{x0, yTop + 3, math.Max(w, 1), rowH - 6, cls, it.Label + ": " + share})
		c.Texts = append(c.Texts, text{x0 - 8, yTop + rowH/2 + 4, clip(it.Label, 28), "end", "tick"},
			text{x0 + math.Max(w, 1) + 6, yTop + rowH/2 + 4, share, "start", "val"})
	}
	c.Lines = append(c.Lines, line{x0, marginTop, x0, c.H - 8, "axis"})
	return c
}

// clip shortens a label to n characters with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// reliability draws accuracy per confidence bin against the diagonal of
// perfect calibration, with a tick at each bin's mean confidence and the
// gap shaded where the confidence is above the accuracy.
func reliability(cal *calibration) *chart {
	c := &chart{ID: "reliability", Title: "Reliability diagram: accuracy per max-probability bin", W: 400, H: 380}
	x0, x1, y0, y1 := float64(marginLeft), c.W-marginRight-4, c.H-marginBase, marginTop+10.0
	y := c.yAxis(x0, x1, y0, y1, 1, 0.2, "accuracy")
	x := func(v float64) float64 { return x0 + (x1-x0)*v }
	for v := 0.0; v <= 1.0001; v += 0.2 {
		c.Texts = append(c.Texts, text{x(v), y0 + 14, short(v), "middle", "tick"})
	}
	c.Texts = append(c.Texts, text{(x0 + x1) / 2, c.H - 6, "max probability (confidence)", "middle", "axis-title"})
	w := (x1 - x0) / ReliabilityBins
	for i, b := range cal.bins {
		if b.n == 0 {
			continue
		}
		acc, conf := b.accuracy(), b.confidence()
		tip := fmt.Sprintf("[%.3f, %.3f): %d images, accuracy %.3f, mean confidence %.3f", float64(i)/ReliabilityBins,
			float64(i+1)/ReliabilityBins, b.n, acc, conf)
		c.Rects = append(c.Rects, rect{x0 + float64(i)*w + 1, y(acc), w - 2, y0 - y(acc), "bar", tip})
		if conf > acc { // overconfident: shade up to the confidence
			c.Rects = append(c.Rects, rect{x0 + float64(i)*w + 1, y(conf), w - 2, y(acc) - y(conf), "gap", tip})
		}
		c.Lines = append(c.Lines, line{x0 + float64(i)*w + 1, y(conf), x0 + float64(i+1)*w - 1, y(conf), "conf"})
	}
	c.Lines = append(c.Lines, line{x(0), y(0), x(1), y(1), "diag"})
	return c
}

// quantileStrip marks the max-probability quantiles on [0, 1]: a band
// from the lowest to the highest and a line at each.
func quantileStrip(qs []quantile) *chart {
	c := &chart{ID: "max-prob-quantiles", Title: "Max-probability quantiles", W: chartW, H: 110}
	x0, x1, yAxis := float64(marginLeft), c.W-marginRight-20, 70.0
	x := func(v float64) float64 { return x0 + (x1-x0)*math.Min(1, math.Max(0, v)) }
	c.Lines = append(c.Lines, line{x(0), yAxis, x(1), yAxis, "axis"})
	for v := 0.0; v <= 1.0001; v += 0.1 {
		c.Lines = append(c.Lines, line{x(v), yAxis, x(v), yAxis + 4, "axis"})
		c.Texts = append(c.Texts, text{x(v), yAxis + 18, short(v), "middle", "tick"})
	}
	if len(qs) == 0 {
		return c
	}
	lo, hi := qs[0].V, qs[len(qs)-1].V
	c.Rects = append(c.Rects, rect{x(lo), yAxis - 26, math.Max(x(hi)-x(lo), 2), 20, "band",
		fmt.Sprintf("%s to %s: %.4f to %.4f", qs[0].Name, qs[len(qs)-1].Name, lo, hi)})
	for i, q := range qs {
		c.Lines = append(c.Lines, line{x(q.V), yAxis - 30, x(q.V), yAxis + 2, "marker"})
		c.Texts = append(c.Texts, text{x(q.V), yAxis - 34 - 13*float64(i%3), q.Name, "middle", "tick"})
	}
	return c
}
