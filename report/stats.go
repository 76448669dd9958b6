package report

import (
	"math"
	"time"
)

// ReliabilityBins is the number of equal-width max-probability bins of the
// reliability diagram and of ECE.
const ReliabilityBins = 15

// calibration counts labelled, classified images by their max probability
// (the confidence): bin i holds [i/15, (i+1)/15), the last one [14/15, 1].
type calibration struct {
	bins       [ReliabilityBins]calBin
	n, correct int
}

// calBin is one bin of the reliability diagram.
type calBin struct {
	n, correct int
	confSum    float64
}

// binOf is the bin of a confidence; values outside [0, 1] go to the end bins.
func binOf(conf float64) int {
	return min(ReliabilityBins-1, max(0, int(conf*ReliabilityBins)))
}

// add counts one image whose prediction had confidence conf.
func (c *calibration) add(conf float64, correct bool) {
	b := &c.bins[binOf(conf)]
	b.n++
	b.confSum += conf
	c.n++
	if correct {
		b.correct++
		c.correct++
	}
}

// accuracy is the share of correct predictions (NaN with none).
func (c *calibration) accuracy() float64 { return ratio(c.correct, c.n) }

// ece is the expected calibration error: the images' share in each bin
// times the gap between the bin's accuracy and its mean confidence, summed
// (NaN with no images).
func (c *calibration) ece() float64 {
	if c.n == 0 {
		return math.NaN()
	}
	var e float64
	for _, b := range c.bins {
		if b.n > 0 {
			e += float64(b.n) / float64(c.n) * math.Abs(b.accuracy()-b.confidence())
		}
	}
	return e
}

func (b calBin) accuracy() float64   { return ratio(b.correct, b.n) }
func (b calBin) confidence() float64 { return b.confSum / float64(b.n) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// rateBin is one bar of the throughput chart: the images whose batch's
// results were written in [Start, Start+width).
type rateBin struct {
	Start  time.Time
	Images int
}

// binWidths are the throughput bin widths tried, narrowest first.
var binWidths = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute,
	15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}

// throughput bins the images finished over time: each done batch (from
// jobs.Store.DoneBatches) adds its size (the manifest's) at its results'
// time. Bins are a minute wide, or the narrowest of binWidths that keeps
// them within maxBins; they start at the first results' time rounded down
// to the width and run to the last one, empty bins included. Batches the
// manifest does not know are left out.
func throughput(done map[int]time.Time, sizes []int, maxBins int) (time.Duration, []rateBin) {
	var first, last time.Time
	for i, t := range done {
		if i < 0 || i >= len(sizes) {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	if first.IsZero() {
		return time.Minute, nil
	}
	width := binWidths[len(binWidths)-1]
	for _, w := range binWidths {
		if int(last.Sub(first.Truncate(w))/w)+1 <= maxBins {
			width = w
			break
		}
	}
	start := first.Truncate(width)
	bins := make([]rateBin, int(last.Sub(start)/width)+1)
	for i := range bins {
		bins[i].Start = start.Add(time.Duration(i) * width)
	}
	for i, t := range done {
		if i >= 0 && i < len(sizes) {
			bins[int(t.Sub(start)/width)].Images += sizes[i]
		}
	}
	return width, bins
}
