package dicom_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
)

// TestFourDeflatedBombsAtOnceStayWithinTheDecodeBudget: four 64 MiB zero
// bombs (~85 KB each) decoded at once under one 16 MiB budget, as a worker
// with four batches in flight: each is its 8×8 image and everything they
// allocate together stays under the budget. Inflated whole, the four took
// over 600 MB outside the budget.
func TestFourDeflatedBombsAtOnceStayWithinTheDecodeBudget(t *testing.T) {
	budget := imaging.NewBudget(16 << 20)
	lim := imaging.Limits{MaxDecodedBytes: budget.Size(), Budget: budget}
	in := imaging.Input{Channels: 1, Height: 8, Width: 8, Mean: []float32{0}, Std: []float32{1},
		Intensity: imaging.Intensity{Kind: "minmax"}}
	files := [][]byte{dicom.DeflatedBomb(dicom.ZerosAfterPixels, 64), dicom.DeflatedBomb(dicom.ZerosInPixels, 64),
		dicom.DeflatedBomb(dicom.ZerosAfterPixels, 64), dicom.DeflatedBomb(dicom.ZerosInPixels, 64)}
	errs := make([]error, len(files))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for i, b := range files {
		wg.Go(func() {
			s, err := imaging.PreprocessAll(b, in, lim)
			switch {
			case err != nil:
				errs[i] = err
			case len(s) != 1 || s[0].Err != nil || len(s[0].Input) != 64 || s[0].Input[63] != 1:
				t.Errorf("file %d: %d samples %+v, want the 8×8 image", i, len(s), s)
			}
		})
	}
	wg.Wait()
	runtime.ReadMemStats(&after)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(budget.Size()) {
		t.Fatalf("four 8×8 images allocated %d bytes, over the %d-byte budget", alloc, budget.Size())
	}
	if budget.Peak() > budget.Size() {
		t.Fatalf("peak %d bytes held, budget %d", budget.Peak(), budget.Size())
	}
}
