package workers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// duckDBCheck is the DuckDB reader of tools/duckdb-check, from this package's folder.
const duckDBCheck = "../tools/duckdb-check"

// duckDBCount is what tools/duckdb-check/check.mjs prints.
type duckDBCount struct {
	Rows    int               `json:"rows"`
	Classes map[string]int    `json:"classes"`
	Errors  int               `json:"errors"`
	Columns map[string]string `json:"columns"`
}

// needDuckDB returns the node binary, or skips the test when node or the
// installed DuckDB package is missing.
func needDuckDB(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Parquet results are not checked with DuckDB " +
			"(install Node.js and run `npm ci --prefix tools/duckdb-check`)")
	}
	if _, err := os.Stat(filepath.Join(duckDBCheck, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		t.Skip("tools/duckdb-check/node_modules is missing: the Parquet results are not checked with DuckDB " +
			"(run `npm ci --prefix tools/duckdb-check`)")
	}
	return node
}

// The same job as JSON Lines and as Parquet: DuckDB reads the Parquet files
// to the same rows and classes as the JSON records, parquet-go reads them to
// the same values, the summaries agree, and a duplicate delivery of a
// Parquet batch is acknowledged without scoring it again.
func TestParquetResultsReadByDuckDBMatchTheJSONLinesOfTheSameJob(t *testing.T) {
	node := needDuckDB(t)
	h := newHarness(t)
	cm := &countingModel{Model: h.proc.Model}
	h.proc.Model = cm
	dir := t.TempDir()
	url := "file://" + dir + "?create_dir=true"
	b, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	files := writeArchive(t, b, "archive", 17) // 21 files: 5 batches of 5, the last of 1
	h.start()
	specs := map[string]jobs.Spec{}
	sums := map[string]pipeline.Summary{}
	for _, format := range []string{jobs.FormatJSONL, jobs.FormatParquet} {
		spec := jobs.Spec{ID: "night-" + format, InputURL: url, InputPrefix: "archive", OutputURL: url,
			OutputPrefix: "out", BatchSize: 5, Sampler: "cp", TopK: 3, Format: format}
		h.enqueue(spec)
		if p := wait(t, spec); !p.Summarized || p.DoneImages != len(files) || p.FailedBatches != 0 {
			t.Fatalf("%s: progress %+v", format, p)
		}
		lay, _ := jobs.NewLayout("out", spec.ID)
		objs, err := b.List(context.Background(), lay.ResultsDir(), storage.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if !strings.HasSuffix(o.Key, "."+format) {
				t.Fatalf("%s job wrote %s", format, o.Key)
			}
		}
		if len(objs) != 5 {
			t.Fatalf("%s job: %d results objects for 5 batches", format, len(objs))
		}
		var sum pipeline.Summary
		data, _ := b.Read(context.Background(), lay.Summary(), 0)
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		specs[format], sums[format] = spec, sum
	}

	lay, _ := jobs.NewLayout("out", specs[jobs.FormatJSONL].ID)
	recs := readRecords(t, b, lay)
	want := duckDBCount{Rows: len(recs), Classes: map[string]int{}}
	byKey := map[string]pipeline.Record{}
	for _, r := range recs {
		byKey[r.Key] = r
		if r.Error != "" {
			want.Errors++
		} else {
			want.Classes[r.Class]++
		}
	}

	// DuckDB, a reader independent of the writer.
	pqLay, _ := jobs.NewLayout("out", specs[jobs.FormatParquet].ID)
	glob := filepath.Join(dir, pqLay.ResultsDir(), "*.parquet")
	cmd := exec.Command(node, filepath.Join(duckDBCheck, "check.mjs"), glob)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node check.mjs %s: %v\n%s", glob, err, stderr.Bytes())
	}
	var got duckDBCount
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("check.mjs printed %s: %v", out, err)
	}
	if got.Rows != want.Rows || got.Errors != want.Errors || !maps.Equal(got.Classes, want.Classes) {
		t.Fatalf("DuckDB reads %d rows, %d errors, classes %v;\nthe JSON Lines have %d, %d, %v",
			got.Rows, got.Errors, got.Classes, want.Rows, want.Errors, want.Classes)
	}
	for col, typ := range map[string]string{"key": "VARCHAR", "class_index": "BIGINT", "chain_agreement": "DOUBLE",
		"top_k_class": "VARCHAR[]", "top_k_prob": "DOUBLE[]", "posterior": "DOUBLE[]", "provider": "VARCHAR"} {
		if got.Columns[col] != typ {
			t.Errorf("DuckDB sees column %s as %q, want %s (columns %v)", col, got.Columns[col], typ, got.Columns)
		}
	}

	// parquet-go: every value as in the JSON record of the same image.
	rows := 0
	for i := range 5 {
		data, err := b.Read(context.Background(), pqLay.ResultsAs(i, jobs.FormatParquet), 0)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := parquet.Read[pipeline.ParquetRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range batch {
			rows++
			r, ok := byKey[row.Key]
			if !ok {
				t.Fatalf("parquet row for %s, which has no JSON record", row.Key)
			}
			if row.Class != r.Class || row.ClassIndex != int64(r.ClassIndex) || row.MaxProb != r.MaxProb ||
				row.EntropyNorm != r.EntropyNorm || row.ErrorReason != r.ErrorReason || row.NFE != int64(r.NFE) ||
				row.Batch != int64(i) || row.Job != specs[jobs.FormatParquet].ID || row.ModelSHA256 != r.ModelSHA256 ||
				!slices.EqualFunc(row.Posterior, r.Posterior, sameAtFloat32) {
				t.Fatalf("batch %d: parquet row %+v\nJSON record %+v", i, row, r)
			}
			if r.Error == "" && (len(row.TopKClass) != 3 || row.TopKClass[0] != r.Class || row.TopKProb[0] != r.MaxProb) {
				t.Fatalf("%s: top-k %v %v; class %s at %g", r.Key, row.TopKClass, row.TopKProb, r.Class, r.MaxProb)
			}
		}
	}
	if rows != len(recs) {
		t.Fatalf("%d parquet rows, %d JSON records", rows, len(recs))
	}

	// The summary comes from the stats, whatever the results' format.
	js, ps := sums[jobs.FormatJSONL], sums[jobs.FormatParquet]
	if js.Images != ps.Images || js.Classified != ps.Classified || js.Errors != ps.Errors || js.Review != ps.Review ||
		fmt.Sprint(js.Classes, js.ErrorReasons, js.EntropyNormHistogram, js.MaxProbQuantiles) !=
			fmt.Sprint(ps.Classes, ps.ErrorReasons, ps.EntropyNormHistogram, ps.MaxProbQuantiles) {
		t.Fatalf("summaries differ:\njsonl   %+v\nparquet %+v", js, ps)
	}
	checkSummaryAgainstRecords(t, ps, recs, ps.ReviewThreshold)

	// A Parquet batch delivered again is acknowledged, not scored or rewritten.
	before, _ := b.Read(context.Background(), pqLay.ResultsAs(0, jobs.FormatParquet), 0)
	calls := cm.calls.Load()
	task, err := jobs.NewTask(jobs.Batch{JobID: specs[jobs.FormatParquet].ID, Index: 0, OutputURL: url, OutputPrefix: "out"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.proc.ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if n := cm.calls.Load(); n != calls {
		t.Fatalf("the duplicate of a parquet batch made %d model calls", n-calls)
	}
	if after, _ := b.Read(context.Background(), pqLay.ResultsAs(0, jobs.FormatParquet), 0); !bytes.Equal(before, after) {
		t.Fatal("the duplicate rewrote the parquet results")
	}

	// Without its stats a Parquet batch cannot be recounted: Finish says so.
	if err := b.Delete(context.Background(), pqLay.Stats(2)); err != nil {
		t.Fatal(err)
	}
	store, err := jobs.NewStore(b, specs[jobs.FormatParquet].Ref())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Finish(context.Background(), store, specs[jobs.FormatParquet]); !errors.Is(err, jobs.ErrParquetResults) {
		t.Fatalf("Finish without the stats of a parquet batch: %v, want ErrParquetResults", err)
	}
}

// sameAtFloat32 reports whether a Parquet posterior value (float64) and
// the JSON line's (written at float32 precision, classify.Record.AppendJSON)
// are the same probability.
func sameAtFloat32(parquet, line float64) bool { return float32(parquet) == float32(line) }
