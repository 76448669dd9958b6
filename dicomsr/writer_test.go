package dicomsr_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/dicomsr/part10"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// bucketJob is a finished job over the corpus copied into a folder (a
// file:// bucket), with a record per frame: class = its index in the
// corpus mod 10, the multi-frame instance's second frame failed.
func bucketJob(t *testing.T, corpus []corpusEntry) (jobs.Spec, []pipeline.Record) {
	t.Helper()
	in := t.TempDir()
	var recs []pipeline.Record
	for i, e := range corpus {
		key := "archive/" + filepath.Base(e.File)
		if err := os.MkdirAll(filepath.Join(in, "archive"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, key), e.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if e.Frames <= 1 {
			recs = append(recs, recordOf(key, e, 0, i%10, 0.9, nil))
			continue
		}
		for f := 1; f <= e.Frames; f++ {
			r := recordOf(key, e, f, i%10, 0.6, nil)
			if f == 2 {
				r.ClassIndex, r.Class, r.Posterior, r.Error, r.ErrorReason = -1, "", nil, "corrupt frame", "corrupt"
			}
			recs = append(recs, r)
		}
	}
	png := recordOf("archive/digit.png", corpusEntry{}, 0, 3, 0.99, nil) // not DICOM: in no report
	png.StudyUID, png.SeriesUID, png.SOPUID = "", "", ""
	recs = append(recs, png)
	spec := jobs.Spec{ID: "night", InputURL: "file://" + in, OutputURL: "file://" + t.TempDir() + "?create_dir=true",
		Sampler: "cp", ReviewThreshold: 0.2, ModelSHA256: strings.Repeat("ab", 32)}
	return spec, recs
}

func TestAJobGetsOneValidReportPerStudyReferencingEachClassifiedImage(t *testing.T) {
	corpus := loadCorpus(t)
	spec, recs := bucketJob(t, corpus)
	job := writeJob(t, spec, recs)
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	studies := map[string][]corpusEntry{}
	for _, e := range corpus {
		studies[e.Study] = append(studies[e.Study], e)
	}
	if len(studies) != 3 {
		t.Fatalf("the corpus has %d studies", len(studies))
	}
	for study, entries := range studies {
		data, err := job.Store.ReadSR(context.Background(), study, "")
		if err != nil {
			t.Fatal(err)
		}
		dump := validate(t, data)
		h, err := part10.ReadHeader(bytes.NewReader(data), part10.Want{0x0020000D: "UI", 0x00100010: "PN",
			0x00080060: "CS", 0x0040A491: "CS", 0x0040A492: "LO"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		el := h.Elements
		if el.Text(0x0020000D) != study || el.Text(0x00080060) != "SR" || !strings.HasPrefix(el.Text(0x00100010), "CORPUS^") {
			t.Errorf("study %s: header %v", study, el)
		}
		for _, e := range entries {
			if !strings.Contains(dump, e.SOP) {
				t.Errorf("study %s: the report does not reference %s", study, e.SOP)
			}
		}
		failed := 0
		for _, e := range entries {
			if e.Frames > 1 {
				failed++
				if !strings.Contains(dump, e.SOP+` frame 1"`) || strings.Contains(dump, e.SOP+` frame 2"`) {
					t.Errorf("study %s: frame 1 of %s not listed, or the failed frame 2 listed", study, e.SOP)
				}
			}
		}
		want := map[bool][2]string{false: {"COMPLETE", ""}, true: {"PARTIAL", fmt.Sprintf("%d images not classified", failed)}}[failed > 0]
		if got := [2]string{el.Text(0x0040A491), el.Text(0x0040A492)}; got != want {
			t.Errorf("study %s: completion %q, want %q", study, got, want)
		}
	}
}

func TestWritingAgainGivesTheSameReportsAndPerSeriesGivesOneASeries(t *testing.T) {
	ctx := context.Background()
	corpus := loadCorpus(t)
	spec, recs := bucketJob(t, corpus)
	job := writeJob(t, spec, recs)
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	first, err := job.Store.ReadSR(ctx, corpus[0].Study, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	again, err := job.Store.ReadSR(ctx, corpus[0].Study, "")
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("the report written again differs (%v)", err)
	}
	ws, err := dicomsr.New(dicomsr.Config{Model: testModel(t), Per: dicomsr.PerSeries})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	uids, series := map[string]bool{}, map[string]bool{}
	for _, e := range corpus {
		series[e.Series] = true
		data, err := job.Store.ReadSR(ctx, e.Study, e.Series)
		if err != nil {
			t.Fatalf("series %s: %v", e.Series, err)
		}
		h, err := part10.ReadHeader(bytes.NewReader(data), part10.Want{0x00080018: "UI", 0x0020000D: "UI"}, 0)
		if err != nil || h.Elements.Text(0x0020000D) != e.Study {
			t.Fatalf("series %s: study %q (%v)", e.Series, h.Elements.Text(0x0020000D), err)
		}
		uids[h.Elements.Text(0x00080018)] = true
	}
	if len(uids) != len(series) || len(series) < 2 {
		t.Fatalf("%d distinct reports for the corpus's %d series", len(uids), len(series))
	}
}

func TestAStudyWhoseInstancesAreGoneFailsAloneAndNoPatientDataIsLogged(t *testing.T) {
	ctx := context.Background()
	corpus := loadCorpus(t)
	spec, recs := bucketJob(t, corpus)
	gone := corpus[len(corpus)-1] // the CR study
	for _, e := range corpus {
		if e.Study == gone.Study {
			if err := os.Remove(filepath.Join(strings.TrimPrefix(spec.InputURL, "file://"), "archive", filepath.Base(e.File))); err != nil {
				t.Fatal(err)
			}
		}
	}
	job := writeJob(t, spec, recs)
	var log bytes.Buffer
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t), Log: slog.New(slog.NewJSONHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(ctx, job)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 reports failed") || !strings.Contains(err.Error(), gone.Study) {
		t.Fatalf("err %v, want the one study named", err)
	}
	for _, e := range corpus {
		_, rerr := job.Store.ReadSR(ctx, e.Study, "")
		if (e.Study == gone.Study) != errors.Is(rerr, storage.ErrNotFound) {
			t.Errorf("study %s: %v", e.Study, rerr)
		}
	}
	for _, text := range []string{log.String(), err.Error()} {
		if strings.Contains(text, "CORPUS^") || strings.Contains(text, `"P1"`) || !strings.Contains(log.String(), "report written") {
			t.Errorf("patient data logged, or no report logged:\n%s", text)
		}
	}
}

func TestAReportListsAtMostMaxImagesAndSaysSo(t *testing.T) {
	ctx := context.Background()
	corpus := loadCorpus(t)
	spec, recs := bucketJob(t, corpus)
	job := writeJob(t, spec, recs)
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t), MaxImages: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, job); err != nil {
		t.Fatal(err)
	}
	data, err := job.Store.ReadSR(ctx, corpus[0].Study, "") // the CT study: 9 single-frame instances
	if err != nil {
		t.Fatal(err)
	}
	dump := validate(t, data)
	if n := strings.Count(dump, `"Measurement Group"`); n != 2 {
		t.Errorf("%d images listed, want 2", n)
	}
	if !strings.Contains(dump, "Completion Flag     : PARTIAL") || !bytes.Contains(data, []byte("2 of 9 classified images listed")) {
		t.Errorf("not marked partial:\n%s", dump)
	}
}

func TestAWriterForAnotherModelRefusesTheJob(t *testing.T) {
	corpus := loadCorpus(t)
	spec, recs := bucketJob(t, corpus)
	spec.ModelSHA256 = strings.Repeat("cd", 32)
	job := writeJob(t, spec, recs)
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), job); err == nil || !strings.Contains(err.Error(), "ran model cdcd") {
		t.Fatalf("err %v", err)
	}
	if _, err := job.Store.ReadSR(context.Background(), corpus[0].Study, ""); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a report was written: %v", err)
	}
}
