package grouping_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// generated gives n records of 10³ interleaved studies (record i is of
// study i mod 10³, two series each, K=10) and, when frames is set, as
// many frames of 10 videos, all confident; at the end of each pass it
// notes the live heap.
func generated(n int, frames bool, live *uint64) grouping.Records {
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	return func(fn func(pipeline.Record) error) error {
		r := rand.New(rand.NewPCG(1, uint64(n)))
		for i := range n {
			rec := classified(fmt.Sprintf("studies/%d/series/%d/instances/%d", i%1000, i%2, i), randomPosterior(r, 10), names)
			rec.StudyUID, rec.SeriesUID = fmt.Sprintf("1.2.840.%d", i%1000), fmt.Sprintf("1.2.840.%d.%d", i%1000, i%2)
			if err := fn(rec); err != nil {
				return err
			}
			if frames {
				if err := fn(frameAt(fmt.Sprintf("drive/%d.mp4", i%10), "", int64(i/10)*100, 0.1)); err != nil {
					return err
				}
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		*live = max(*live, ms.HeapAlloc)
		return nil
	}
}

// heldBy is the live heap while Run holds n records' groups, over the
// heap before, and the bytes Run allocated per record.
func heldBy(t *testing.T, n int, frames bool) (held uint64, perRecord float64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var live uint64
	res, err := grouping.Run(grouping.Config{Review: entropyRule}, generated(n, frames, &live))
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if len(res.Studies()) != 1000 {
		t.Fatalf("%d studies", len(res.Studies()))
	}
	runtime.KeepAlive(res)
	return live - before.HeapAlloc, float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
}

func TestMemoryFollowsTheGroupsNotTheRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("10⁵ records")
	}
	small, _ := heldBy(t, 10_000, true)
	large, perRecord := heldBy(t, 100_000, true)
	t.Logf("held: %d KiB for 10⁴ records, %d KiB for 10⁵ (10³ studies, 2×10³ series, 10 videos); %.0f bytes allocated per record, generation included",
		small>>10, large>>10, perRecord)
	// 10³ studies and 2×10³ series at K=10 with 5 drivers each, and 10
	// timelines of 240 bins, are a few hundred KiB; ten times the records
	// must not add to them.
	if large > 4<<20 {
		t.Errorf("%d KiB held for 10³ studies", large>>10)
	}
	if large > small+256<<10 {
		t.Errorf("ten times the records held %d KiB more (%d against %d)", (large-small)>>10, large>>10, small>>10)
	}
}
