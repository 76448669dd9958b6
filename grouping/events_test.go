package grouping_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// frameAt is a classified frame of object (and topic) at ms with normalised
// entropy about e (its posterior over 4 classes has it exactly).
func frameAt(object, topic string, ms int64, e float64) pipeline.Record {
	key := recordkey.Of(object).OnTopic(topic).At(time.Duration(ms) * time.Millisecond).String()
	r := classified(key, posteriorWithEntropy(e), []string{"car", "bike", "dog", "cat"})
	t := float64(ms) / 1000
	r.T, r.Topic = &t, topic
	return r
}

// posteriorWithEntropy is a 4-class posterior whose normalised entropy is
// about e: one class at q, the rest sharing 1 − q, q found by bisection.
func posteriorWithEntropy(e float64) []float64 {
	h := func(q float64) float64 {
		r := (1 - q) / 3
		v := -q * math.Log(q)
		if r > 0 {
			v -= 3 * r * math.Log(r)
		}
		return v / math.Log(4)
	}
	lo, hi := 0.25, 1.0
	for range 60 {
		if mid := (lo + hi) / 2; h(mid) > e {
			lo = mid
		} else {
			hi = mid
		}
	}
	q := (lo + hi) / 2
	return []float64{q, (1 - q) / 3, (1 - q) / 3, (1 - q) / 3}
}

// drive is a minute of video sampled every second: uncertain (entropy
// 0.8) at the seconds in hot, 0.1 elsewhere, failed at the seconds in bad.
func drive(object string, hot, bad []int) []pipeline.Record {
	var recs []pipeline.Record
	for s := range 60 {
		switch {
		case slices.Contains(bad, s):
			recs = append(recs, failed(recordkey.Of(object).At(time.Duration(s)*time.Second).String()))
		case slices.Contains(hot, s):
			recs = append(recs, frameAt(object, "", int64(s)*1000, 0.8+float64(s)/1000))
		default:
			recs = append(recs, frameAt(object, "", int64(s)*1000, 0.1))
		}
	}
	return recs
}

// events lists a result's events as "start-end:frames".
func events(t *testing.T, res *grouping.Result) ([]string, []grouping.Event) {
	t.Helper()
	var short []string
	var all []grouping.Event
	if err := res.Events(func(e grouping.Event) error {
		short = append(short, fmt.Sprintf("%s%g-%g:%d", e.Topic, e.Start, e.End, len(e.Keys)))
		all = append(all, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return short, all
}

var entropyRule = pipeline.ReviewRule{Threshold: 0.5}

func TestUncertainFramesAtMostTwoStepsApartFormOneEvent(t *testing.T) {
	recs := drive("drive/front.mp4", []int{10, 11, 12, 14, 20, 21, 30, 33}, []int{31, 32})
	res := run(t, grouping.Config{Review: entropyRule, Step: time.Second}, recs)
	got, evs := events(t, res)
	// 14 is two steps after 12: one confident frame between does not split;
	// 33 is three after 30 (two failed frames between): it does.
	want := []string{"10-14:4", "20-21:2", "30-30:1", "33-33:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	e := evs[0]
	byKey := map[string]pipeline.Record{}
	for _, r := range recs {
		byKey[r.Key] = r
	}
	for i, k := range e.Keys {
		if r, ok := byKey[k]; !ok || *r.T != []float64{10, 11, 12, 14}[i] {
			t.Fatalf("event key %q is no record's key at its time", k)
		}
	}
	if e.ID != e.Keys[0] || e.Peak.Key != "drive/front.mp4#t=14.000" || e.Peak.T != 14 || e.Classes[0].Class != "car" ||
		e.Classes[0].Frames != 4 || e.Object != "drive/front.mp4" {
		t.Errorf("first event %+v", e)
	}
	tl := res.Timelines()[0]
	if tl.Frames != 60 || tl.Errors != 2 || tl.Classified != 58 || tl.Uncertain != 8 || tl.Events != 4 ||
		tl.Step != 1 || tl.Gap != 2 || tl.Start != 0 || tl.End != 59 {
		t.Errorf("timeline %+v", tl)
	}
}

func TestWithoutAStepTheStreamsMeanSpacingSetsTheGap(t *testing.T) {
	// 25 frames a second for 4 s: the step is 40 ms and the gap 80 ms.
	var recs []pipeline.Record
	hot := map[int]bool{10: true, 11: true, 13: true, 16: true, 50: true}
	for i := range 100 {
		e := 0.1
		if hot[i] {
			e = 0.9
		}
		recs = append(recs, frameAt("cam.mkv", "", int64(i)*40, e))
	}
	got, _ := events(t, run(t, grouping.Config{Review: entropyRule}, recs))
	if want := []string{"0.4-0.52:3", "0.64-0.64:1", "2-2:1"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	got, _ = events(t, run(t, grouping.Config{Review: entropyRule, Gap: 250 * time.Millisecond}, recs))
	if want := []string{"0.4-0.64:4", "2-2:1"}; !slices.Equal(got, want) {
		t.Fatalf("with a 250 ms gap: events %v, want %v", got, want)
	}
}

func TestALogsTopicsHaveTheirOwnEventsWhateverTheOrder(t *testing.T) {
	// Two topics of one log (an odd name) sampled every 500 ms, interleaved,
	// then shuffled as batches that finish in any order would give them.
	object := "logs/run #1 100%.mcap"
	var recs []pipeline.Record
	for i := range 40 {
		ms := int64(i) * 500
		front, rear := 0.1, 0.1
		if i >= 4 && i <= 6 {
			front = 0.7
		}
		if i == 5 || i == 20 || i == 21 {
			rear = 0.95
		}
		recs = append(recs, frameAt(object, "/cam/front", ms, front), frameAt(object, "/cam/rear", ms, rear))
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	res := run(t, grouping.Config{Review: entropyRule, Step: 500 * time.Millisecond}, recs)
	got, evs := events(t, res)
	slices.Sort(got)
	want := []string{"/cam/front2-3:3", "/cam/rear10-10.5:2", "/cam/rear2.5-2.5:1"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	keys := map[string]bool{}
	for _, r := range recs {
		keys[r.Key] = true
	}
	for _, e := range evs {
		for _, k := range e.Keys {
			if !keys[k] {
				t.Fatalf("event key %q is no record's", k)
			}
		}
		if e.Object != object {
			t.Errorf("event object %q", e.Object)
		}
	}
	if tls := res.Timelines(); len(tls) != 2 || tls[0].Frames != 40 || tls[1].Frames != 40 {
		t.Fatalf("timelines %+v", tls)
	}
}

func TestBySetSizeTheLargestSetIsTheEventsPeak(t *testing.T) {
	var recs []pipeline.Record
	sizes := []int{1, 2, 3, 2, 1, 1, 0}
	for i, n := range sizes {
		r := frameAt("v.mp4", "", int64(i)*1000, 0.9-0.1*float64(i))
		r.SetSize = &n
		recs = append(recs, r)
	}
	_, evs := events(t, run(t, grouping.Config{Review: pipeline.ReviewRule{BySetSize: true, Threshold: 0.5}, Step: time.Second}, recs))
	// Sizes 2, 3, 2 form one event (size 1 is accepted); the empty set at 6 s,
	// two accepted frames later, another.
	if len(evs) != 2 || len(evs[0].Keys) != 3 || evs[0].Peak.T != 2 || *evs[0].Peak.SetSize != 3 || evs[1].Start != 6 {
		t.Fatalf("events %+v", evs)
	}
}

func TestTheTimelineHoldsEveryFrameInItsBin(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var recs []pipeline.Record
	for range 5000 {
		ms := r.Int64N(3_600_000) // an hour of log, in any order
		recs = append(recs, frameAt("long.mcap", "/cam", ms, r.Float64()))
	}
	const bins = 100
	tl := run(t, grouping.Config{TimelineBins: bins}, recs).Timelines()[0]
	width := int64(1)
	last := int64(0)
	for _, rec := range recs {
		last = max(last, int64(math.Round(*rec.T*1000)))
	}
	for last/width >= bins {
		width *= 2
	}
	if tl.BinWidth != float64(width)/1000 || len(tl.BinFrames) > bins {
		t.Fatalf("%d bins of %g s, want at most %d of %g s", len(tl.BinFrames), tl.BinWidth, bins, float64(width)/1000)
	}
	frames, top, sum := make([]int, bins), make([]float64, bins), make([]float64, bins)
	for _, rec := range recs {
		b := int(int64(math.Round(*rec.T*1000)) / width)
		frames[b]++
		top[b] = math.Max(top[b], float64(float32(rec.EntropyNorm)))
		sum[b] += rec.EntropyNorm
	}
	for b := range tl.BinFrames {
		if tl.BinFrames[b] != frames[b] || frames[b] > 0 && (math.Abs(*tl.Max[b]-top[b]) > 1e-6 ||
			math.Abs(*tl.Mean[b]-sum[b]/float64(frames[b])) > 1e-5) || frames[b] == 0 && tl.Max[b] != nil {
			t.Fatalf("bin %d: %d frames, max %v; want %d, %.6f", b, tl.BinFrames[b], tl.Max[b], frames[b], top[b])
		}
	}
}
