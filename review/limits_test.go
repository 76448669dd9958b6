package review_test

import (
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/pipeline"
)

// peakRSS runs f and returns how far the process's resident memory rose
// above where it was when f started, at its peak.
func peakRSS(t *testing.T, f func()) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	must(t, procstat.ResetPeak())
	base, err := procstat.PeakRSS()
	must(t, err)
	f()
	peak, err := procstat.PeakRSS()
	must(t, err)
	return peak - base
}

// get asks h for path as a loopback client would.
func get(h http.Handler, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "http://127.0.0.1:8090"+path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func imagePath(key, size string) string {
	p := "/image?key=" + url.QueryEscape(key)
	if size != "" {
		p += "&size=" + size
	}
	return p
}

const mib = 1 << 20

// hugeInputs are a 4,096-frame RLE file, a 6500×6500 grey PNG and a
// 6500×6500 RGBA PNG (made once: encoding them takes a second).
var hugeInputs = sync.OnceValue(func() map[string][]byte {
	return map[string][]byte{
		"archive/long.dcm": dicomtest.RLEFrames(4096, 128, 128),
		"archive/grey.png": greyPNG(6500, 6500, 0),
		"archive/rgba.png": rgbaPNG(6500, 6500),
	}
})

// hugeJob is a job whose review list holds the huge inputs, the RLE file's
// first and last frames.
func hugeJob(t *testing.T) *testJob {
	t.Helper()
	inputs := hugeInputs()
	var recs []pipeline.Record
	for _, key := range []string{"archive/long.dcm#frame=1", "archive/long.dcm#frame=4096", "archive/grey.png", "archive/rgba.png"} {
		recs = append(recs, rec(key, "cat", 0, 0.9, nil, []float64{0.5, 0.5}, nil))
	}
	return jobOn(t, "file://"+t.TempDir(), recs, inputs, nil)
}

func TestOneFrameOfALongRLEFileDecodesAlone(t *testing.T) {
	h := hugeJob(t).open(t, "alice", "").Handler()
	var first, last *httptest.ResponseRecorder
	grew := peakRSS(t, func() {
		first = get(h, imagePath("archive/long.dcm#frame=1", ""))
		last = get(h, imagePath("archive/long.dcm#frame=4096", ""))
	})
	for _, w := range []*httptest.ResponseRecorder{first, last} {
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	a, b := decodePNG(t, first.Body.Bytes()), decodePNG(t, last.Body.Bytes())
	if a.Bounds().Dx() != 128 || b.Bounds().Dx() != 128 {
		t.Fatalf("frames of %v and %v, want 128 px", a.Bounds(), b.Bounds())
	}
	if grew > 64*mib {
		t.Fatalf("two frames of a 4,096-frame file took %d MiB", grew/mib)
	}
	t.Logf("two frames: resident memory rose %d MiB", grew/mib)
}

func TestAHugePNGsThumbnailIsMadeInBoundedMemory(t *testing.T) {
	h := hugeJob(t).open(t, "alice", "").Handler()
	var w *httptest.ResponseRecorder
	grew := peakRSS(t, func() { w = get(h, imagePath("archive/grey.png", "")) })
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if b := decodePNG(t, w.Body.Bytes()).Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("thumbnail %v, want 512×512", b)
	}
	// The decoded image alone is 42 MB (6500² grey bytes).
	if grew > 192*mib {
		t.Fatalf("a 6500×6500 thumbnail took %d MiB", grew/mib)
	}
	t.Logf("6500² grey thumbnail: resident memory rose %d MiB", grew/mib)
}

func TestAPNGAboveTheDecodeLimitIsRefusedFromItsHeader(t *testing.T) {
	h := hugeJob(t).open(t, "alice", "").Handler()
	var w *httptest.ResponseRecorder
	grew := peakRSS(t, func() { w = get(h, imagePath("archive/rgba.png", "")) })
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "limit") {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if grew > 32*mib {
		t.Fatalf("refusing a 6500×6500 RGBA PNG took %d MiB", grew/mib)
	}
}

func TestParallelFullSizeRequestsStayWithinTheBudget(t *testing.T) {
	h := hugeJob(t).open(t, "alice", "").Handler()
	codes := make([]int, 3)
	grew := peakRSS(t, func() {
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				w := get(h, imagePath("archive/grey.png", "full"))
				codes[i] = w.Code
				if w.Code != 200 {
					return
				}
				img, err := png.Decode(w.Body)
				if err != nil {
					t.Errorf("full size: %v", err)
				} else if b := img.Bounds(); b.Dx() != 4096 {
					t.Errorf("full size %v, want 4096 px", b)
				}
			})
		}
		wg.Wait()
	})
	for _, c := range codes {
		if c != 200 {
			t.Fatalf("statuses %v", codes)
		}
	}
	if grew > 512*mib {
		t.Fatalf("three parallel full-size 6500² images took %d MiB", grew/mib)
	}
	t.Logf("three parallel full-size 6500² images: resident memory rose %d MiB", grew/mib)
}
