package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// duckDBCheck is the DuckDB reader of tools/duckdb-check.
const duckDBCheck = "../tools/duckdb-check"

// duckDB runs SQL on file with DuckDB (tools/duckdb-check/query.mjs), or
// skips the test when node or the DuckDB package is missing.
func duckDB(t *testing.T, file string, queries ...string) (map[string]string, [][]map[string]any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: pred_probs.parquet is not read with DuckDB (scripts/setup.sh installs it)")
	}
	if _, err := os.Stat(filepath.Join(duckDBCheck, "node_modules", "@duckdb", "node-api", "package.json")); err != nil {
		t.Skip("tools/duckdb-check/node_modules is missing (run `npm ci --prefix tools/duckdb-check`)")
	}
	out, err := exec.Command(node, append([]string{filepath.Join(duckDBCheck, "query.mjs"), file}, queries...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	var got struct {
		Columns map[string]string  `json:"columns"`
		Results [][]map[string]any `json:"results"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("duckdb printed %s: %v", out, err)
	}
	return got.Columns, got.Results
}

// DuckDB reads pred_probs.parquet as one row per classified image with
// the posterior as a FLOAT list and the reviewers' labels where they
// agreed; rows are written in row groups of RowGroupRows.
func TestPredProbsOpensInDuckDBWithOneRowPerClassifiedImage(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	dir := t.TempDir()
	w := &output.PredProbs{Dest: openDest(t, dir), RowGroupRows: 5}
	if err := w.Write(context.Background(), rv.job); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, output.PredProbsFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil || f.NumRows() != 12 || len(f.RowGroups()) != 3 || w.Written != (output.RowCounts{Rows: 12, Labelled: 7}) {
		t.Fatalf("parquet-go reads %v: want 12 rows in 3 row groups of at most 5; counts %+v", err, w.Written)
	}
	cols, res := duckDB(t, file,
		"SELECT key, label, label_index, pred_probs FROM t ORDER BY key",
		"SELECT count(*) AS n, count(*) FILTER (WHERE label_index >= 0) AS labelled, min(len(pred_probs)) AS kmin, max(len(pred_probs)) AS kmax FROM t",
		"SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('"+file+"') ORDER BY k",
		"SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata('"+file+"')")
	want := map[string]string{"key": "VARCHAR", "label": "VARCHAR", "label_index": "BIGINT", "pred_probs": "FLOAT[]"}
	if len(cols) != len(want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	for c, typ := range want {
		if cols[c] != typ {
			t.Fatalf("columns %v, want %v", cols, want)
		}
	}
	if n := res[1][0]; n["n"] != 12.0 || n["labelled"] != 7.0 || n["kmin"] != 3.0 || n["kmax"] != 3.0 {
		t.Fatalf("counts %v: want 12 classified images (the failed one has no row), 7 labelled, K = 3", n)
	}
	checkPredProbsRows(t, res[0], rv.records)
	meta := map[string]any{}
	for _, kv := range res[2] {
		meta[kv["k"].(string)] = kv["v"]
	}
	if meta["didicm.format"] != "pred_probs/1" || meta["didicm.job"] != "night" || meta["didicm.classes"] != `["zero","one","two"]` {
		t.Fatalf("key-value metadata %v", meta)
	}
	if res[3][0]["groups"] != 3.0 {
		t.Fatalf("DuckDB sees %v row groups, want 3", res[3][0]["groups"])
	}
}

// checkPredProbsRows checks labels and posteriors row by row.
func checkPredProbsRows(t *testing.T, rows []map[string]any, records []pipeline.Record) {
	t.Helper()
	posterior := map[string][]float64{}
	for _, r := range records {
		posterior[r.Key] = r.Posterior
	}
	for _, row := range rows {
		key := row["key"].(string)
		label, _ := row["label"].(string)
		if want := wantLabels[key]; label != want || row["label_index"] != float64(slices.Index(digitClasses, want)) {
			t.Fatalf("%s: label %q (%v), want %q", key, label, row["label_index"], want)
		}
		probs := row["pred_probs"].([]any)
		for i, p := range probs {
			if math.Abs(p.(float64)-posterior[key][i]) > 1e-7 {
				t.Fatalf("%s: pred_probs %v, posterior %v", key, probs, posterior[key])
			}
		}
	}
}
