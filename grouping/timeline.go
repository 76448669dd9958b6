package grouping

import "math"

// timeline is a stream's normalised entropy over time in at most n bins
// from time 0, each width ms wide: width starts at 1 ms and doubles
// (merging pairs of bins) when a frame falls past the last bin.
type timeline struct {
	n     int
	width int64 // ms
	bins  []bin
}

// bin is the classified frames of one stretch of time.
type bin struct {
	frames int32
	max    float32 // normalised entropy
	sum    float32
}

func (b bin) merge(o bin) bin {
	return bin{frames: b.frames + o.frames, max: max(b.max, o.max), sum: b.sum + o.sum}
}

// add counts a classified frame at t ms with normalised entropy e.
func (tl *timeline) add(t int64, e float64) {
	if tl.width == 0 {
		tl.width = 1
	}
	t = max(t, 0)
	for t/tl.width >= int64(tl.n) {
		tl.coarsen()
	}
	i := int(t / tl.width)
	for len(tl.bins) <= i {
		tl.bins = append(tl.bins, bin{})
	}
	b := &tl.bins[i]
	if b.frames == 0 || float32(e) > b.max {
		b.max = float32(e)
	}
	b.frames++
	b.sum += float32(e)
}

// coarsen doubles the bins' width, merging each pair.
func (tl *timeline) coarsen() {
	half := (len(tl.bins) + 1) / 2
	for j := range half {
		b := tl.bins[2*j]
		if 2*j+1 < len(tl.bins) {
			b = b.merge(tl.bins[2*j+1])
		}
		tl.bins[j] = b
	}
	tl.bins = tl.bins[:half]
	tl.width *= 2
}

// Bins are a timeline as written: BinWidth seconds each from time 0,
// with each bin's classified frames and the largest and mean normalised
// entropy among them (null for a bin without any).
type Bins struct {
	BinWidth  float64    `json:"bin_width"`
	BinFrames []int      `json:"bin_frames"`
	Max       []*float64 `json:"bin_max_entropy_norm"`
	Mean      []*float64 `json:"bin_mean_entropy_norm"`
}

func (tl *timeline) out() Bins {
	b := Bins{BinWidth: float64(tl.width) / 1000, BinFrames: make([]int, len(tl.bins)),
		Max: make([]*float64, len(tl.bins)), Mean: make([]*float64, len(tl.bins))}
	for i, x := range tl.bins {
		b.BinFrames[i] = int(x.frames)
		if x.frames > 0 {
			m, mean := round6(float64(x.max)), round6(float64(x.sum)/float64(x.frames))
			b.Max[i], b.Mean[i] = &m, &mean
		}
	}
	return b
}

// round6 keeps six decimals: the bins hold float32 sums.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
