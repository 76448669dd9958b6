package pipeline_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// writeBatch stores a batch's stats and results as a worker does.
func writeBatch(t *testing.T, store *jobs.Store, i int, recs []pipeline.Record) {
	t.Helper()
	st := pipeline.NewBatchStats()
	var lines bytes.Buffer
	for _, r := range recs {
		line := fmt.Appendf(nil, "{\"key\":%q}\n", r.Key)
		lines.Write(line)
		st.Add(r, line, pipeline.ReviewRule{Threshold: 0.5})
	}
	data, err := st.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.WriteStats(context.Background(), i, data); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteResults(context.Background(), i, lines.Bytes(), "test"); err != nil {
		t.Fatal(err)
	}
}

func record(key, class string, maxProb, entropyNorm float64) pipeline.Record {
	var r pipeline.Record
	r.Key, r.Class, r.MaxProb, r.EntropyNorm = key, class, maxProb, entropyNorm
	return r
}

// A three-frame DICOM file is one listed file and three records: the
// summary counts records as images (the report's percentages are of
// them) and the listed files apart. Its review list streams out whole.
func TestSummaryCountsRecordsAndFilesApart(t *testing.T) {
	ctx := context.Background()
	url := "file://" + t.TempDir()
	spec := jobs.Spec{ID: "frames", InputURL: url, OutputURL: url, ReviewThreshold: 0.5}
	spec.Defaults()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.WriteManifest(ctx, jobs.Manifest{JobID: "frames", Images: 3, Batches: []int{2, 1}}); err != nil {
		t.Fatal(err)
	}
	frames := []pipeline.Record{record("cine.dcm#frame=1", "3", 0.99, 0.05), record("cine.dcm#frame=2", "3", 0.6, 0.7),
		record("cine.dcm#frame=3", "5", 0.97, 0.1)}
	for i := range frames {
		frames[i].StudyUID = "1.2.3"
	}
	writeBatch(t, store, 0, append(frames, record("a.png", "1", 0.55, 0.8)))
	writeBatch(t, store, 1, []pipeline.Record{record("b.png", "7", 0.9, 0.2)})
	if done, err := pipeline.Finish(ctx, store, spec); !done || err != nil {
		t.Fatalf("finish: %v %v", done, err)
	}
	var s pipeline.Summary
	if err := store.ReadSummary(ctx, &s); err != nil {
		t.Fatal(err)
	}
	if s.Images != 5 || s.Files != 3 || s.Classified != 5 || s.Review != 2 || s.Grouped != 3 {
		t.Fatalf("images %d files %d classified %d review %d grouped %d; want 5, 3, 5, 2, 3", s.Images, s.Files, s.Classified,
			s.Review, s.Grouped)
	}
	if p50 := s.MaxProbQuantiles["p50"]; p50 < 0.9-1e-4 || p50 > 0.9 {
		t.Fatalf("p50 of max_prob %g, want 0.9 within 1e-4 below", p50)
	}
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	r, err := b.NewReader(ctx, store.Layout().Review())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var keys []string
	for sc := bufio.NewScanner(r); sc.Scan(); {
		keys = append(keys, sc.Text())
	}
	if fmt.Sprint(keys) != `[{"key":"cine.dcm#frame=2"} {"key":"a.png"}]` {
		t.Fatalf("review list %q", keys)
	}
}
