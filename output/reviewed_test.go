package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/review"
	"github.com/didicm/didicm/storage"
)

// digitClasses are the reviewed job's classes.
var digitClasses = []string{"zero", "one", "two"}

// reviewed is a finished job over an archive of PNGs and DICOM files in
// three classes, with two reviewers' decisions scripted to cover every
// case of the agreement rule (see reviewedDecisions).
type reviewed struct {
	job     *output.Job
	inURL   string
	outURL  string
	records []pipeline.Record
}

// archiveFile is one input object: its bytes and the records it gives.
type archiveFile struct {
	object string
	data   []byte
	recs   []pipeline.Record
}

// reviewedArchive is the archive: key, predicted class, content.
func reviewedArchive(t testing.TB) []archiveFile {
	t.Helper()
	cine := dicomtest.NativeFrames(3, 8, 8)
	ct := dicomtest.NativeFrames(1, 8, 8)
	dicomRec := func(key string, pred, frame int) pipeline.Record {
		r := record(key, pred)
		r.StudyUID, r.SeriesUID, r.SOPUID, r.Frame = "1.2.3", "1.2.3.4", "1.2.3.4."+key[len(key)-1:], frame
		return r
	}
	failed := pipeline.Record{Record: classify.Record{Key: "c/6.png", ClassIndex: -1, Error: "png: invalid format",
		ErrorReason: "corrupt", Sampler: "cp", Steps: 2}}
	return []archiveFile{
		{"a/0.png", digitPNG(t, 0), []pipeline.Record{record("a/0.png", 0)}},
		{"a/1.png", digitPNG(t, 1), []pipeline.Record{record("a/1.png", 2)}},
		{"a/2.png", digitPNG(t, 1), []pipeline.Record{record("a/2.png", 1)}},
		{"a/3.png", digitPNG(t, 0), []pipeline.Record{record("a/3.png", 0)}},
		{"b/4.png", digitPNG(t, 0), []pipeline.Record{record("b/4.png", 2)}},
		{"b/5.png", digitPNG(t, 2), []pipeline.Record{record("b/5.png", 2)}},
		{"scans/ct.dcm", ct, []pipeline.Record{dicomRec("scans/ct.dcm", 2, 0)}},
		{"scans/cine.dcm", cine, []pipeline.Record{dicomRec("scans/cine.dcm#frame=1", 0, 1),
			dicomRec("scans/cine.dcm#frame=2", 1, 2), dicomRec("scans/cine.dcm#frame=3", 1, 3)}},
		{"raw/x", digitPNG(t, 1), []pipeline.Record{record("raw/x", 1)}},
		{"c/6.png", []byte("not a png"), []pipeline.Record{failed}},
		{"", nil, []pipeline.Record{record("gone.png", 0)}}, // decided, then removed from the archive
	}
}

// reviewedDecisions are the two reviewers' decisions, with the labels and
// conflicts they make: one line does not parse and is skipped.
var reviewedDecisions = map[string][]review.Decision{
	"ana": {
		{Key: "a/0.png", Decision: review.Accept, Class: "zero", Time: "2026-12-02T08:00:01.000Z"},
		{Key: "a/1.png", Decision: review.Pick, Class: "one", Time: "2026-12-02T08:00:02.000Z"},
		{Key: "a/2.png", Decision: review.Pick, Class: "one", Time: "2026-12-02T08:00:03.000Z"},
		{Key: "a/3.png", Decision: review.Unsure, Time: "2026-12-02T08:00:04.000Z"},
		{Key: "b/4.png", Decision: review.Pick, Class: "zero", Time: "2026-12-02T08:00:09.000Z"}, // her last word
		{Key: "b/4.png", Decision: review.Pick, Class: "two", Time: "2026-12-02T08:00:05.000Z"},
		{Key: "b/5.png", Decision: review.Unsure, Time: "2026-12-02T08:00:06.000Z"},
		{Key: "scans/cine.dcm#frame=2", Decision: review.Pick, Class: "one", Time: "2026-12-02T08:00:07.000Z"},
		{Key: "raw/x", Decision: review.Accept, Class: "one", Time: "2026-12-02T08:00:08.000Z"},
	},
	"ben": {
		{Key: "a/0.png", Decision: review.Accept, Class: "zero", Time: "2026-12-02T09:00:01.000Z"},
		{Key: "a/2.png", Decision: review.Pick, Class: "two", Time: "2026-12-02T09:00:02.000Z"},
		{Key: "b/5.png", Decision: review.Accept, Class: "two", Time: "2026-12-02T09:00:03.000Z"},
		{Key: "scans/ct.dcm", Decision: review.Pick, Class: "two", Time: "2026-12-02T09:00:04.000Z"},
		{Key: "gone.png", Decision: review.Pick, Class: "zero", Time: "2026-12-02T09:00:05.000Z"},
	},
}

// The labels and conflicts reviewedDecisions make.
var (
	wantLabels = map[string]string{"a/0.png": "zero", "a/1.png": "one", "b/4.png": "zero",
		"scans/cine.dcm#frame=2": "one", "raw/x": "one", "scans/ct.dcm": "two", "gone.png": "zero"}
	wantConflicts = map[string]string{"a/2.png": output.ConflictDisagree, "a/3.png": output.ConflictUnsure,
		"b/5.png": output.ConflictUnsure}
)

// newReviewed writes the archive to inURL, finishes the job (results in
// batches of 4) in outURL, and stores the scripted decisions, one review
// session per reviewer.
func newReviewed(t testing.TB, inURL, outURL string) *reviewed {
	t.Helper()
	ctx := context.Background()
	in, err := storage.Open(ctx, inURL)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rv := &reviewed{inURL: inURL, outURL: outURL}
	for _, f := range reviewedArchive(t) {
		if f.object != "" {
			if err := in.Write(ctx, f.object, f.data, ""); err != nil {
				t.Fatal(err)
			}
		}
		rv.records = append(rv.records, f.recs...)
	}
	spec := jobs.Spec{ID: "night", InputURL: inURL, OutputURL: outURL, ClassNames: digitClasses,
		Model: "models/didirn-digits.onnx", ModelSHA256: "5f1c0a9e8d7c6b5a4f3e2d1c"}
	spec.Defaults()
	spec.ReviewThreshold = 0 // every image with any doubt is listed
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	groupingtest.Finish(t, store, spec, rv.records, 4)
	for _, name := range []string{"ana", "ben"} {
		storeDecisions(t, store, name, reviewedDecisions[name], true)
	}
	if rv.job, err = output.Open(ctx, store); err != nil {
		t.Fatal(err)
	}
	return rv
}

// storeDecisions stores ds in a new review session of reviewer, as the
// review page does, with a torn line among them when torn.
func storeDecisions(t testing.TB, store *jobs.Store, reviewer string, ds []review.Decision, torn bool) {
	t.Helper()
	rs, err := store.NewReviewSession(reviewer)
	if err != nil {
		t.Fatal(err)
	}
	var lines []byte
	for i, d := range ds {
		d.Reviewer = reviewer
		line, _ := json.Marshal(d)
		lines = append(append(lines, line...), '\n')
		if torn && i == 1 {
			lines = append(lines, `{"key":"a/0.png","decision":"cla`+"\n"...)
		}
	}
	if _, _, err := rs.Append(context.Background(), lines); err != nil {
		t.Fatal(err)
	}
}

// record is a classified image of class pred (posterior 0.6, 0.3, 0.1
// rotated to put 0.6 on pred).
func record(key string, pred int) pipeline.Record {
	p := make([]float64, 3)
	for i, v := range []float64{0.6, 0.3, 0.1} {
		p[(pred+i)%3] = v
	}
	r := pipeline.Record{Record: classify.Record{Key: key, Class: digitClasses[pred], ClassIndex: pred, Posterior: p,
		MaxProb: 0.6, Margin: 0.3, Sampler: "cp", Steps: 2, NFE: 2}}
	for _, v := range p {
		r.Entropy -= v * math.Log(v)
	}
	r.EntropyNorm = r.Entropy / math.Log(3)
	return r
}

// digitPNG is an 8×8 grey PNG with a bright column at 2·class+1.
func digitPNG(t testing.TB, class int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		img.SetGray(2*class+1, y, color.Gray{Y: 250})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// openDest opens a destination, closed at the test's end.
func openDest(t testing.TB, where string) *output.Dest {
	t.Helper()
	d, err := output.OpenDest(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
