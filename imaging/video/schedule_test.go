package video_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

const ms = time.Millisecond

// take runs a schedule over frame times ts and returns the times taken.
func take(every, from, to time.Duration, ts []time.Duration) []time.Duration {
	s := video.NewSchedule(every, from, to)
	var out []time.Duration
	for _, t := range ts {
		if s.Done() {
			break
		}
		if s.Take(t) {
			out = append(out, t)
		}
	}
	return out
}

func TestScheduleTakesTheFirstFrameAtOrAfterEachSampleTime(t *testing.T) {
	frames := []time.Duration{0, 40 * ms, 80 * ms, 120 * ms, 400 * ms, 440 * ms, 1000 * ms, 1040 * ms}
	tests := []struct {
		name             string
		every, from, to  time.Duration
		frames, expected []time.Duration
	}{
		{"a step of 100 ms takes the frames after the sample times, once each", 100 * ms, 0, 0, frames,
			[]time.Duration{0, 120 * ms, 400 * ms, 1000 * ms}},
		{"a step shorter than the frames' gap takes every frame", 10 * ms, 0, 0, frames, frames},
		{"a step of 0 takes every frame in range", 0, 80 * ms, 440 * ms, frames,
			[]time.Duration{80 * ms, 120 * ms, 400 * ms}},
		{"a range owns the sample times in it, not the frames", 100 * ms, 200 * ms, 500 * ms, frames,
			[]time.Duration{400 * ms}},
		{"a frame after a gap belongs to the range of the first sample time in the gap", 100 * ms, 400 * ms, 0, frames,
			[]time.Duration{1000 * ms}},
		{"frames before the stream's start are never taken", 100 * ms, 0, 0,
			[]time.Duration{-80 * ms, -40 * ms, 0, 40 * ms}, []time.Duration{0}},
		{"the first frame after a start before 0 takes sample time 0", 100 * ms, 0, 0,
			[]time.Duration{-80 * ms, 30 * ms, 90 * ms, 110 * ms}, []time.Duration{30 * ms, 110 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := take(tt.every, tt.from, tt.to, tt.frames)
			if !slices.Equal(got, tt.expected) {
				t.Fatalf("took %v, want %v", got, tt.expected)
			}
		})
	}
}

// TestRangesTileAFile: for random frame times (variable gaps, long holes)
// and random range splits, the frames taken over the ranges, each range
// starting from the frame before it as a decoder after a seek does, are
// those taken over the whole file.
func TestRangesTileAFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		var ts []time.Duration
		for t := time.Duration(rng.IntN(50)) * ms; t < 20*time.Second; {
			ts = append(ts, t)
			t += time.Duration(1+rng.IntN(60)) * ms
			if rng.IntN(100) == 0 {
				t += time.Duration(rng.IntN(3000)) * ms
			}
		}
		every := time.Duration(rng.IntN(1500)) * ms
		whole := take(every, 0, 0, ts)
		var joined []time.Duration
		d := time.Duration(1+rng.IntN(5000)) * ms
		for from := time.Duration(0); from < 21*time.Second; from += d {
			i, _ := slices.BinarySearch(ts, from) // the first frame at or after From
			start := max(i-1-rng.IntN(3), 0)      // decoding starts a few frames before it
			if start > 0 && rng.IntN(2) == 0 {
				start = i - 1
			}
			joined = append(joined, take(every, from, from+d, ts[start:])...)
		}
		if !slices.Equal(whole, joined) {
			t.Fatalf("trial %d, every %v, ranges of %v: whole %v\nranges %v", trial, every, d, whole, joined)
		}
	}
}

func TestScheduleIsDoneAtTheEndOfItsRange(t *testing.T) {
	s := video.NewSchedule(time.Second, 0, 3*time.Second)
	for _, tt := range []struct {
		t    time.Duration
		done bool
	}{{0, false}, {1900 * ms, false}, {2000 * ms, true}} {
		s.Take(tt.t)
		if s.Done() != tt.done {
			t.Fatalf("after a frame at %v: Done %v, want %v", tt.t, s.Done(), tt.done)
		}
	}
}

func TestMissingListsTheSampleTimesAfterTheLastFrame(t *testing.T) {
	s := video.NewSchedule(time.Second, 0, 0)
	s.Take(0)
	s.Take(2500 * ms)
	got := slices.Collect(s.Missing(6*time.Second, 40*ms))
	if want := []time.Duration{3 * time.Second, 4 * time.Second, 5 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("missing %v, want %v", got, want)
	}
	r := video.NewSchedule(time.Second, 7500*ms, 10*time.Second)
	got = slices.Collect(r.Missing(30*time.Second, 40*ms))
	if want := []time.Duration{8 * time.Second, 9 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("missing in a range read nothing of: %v, want %v", got, want)
	}
	e := video.NewSchedule(0, 0, 0)
	e.Take(2 * time.Second)
	if got = slices.Collect(e.Missing(30*time.Second, 40*ms)); !slices.Equal(got, []time.Duration{2040 * ms}) {
		t.Fatalf("missing with every frame: %v, want the one after the last", got)
	}
}
