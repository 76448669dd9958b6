package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/didicm/didicm/grouping"
)

// pathShape is an SVG path drawn in a chart.
type pathShape struct {
	D, Class, Tip string
}

// The geometry of an uncertainty strip.
const (
	stripH    = 100
	stripMark = 4  // y of the events' marks, above the plot
	stripTop  = 14 // y of entropy 1
	stripBase = 70 // y of entropy 0; below: the time axis
)

// strip draws a stream's normalised entropy over time: the largest in
// each of at most stripPointsWant stretches as an area, the review
// threshold (entropy rule) as a dashed line, and its events as bands.
func strip(id string, tl grouping.Timeline, events []stripEvent, capped int, threshold float64, byEntropy bool) *chart {
	title := fmt.Sprintf("%s: %s frames, %d uncertain in %d events", streamLabel(tl.Object, tl.Topic), comma(tl.Frames), tl.Uncertain, tl.Events)
	if tl.Errors > 0 {
		title += fmt.Sprintf(", %s failed", comma(tl.Errors))
	}
	if capped > 0 {
		title += fmt.Sprintf(" (%d shortest events not marked)", capped)
	}
	c := &chart{ID: id, Title: title, W: chartW, H: stripH}
	span := math.Max(tl.End, tl.BinWidth*float64(len(tl.BinFrames)))
	span = math.Max(span, 1e-3)
	x0, x1 := float64(marginLeft), c.W-marginRight
	x := func(t float64) float64 { return x0 + (x1-x0)*math.Min(1, math.Max(0, t/span)) }
	y := func(e float64) float64 { return stripBase - (stripBase-stripTop)*math.Min(1, math.Max(0, e)) }
	c.Paths = append(c.Paths, pathShape{areaPath(tl, x, y), "strip",
		"largest normalised entropy over time, " + secs(tl.BinWidth*float64(stripMerge(tl))) + " s a point"})
	for _, e := range events { // over the area, and marked above it
		left, right := x(e.Start), x(e.End+tl.Step)
		w := math.Max(right-left, 3)
		tip := fmt.Sprintf("event %s–%s s: %d uncertain frames; most uncertain %s at %s s (normalised entropy %.3f)",
			secs(e.Start), secs(e.End), e.Frames, e.Peak.Key, secs(e.Peak.T), e.Peak.EntropyNorm)
		c.Rects = append(c.Rects, rect{left, stripTop, w, stripBase - stripTop, "event", tip},
			rect{left, stripMark, w, stripTop - stripMark - 2, "event-mark", tip})
	}
	c.Lines = append(c.Lines, line{x0, stripBase, x1, stripBase, "axis"}, line{x0, stripTop, x0, stripBase, "axis"})
	if byEntropy && threshold > 0 && threshold < 1 {
		c.Lines = append(c.Lines, line{x0, y(threshold), x1, y(threshold), "threshold"})
	}
	c.Texts = append(c.Texts, text{x0 - 6, stripTop + 4, "1", "end", "tick"}, text{x0 - 6, stripBase + 4, "0", "end", "tick"})
	for _, t := range timeTicks(span) {
		c.Lines = append(c.Lines, line{x(t), stripBase, x(t), stripBase + 4, "axis"})
		c.Texts = append(c.Texts, text{x(t), stripBase + 16, clock(t), "middle", "tick"})
	}
	return c
}

// stripMerge is how many of a timeline's bins make one point.
func stripMerge(tl grouping.Timeline) int {
	return max(1, (len(tl.BinFrames)+stripPointsWant-1)/stripPointsWant)
}

// areaPath is the area under the largest entropy of each point: one
// closed shape per run of points with frames, each point as wide as its
// time.
func areaPath(tl grouping.Timeline, x, y func(float64) float64) string {
	m := stripMerge(tl)
	var b strings.Builder
	open := false
	var last float64
	closeRun := func() {
		if open {
			fmt.Fprintf(&b, "V%sZ", num(stripBase))
			open = false
		}
	}
	for i := 0; i < len(tl.BinFrames); i += m {
		top, any := 0.0, false
		for j := i; j < min(i+m, len(tl.BinFrames)); j++ {
			if tl.Max[j] != nil {
				top, any = math.Max(top, *tl.Max[j]), true
			}
		}
		if !any {
			closeRun()
			continue
		}
		left, right := x(float64(i)*tl.BinWidth), x(float64(i+m)*tl.BinWidth)
		if !open {
			fmt.Fprintf(&b, "M%s %sV%s", num(left), num(stripBase), num(y(top)))
			open = true
		} else if y(top) != last {
			fmt.Fprintf(&b, "V%s", num(y(top)))
		}
		fmt.Fprintf(&b, "H%s", num(right))
		last = y(top)
	}
	closeRun()
	return b.String()
}

// timeTicks are about six round times within [0, span] seconds.
func timeTicks(span float64) []float64 {
	step := 1.0
	for _, s := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400} {
		if step = s; span/s <= 6 {
			break
		}
	}
	var out []float64
	for t := 0.0; t <= span+1e-9; t += step {
		out = append(out, t)
	}
	return out
}

// clock writes seconds as 1:02:03, 2:03 or 3.5 s.
func clock(t float64) string {
	if t < 60 {
		return strconv.FormatFloat(math.Round(t*10)/10, 'f', -1, 64) + " s"
	}
	s := int(math.Round(t))
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func secs(t float64) string { return strconv.FormatFloat(t, 'f', 3, 64) }

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// streamLabel names a video, or a log's topic.
func streamLabel(object, topic string) string {
	if topic == "" {
		return object
	}
	return object + " " + topic
}
