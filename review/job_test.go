package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/review"
)

// oddClass is a class name that must show as text, not markup.
const oddClass = `<owl & "friends">`

// testJob is a finished job in a file:// bucket: its spec, PNG inputs and
// review list, in the order the page must show it.
type testJob struct {
	dir   string // the bucket's folder (file://)
	url   string
	store *jobs.Store
	order []string // keys, most uncertain first
	sizes map[string][2]int
}

func newTestJob(t *testing.T) *testJob {
	t.Helper()
	ctx := context.Background()
	j := &testJob{dir: t.TempDir(), sizes: map[string][2]int{}}
	url := "file://" + j.dir
	j.url = url
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: url, Prefix: "out", ID: "night-1"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	j.store = store
	spec := jobs.Spec{ID: "night-1", InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
		Sampler: "cp", BatchSize: 10}
	spec.Defaults()
	must(t, store.WriteSpec(ctx, spec))

	size := func(n int) *int { return &n }
	recs := []pipeline.Record{ // in the list's (batch) order, not the page's
		rec("archive/d.png", "dog", 1, 0.95, size(1), []float64{0.05, 0.6, 0.2, 0.15}, nil),
		rec("archive/broken.png", "", -1, 0, nil, nil, nil),
		rec("archive/c.png", "fox", 2, 0.40, size(2), []float64{0.1, 0.2, 0.6, 0.1}, nil),
		rec("archive/a.png", "cat", 0, 0.50, size(3), nil, []classify.ClassProb{
			{Class: "cat", Index: 0, Prob: 0.4}, {Class: oddClass, Index: 3, Prob: 0.35}, {Class: "dog", Index: 1, Prob: 0.25}}),
		rec("archive/b.png", "dog", 1, 0.90, size(2), []float64{0.3, 0.45, 0.05, 0.2}, nil),
	}
	recs[1].Error, recs[1].ErrorReason = "png: invalid format: not a PNG file", "corrupt"
	recs[3].PredictionSet = []string{"cat", oddClass, "dog"}
	recs[4].PredictionSet = []string{"dog", "cat"}
	recs[2].PredictionSet = []string{"fox", "dog"}
	recs[0].PredictionSet = []string{"dog"}
	j.order = []string{"archive/a.png", "archive/b.png", "archive/c.png", "archive/d.png", "archive/broken.png"}

	var list bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		must(t, err)
		list.Write(append(line, '\n'))
	}
	must(t, store.WriteSummary(ctx, pipeline.Summary{JobID: "night-1"}, list.Bytes()))

	dims := map[string][2]int{"a.png": {900, 600}, "b.png": {64, 64}, "c.png": {400, 1000}, "d.png": {28, 28}}
	must(t, os.MkdirAll(filepath.Join(j.dir, "archive"), 0o755))
	for name, wh := range dims {
		j.sizes["archive/"+name] = wh
		must(t, os.WriteFile(filepath.Join(j.dir, "archive", name), pngOf(t, wh[0], wh[1]), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(j.dir, "archive", "broken.png"), []byte("not a png"), 0o644))
	return j
}

func rec(key, class string, index int, ent float64, set *int, post []float64, top []classify.ClassProb) pipeline.Record {
	r := pipeline.Record{Job: "night-1", ModelSHA256: "5f1c0a", Provider: "cpu"}
	r.Key, r.Class, r.ClassIndex, r.EntropyNorm, r.SetSize, r.Posterior, r.TopK = key, class, index, ent, set, post, top
	r.Sampler, r.Steps = "cp", 8
	if class != "" {
		r.MaxProb = 0.5
	}
	return r
}

// pngOf draws a w×h gradient.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(255 * x / w), uint8(255 * y / h), 160, 255})
		}
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// open starts a review server on the job for reviewer.
func (j *testJob) open(t *testing.T, reviewer, token string) *review.Server {
	t.Helper()
	return j.openWith(t, review.Config{Reviewer: reviewer, Token: token})
}

// openWith starts a review server on the job with cfg.
func (j *testJob) openWith(t *testing.T, cfg review.Config) *review.Server {
	t.Helper()
	cfg.Store = j.store
	s, err := review.Open(context.Background(), cfg)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// decisions reads a reviewer's stored decisions from every session, in
// the order they were made.
func (j *testJob) decisions(t *testing.T, reviewer string) []review.Decision {
	t.Helper()
	ctx := context.Background()
	objs, err := j.store.ListReviews(ctx)
	must(t, err)
	var out []review.Decision
	for _, o := range objs {
		if o.Reviewer != reviewer {
			continue
		}
		data, err := j.store.ReadReviewObject(ctx, o.Key)
		must(t, err)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var d review.Decision
			dec := json.NewDecoder(strings.NewReader(line))
			dec.DisallowUnknownFields()
			must(t, dec.Decode(&d))
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, func(a, b review.Decision) int { return strings.Compare(a.Time, b.Time) })
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
