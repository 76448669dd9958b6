package classify

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/modelmeta"
)

// wide is fake with a side×side input: large model inputs make holding
// every frame of a long file visible in the heap.
type wide struct {
	fake
	side int
	peak uint64 // the heap in use at the largest model call so far
}

func (w *wide) Metadata() *modelmeta.Metadata {
	m := w.fake.Metadata()
	m.Height, m.Width = w.side, w.side
	return m
}

func (w *wide) LogScores(ctx context.Context, images [][]float32, labels []int64, s []float32, out []float32) error {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peak = max(w.peak, ms.HeapAlloc)
	return w.fake.LogScores(ctx, images, labels, s, out)
}

// A long multi-frame file is scored as it is decoded: the model inputs of
// 3,000 frames (768 MB at 256×256) never sit in memory together, and the
// records come out one per frame, in frame order.
func TestALongMultiFrameFileStreamsThroughTheModel(t *testing.T) {
	m := &wide{side: 256}
	e, err := New(m, Options{Sampler: "cp", Steps: 1, MicroBatch: 16, DecodeWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	const frames = 3000
	data := dicomtest.NativeFrames(frames, 4, 4)
	var keys []string
	_, err = e.Stream(context.Background(), 1, 16, func(context.Context, int) Item { return Item{Key: "cine.dcm", Data: data} },
		func(r Record) error {
			keys = append(keys, r.Key)
			if r.Error != "" {
				return fmt.Errorf("%s: %s", r.Key, r.Error)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != frames || keys[0] != "cine.dcm#frame=1" || keys[frames-1] != fmt.Sprintf("cine.dcm#frame=%d", frames) {
		t.Fatalf("%d records, first %q", len(keys), keys[:min(2, len(keys))])
	}
	const all = frames * 256 * 256 * 4
	t.Logf("heap at the largest model call: %d MB (every frame's input: %d MB)", m.peak>>20, all>>20)
	if m.peak > all/4 {
		t.Fatalf("heap at a model call reached %d MB; every frame's input is %d MB", m.peak>>20, all>>20)
	}
}

// A file that declares more frames than the limit is one error record,
// whatever its frames would cost: 1,000,000 frames of 1×1 at 1 bit fit in
// 125 kB.
func TestAFileWithTooManyFramesIsOneErrorRecord(t *testing.T) {
	d := dicomtest.GreyHeader(1_000_000, 1, 1)
	px := make([]byte, 1_000_000)
	d.El(0x7FE0, 0x0010, "OW", px)
	many := dicomtest.Part10("1.2.840.10008.1.2.1", d.Bytes())
	e, err := New(fake{}, Options{Sampler: "cp", Steps: 1, Sampling: imaging.Sampling{MaxFrames: 100}})
	if err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	recs, err := e.Classify(context.Background(), []Item{{Key: "many.dcm", Data: many}, {Key: "b.png", Data: pngOf(t, 255)}})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Key != "many.dcm" || recs[0].ErrorReason != "too_many_frames" || recs[1].Class != "bright" {
		t.Fatalf("records %+v", recs)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Fatalf("refusing it allocated %d MB", alloc>>20)
	}

}
