package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/report"
)

// oddClass is a class name that must reach the page as text.
const oddClass = `<script>alert("x")</script>`

// syntheticJob is a finished job in a file:// bucket: 600 images in 24
// batches over about an hour, 40 classes (one named oddClass), about 3% of
// failures, prediction sets and slightly overconfident probabilities.
type syntheticJob struct {
	dir    string
	store  *jobs.Store
	spec   jobs.Spec
	labels report.Labels // every image's true class, by name
}

func newSyntheticJob(t *testing.T) *syntheticJob {
	t.Helper()
	ctx := context.Background()
	j := &syntheticJob{dir: t.TempDir(), labels: report.Labels{}}
	url := "file://" + j.dir
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: url, Prefix: "out", ID: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	j.store = store
	j.spec = jobs.Spec{ID: "synthetic", InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
		BatchSize: 25, Sampler: "cp", Calibration: &calibrate.Calibration{FormatVersion: calibrate.FormatVersion,
			ModelSHA256: strings.Repeat("ab", 32), Classes: 40, Method: "aps", Sets: calibrate.Randomized, Alpha: 0.1, Threshold: 0.9, Temperature: 1}}
	j.spec.Defaults()
	must(t, store.WriteSpec(ctx, j.spec))

	names := make([]string, 40)
	for i := range names {
		names[i] = fmt.Sprintf("class-%02d", i)
	}
	names[3] = oddClass
	reasons := []string{"corrupt", "unsupported_format", "too_large"}
	r := rand.New(rand.NewPCG(1, 2))
	created := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	man := jobs.Manifest{JobID: "synthetic", Created: created.Format(time.RFC3339)}
	at := created
	for b := range 24 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		for i := range 25 {
			rec := pipeline.Record{Job: "synthetic", Batch: b, ModelSHA256: "5f1c0a", ORTVersion: "1.29.0", Provider: "cpu"}
			rec.Key = fmt.Sprintf("archive/%02d/img-%04d.png", b, b*25+i)
			truth := int(40 * math.Pow(r.Float64(), 2.5)) // a few classes are common
			if i%2 == 0 {
				j.labels[rec.Key] = report.Label{Class: names[truth], Index: -1}
			} else { // relative to the input prefix
				j.labels[strings.TrimPrefix(rec.Key, "archive/")] = report.Label{Class: names[truth], Index: -1}
			}
			rec.Sampler, rec.Steps = "cp", 8
			if r.Float64() < 0.03 {
				rec.ClassIndex, rec.ErrorReason = -1, reasons[r.IntN(len(reasons))]
				rec.Error = rec.ErrorReason + ": synthetic"
				must(t, enc.Encode(rec))
				continue
			}
			rec.NFE = 8
			conf := 0.25 + 0.75*math.Sqrt(r.Float64())
			pred := truth
			if r.Float64() > conf-0.06 { // wrong a little more often than conf says
				pred = (truth + 1 + r.IntN(39)) % 40
			}
			rec.Class, rec.ClassIndex, rec.MaxProb = names[pred], pred, conf
			rec.EntropyNorm = math.Min(1, (1-conf)*1.2+0.05*r.Float64())
			rec.Entropy, rec.Margin = rec.EntropyNorm*math.Log(40), conf/2
			rec.PredictionSet = []string{names[pred]}
			for extra := 0; conf < 0.9 && extra < 1+int((0.9-conf)*8); extra++ {
				if pred != truth && extra == 0 && r.Float64() < 0.7 {
					rec.PredictionSet = append(rec.PredictionSet, names[truth])
				} else {
					rec.PredictionSet = append(rec.PredictionSet, names[(pred+7+extra)%40])
				}
			}
			size := len(rec.PredictionSet)
			rec.SetSize = &size
			must(t, enc.Encode(rec))
		}
		man.Images += 25
		man.Batches = append(man.Batches, 25)
		must(t, store.WriteResults(ctx, b, buf.Bytes(), "test"))
		// The results' times make the throughput chart: a batch every half minute to five minutes.
		at = at.Add(time.Duration(30+r.IntN(270)) * time.Second)
		must(t, os.Chtimes(j.path(store.Layout().Results(b)), at, at))
	}
	_, err = store.WritePlanOnce(ctx, map[string]any{"worker": "w1", "sampler": "cp", "micro_batch": 64, "steps": 8, "chains": 0,
		"nfe_per_image": 8, "reasons": []string{"cp: rank-one oracle fits 64 images in the budget", "cl: 16 chains cost 2x the calls"},
		"costs": []map[string]any{{"sampler": "cp", "bytes": 1 << 20}}, "budget_bytes": 2 << 30})
	must(t, err)
	must(t, store.WriteManifest(ctx, man))
	return j
}

// path is where the bucket keeps key on disk.
func (j *syntheticJob) path(key string) string { return filepath.Join(j.dir, filepath.FromSlash(key)) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTheReportShowsTheSummary(t *testing.T) {
	ctx := context.Background()
	j := newSyntheticJob(t)
	wrote, err := pipeline.Finish(ctx, j.store, j.spec)
	if err != nil || !wrote {
		t.Fatalf("Finish: wrote %v, %v", wrote, err)
	}
	must(t, report.Write(ctx, j.store, report.Options{})) // as the worker does after Finish
	var sum pipeline.Summary
	must(t, j.store.ReadSummary(ctx, &sum))
	page, err := j.store.ReadReport(ctx)
	must(t, err)
	html := string(page)
	for _, want := range []string{
		"<title>didicm report: job synthetic</title>",
		fmt.Sprintf(`<div class="v">%d</div>`, sum.Classified),
		fmt.Sprintf(`<div class="v">%d</div>`, sum.Errors),
		`id="throughput"`, `id="classes"`, `id="entropy"`, `id="max-prob-quantiles"`, `id="set-sizes"`, `id="errors"`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", // the odd class, escaped
		"cp: rank-one oracle fits 64 images in the budget",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, `id="reliability"`) {
		t.Error("the report has a script, or a reliability diagram without labels")
	}
	again, err := report.Render(ctx, j.store, report.Options{})
	if err != nil || string(again) != html {
		t.Errorf("rendering again gave another page (%v): two workers finishing together would disagree", err)
	}
}

func TestLabelsAddAccuracyAndTheReliabilityDiagram(t *testing.T) {
	ctx := context.Background()
	j := newSyntheticJob(t)
	if _, err := pipeline.Finish(ctx, j.store, j.spec); err != nil {
		t.Fatal(err)
	}
	must(t, report.Write(ctx, j.store, report.Options{Labels: j.labels}))
	page, err := j.store.ReadReport(ctx)
	must(t, err)
	for _, want := range []string{`id="reliability"`, "ECE (15 bins)", "Labels matching no image</th><td class=\"num\">0<",
		"Prediction sets holding the label (coverage)"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the labelled report lacks %s", want)
		}
	}
}

func TestAReportNeedsTheSummary(t *testing.T) {
	j := newSyntheticJob(t)
	if err := report.Write(context.Background(), j.store, report.Options{}); err == nil || !strings.Contains(err.Error(), "no summary.json") {
		t.Fatalf("a job without its summary gave %v", err)
	}
}

func TestParquetResultsLeaveTheSetsOutAndRefuseLabels(t *testing.T) {
	ctx := context.Background()
	j := newSyntheticJob(t)
	if _, err := pipeline.Finish(ctx, j.store, j.spec); err != nil {
		t.Fatal(err)
	}
	// Batch 0 as a Parquet job's worker leaves it (the report never parses it).
	must(t, os.Remove(j.path(j.store.Layout().Results(0))))
	must(t, j.store.WriteResultsAs(ctx, 0, jobs.FormatParquet, []byte("PAR1"), "test"))
	page, err := report.Render(ctx, j.store, report.Options{})
	if err != nil || !strings.Contains(string(page), "The results are Parquet") || strings.Contains(string(page), `id="set-sizes"`) {
		t.Fatalf("a Parquet job's report has no note, or has set sizes (%v)", err)
	}
	if _, err := report.Render(ctx, j.store, report.Options{Labels: j.labels}); !errors.Is(err, jobs.ErrParquetResults) {
		t.Fatalf("labels on Parquet results gave %v, want ErrParquetResults", err)
	}
}
