package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// reviewedJob is a finished job of three PNGs in a file:// bucket (input
// and output), two of them decided by ana; it returns the bucket's URL.
func reviewedJob(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir, _ := archive(t)
	url := "file://" + dir
	spec := jobs.Spec{ID: "night", InputURL: url, OutputURL: url, OutputPrefix: "out", ClassNames: groupingtest.Classes}
	spec.Defaults()
	spec.ReviewThreshold = 0
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var recs []pipeline.Record
	for i, key := range []string{"a/0.png", "a/1.png", "c/2.png"} {
		p := []float64{0.1, 0.1, 0.1, 0.1, 0.1}
		p[i] = 0.6
		recs = append(recs, groupingtest.Image(key, p))
	}
	groupingtest.Finish(t, store, spec, recs, 2)
	rs, err := store.NewReviewSession("ana")
	if err != nil {
		t.Fatal(err)
	}
	lines := `{"key":"a/0.png","decision":"accept","class":"normal","reviewer":"ana","time":"2026-12-02T08:00:00.000Z"}
{"key":"a/1.png","decision":"class","class":"car","reviewer":"ana","time":"2026-12-02T08:00:01.000Z"}
`
	if _, _, err := rs.Append(ctx, []byte(lines)); err != nil {
		t.Fatal(err)
	}
	return url
}

// Each writer runs by name, says what it wrote, and an unknown name or a
// missing destination is a usage error naming what is wanted.
func TestExportRunsEachWriterByName(t *testing.T) {
	url := reviewedJob(t)
	job := []string{"--job", "night", "--output", url, "--output-prefix", "out"}
	for _, tc := range []struct {
		to, want, file string
		extra          []string
	}{
		{"csv", "2 labels in", "labels.csv", nil},
		{"folder", "2 images in", "normal/a/0.png", nil},
		{"labelstudio", "3 tasks in", "labelstudio-tasks.json", []string{"--image-url", "http://127.0.0.1:8081/{key}"}},
		{"predprobs", "3 rows (2 labelled)", "pred_probs.parquet", nil},
	} {
		t.Run(tc.to, func(t *testing.T) {
			dest := t.TempDir()
			args := append(append([]string{"export", "--to", tc.to, "--dest", dest}, job...), tc.extra...)
			out, errOut, code := run(t, args...)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, %q %q; want %q", code, out, errOut, tc.want)
			}
			if _, err := os.Stat(filepath.Join(dest, tc.file)); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, errOut, code := run(t, append([]string{"export", "--to", "xml", "--dest", t.TempDir()}, job...)...); code != 2 ||
		!strings.Contains(errOut, "csv, folder, labelstudio, predprobs, studies") {
		t.Fatalf("an unknown writer: exit %d, %q", code, errOut)
	}
	if _, errOut, code := run(t, append([]string{"export", "--to", "csv"}, job...)...); code != 2 || !strings.Contains(errOut, "--dest") {
		t.Fatalf("no destination: exit %d, %q", code, errOut)
	}
}

// A Label Studio export imports back as the annotator's decisions, which
// the next export counts.
func TestImportLabelStudioStoresTheAnnotatorsDecisions(t *testing.T) {
	url := reviewedJob(t)
	job := []string{"--job", "night", "--output", url, "--output-prefix", "out"}
	dest := t.TempDir()
	if _, errOut, code := run(t, append([]string{"export", "--to", "labelstudio", "--dest", dest, "--image-url", "/{key}"}, job...)...); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	data, err := os.ReadFile(filepath.Join(dest, "labelstudio-tasks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []map[string]any
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatal(err)
	}
	for i, task := range tasks {
		task["id"] = i + 1
		if task["data"].(map[string]any)["key"] == "c/2.png" {
			task["annotations"] = []any{map[string]any{"completed_by": map[string]any{"id": 2, "email": "bo@example.org"},
				"result": []any{map[string]any{"type": "choices", "from_name": "class", "to_name": "image",
					"value": map[string]any{"choices": []string{"nodule"}}}},
				"was_cancelled": false, "updated_at": "2026-12-03T10:00:00.000000Z"}}
		}
	}
	file := filepath.Join(t.TempDir(), "project-1-at-2026-12-03.json")
	data, _ = json.Marshal(tasks)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, append([]string{"import", "labelstudio", file}, job...)...)
	if code != 0 || !strings.Contains(out, "1 decisions from bo_example.org") {
		t.Fatalf("import: exit %d, %q %q", code, out, errOut)
	}
	out, _, code = run(t, append([]string{"export", "--to", "csv", "--dest", t.TempDir()}, job...)...)
	if code != 0 || !strings.Contains(out, "3 labels in") {
		t.Fatalf("after the import: exit %d, %q", code, out)
	}
}
