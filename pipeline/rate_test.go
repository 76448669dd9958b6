package pipeline

import (
	"math"
	"testing"
	"time"
)

func TestWorkingRateIgnoresTheNightBetweenRuns(t *testing.T) {
	start := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	finished := map[time.Time]int{}
	for i := 1; i <= 10; i++ { // 10 batches of 100 in the evening, one every 10 s
		finished[start.Add(time.Duration(i)*10*time.Second)] = 100
	}
	morning := start.Add(9 * time.Hour) // the rest re-driven after the night
	for i := 1; i <= 10; i++ {
		finished[morning.Add(time.Duration(i)*10*time.Second)] = 100
	}
	rate, working := workingRate(start, finished)
	// 100 s of work in the evening, IdleGap for the night (the first morning
	// batch included), then 90 s between the morning's batches.
	if want := 190*time.Second + IdleGap; working != want {
		t.Fatalf("working time %s, want %s", working, want)
	}
	if want := 2000 / (190 + IdleGap.Seconds()); math.Abs(rate-want) > 1e-9 {
		t.Fatalf("rate %.2f images/s, want %.2f (from enqueue it would be %.2f)", rate, want, 2000/morning.Add(100*time.Second).Sub(start).Seconds())
	}
	if r, _ := workingRate(start, nil); r != 0 {
		t.Fatalf("rate %v with nothing done", r)
	}
}
