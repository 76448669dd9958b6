package output_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// mixedJob is a finished job in a file:// bucket: two DICOM studies (one
// sure, one torn between classes with failed images), a video with two
// uncertain stretches, a log with two topics and a few PNGs, in batches
// of 7 records.
func mixedJob(t *testing.T) (*jobs.Store, string, []pipeline.Record) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var recs []pipeline.Record
	recs = append(recs, groupingtest.Study(r, "1.2.840.1", 2, 6, 0, 0.9, false)...)
	recs = append(recs, groupingtest.Study(r, "1.2.840.2", 1, 10, 1, 0.1, true)...)
	recs = append(recs, groupingtest.Frames(r, "drive/front.mp4", "", time.Second, 30, map[int]bool{5: true, 6: true, 8: true, 20: true})...)
	for _, topic := range []string{"/cam/front", "/cam/rear"} {
		recs = append(recs, groupingtest.Frames(r, "logs/run.mcap", topic, 500*time.Millisecond, 20, map[int]bool{3: true, 4: true})...)
	}
	recs = append(recs, groupingtest.Image("photos/a.png", groupingtest.Posterior(r, 2, 0.9)), groupingtest.Failed("photos/b.png"))
	dir := t.TempDir()
	store := openStore(t, "file://"+dir)
	spec := jobs.Spec{ID: "mixed", InputURL: "file://" + dir, OutputURL: "file://" + dir, ReviewThreshold: 0.5,
		ClassNames: groupingtest.Classes, Sampling: jobs.Sampling{Every: "1s"}}
	spec.Defaults()
	groupingtest.Finish(t, store, spec, recs, 7)
	return store, dir, recs
}

func openStore(t *testing.T, url string) *jobs.Store {
	t.Helper()
	store, err := jobs.OpenStore(context.Background(), jobs.Ref{OutputURL: url, ID: "mixed"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// lines reads a group file's lines as T; none when it is not there.
func lines[T any](t *testing.T, store *jobs.Store, f jobs.GroupFile) []T {
	t.Helper()
	r, err := store.OpenGroupFile(context.Background(), f)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var version struct {
			V *int `json:"format_version"`
		}
		var v T
		if json.Unmarshal(sc.Bytes(), &version) != nil || version.V == nil || *version.V != grouping.FormatVersion {
			t.Fatalf("%s: a line without format_version %d: %s", f, grouping.FormatVersion, sc.Bytes())
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestTheStudiesWriterWritesEachGroupFileFromTheStoredRecords(t *testing.T) {
	ctx := context.Background()
	store, dir, _ := mixedJob(t)
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	w := output.Studies{}
	if w.Name() != "studies" {
		t.Errorf("name %q", w.Name())
	}
	if err := w.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	studies := lines[grouping.Group](t, store, jobs.StudiesFile)
	if len(studies) != 2 || studies[0].StudyUID != "1.2.840.1" || studies[0].Images != 12 || studies[0].SeriesCount != 2 ||
		studies[0].Class != "normal" || studies[0].Review || len(studies[0].Drivers) != grouping.DefaultDrivers {
		t.Fatalf("studies %+v", studies)
	}
	if s := studies[1]; s.Errors != 1 || s.Classified != 9 || !s.Review || s.Rule != grouping.Mean {
		t.Errorf("the uncertain study: %+v", s)
	}
	if series := lines[grouping.Group](t, store, jobs.SeriesFile); len(series) != 3 || series[2].SeriesUID != "1.2.840.2.1" {
		t.Errorf("series %+v", series)
	}
	events := lines[grouping.Event](t, store, jobs.EventsFile)
	var spans []string
	for _, e := range events {
		spans = append(spans, e.Topic+" "+e.Keys[0]+" "+e.Keys[len(e.Keys)-1])
	}
	want := []string{" drive/front.mp4#t=5.000 drive/front.mp4#t=8.000", " drive/front.mp4#t=20.000 drive/front.mp4#t=20.000",
		"/cam/front logs/run.mcap#topic=/cam/front#t=1.500 logs/run.mcap#topic=/cam/front#t=2.000",
		"/cam/rear logs/run.mcap#topic=/cam/rear#t=1.500 logs/run.mcap#topic=/cam/rear#t=2.000"}
	if !slices.Equal(spans, want) {
		t.Errorf("events %q, want %q", spans, want)
	}
	if tls := lines[grouping.Timeline](t, store, jobs.TimelinesFile); len(tls) != 3 || tls[0].Frames != 30 || tls[0].Events != 2 {
		t.Errorf("timelines %+v", tls)
	}

	// Again: the same files, byte for byte.
	before := readAll(t, filepath.Join(dir, store.Layout().Group(jobs.EventsFile)))
	if err := w.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	if after := readAll(t, filepath.Join(dir, store.Layout().Group(jobs.EventsFile))); after != before {
		t.Error("writing again changed events.jsonl")
	}
}

func TestAJobWithoutStudiesOrVideosHasNoGroupFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openStore(t, "file://"+dir)
	spec := jobs.Spec{ID: "mixed", InputURL: "file://" + dir, OutputURL: "file://" + dir}
	spec.Defaults()
	r := rand.New(rand.NewPCG(3, 4))
	groupingtest.Finish(t, store, spec, []pipeline.Record{groupingtest.Image("a.png", groupingtest.Posterior(r, 1, 0.5))}, 5)
	// What an earlier run left goes.
	if err := store.WriteGroupFile(ctx, jobs.StudiesFile, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := (output.Studies{}).Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	for _, f := range jobs.GroupFiles {
		if _, err := os.Stat(filepath.Join(dir, store.Layout().Group(f))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is there (%v)", f, err)
		}
	}
}

func TestParquetResultsAreRefusedByName(t *testing.T) {
	ctx := context.Background()
	store, dir, _ := mixedJob(t)
	if err := os.Remove(filepath.Join(dir, store.Layout().Results(0))); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteResultsAs(ctx, 0, jobs.FormatParquet, []byte("PAR1"), "test"); err != nil {
		t.Fatal(err)
	}
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := (output.Studies{}).Write(ctx, job); !errors.Is(err, jobs.ErrParquetResults) {
		t.Fatalf("got %v, want ErrParquetResults", err)
	}
}

func readAll(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// With a study calibration (calibrate --by study) every classified study
// of studies.jsonl has its prediction set, made as the calibration says
// from the study's posterior and its UID's u, and is flagged for review
// unless the set holds exactly one class.
func TestStudiesGetPredictionSetsFromAStudyCalibration(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	k := len(groupingtest.Classes)
	post := make([][]float64, 400)
	labels := make([]int, len(post))
	for i := range post {
		labels[i] = i % k
		post[i] = groupingtest.Posterior(r, labels[i], 0.3+0.6*r.Float64())
	}
	cal, err := calibrate.Fit(post, labels, calibrate.Options{Alpha: 0.1, By: calibrate.ByStudy, StudyRule: "mean"})
	if err != nil {
		t.Fatal(err)
	}
	cal.ModelSHA256 = strings.Repeat("ab", 32)
	var recs []pipeline.Record
	recs = append(recs, groupingtest.Study(r, "1.2.840.1", 2, 6, 0, 0.9, false)...)
	recs = append(recs, groupingtest.Study(r, "1.2.840.2", 1, 10, 1, 0.1, true)...)
	dir := t.TempDir()
	store := openStore(t, "file://"+dir)
	spec := jobs.Spec{ID: "mixed", InputURL: "file://" + dir, OutputURL: "file://" + dir, ReviewThreshold: 0.5,
		ClassNames: groupingtest.Classes, StudyCalibration: cal}
	spec.Defaults()
	groupingtest.Finish(t, store, spec, recs, 7)
	job, err := output.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if err := (output.Studies{}).Write(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	studies := lines[grouping.Group](t, store, jobs.StudiesFile)
	if len(studies) != 2 {
		t.Fatalf("%d studies", len(studies))
	}
	for _, s := range studies {
		var want []string
		for _, c := range cal.Set(s.Posterior, calibrate.U(s.StudyUID)) {
			want = append(want, groupingtest.Classes[c])
		}
		if s.SetSize == nil || *s.SetSize != len(want) || !slices.Equal(s.PredictionSet, want) || s.Review != (len(want) != 1) {
			t.Fatalf("study %s: set %v (size %v), review %v; want %v", s.StudyUID, s.PredictionSet, s.SetSize, s.Review, want)
		}
	}
}
