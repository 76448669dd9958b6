package pipeline

import (
	"sort"
	"time"
)

// IdleGap is the longest pause between two finished batches that still
// counts as work: a longer one (workers stopped overnight, a job re-driven
// in the morning) is idle time and left out of the rate.
const IdleGap = 2 * time.Minute

// workingRate is images per second over the time spent working: from the
// snapshot to the last finished batch, less every pause longer than IdleGap
// (a pause counts as IdleGap: a batch that took that long still worked).
// finished maps each done batch's results time to its image count.
func workingRate(start time.Time, finished map[time.Time]int) (float64, time.Duration) {
	times := make([]time.Time, 0, len(finished))
	images := 0
	for t, n := range finished {
		times = append(times, t)
		images += n
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	var working time.Duration
	prev := start
	for _, t := range times {
		if gap := t.Sub(prev); gap > 0 {
			working += min(gap, IdleGap)
		}
		prev = t
	}
	if working <= 0 || images == 0 {
		return 0, working
	}
	return float64(images) / working.Seconds(), working
}
