package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// finishedJob writes a summarised two-image job "rep" under out/ in a
// file:// bucket and returns the bucket's URL and folder.
func finishedJob(t *testing.T) (string, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	url := "file://" + dir
	spec := jobs.Spec{ID: "rep", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out"}
	spec.Defaults()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var lines []byte
	for _, r := range []pipeline.Record{
		{Record: classifyRecord("in/a.png", "7", 0.9)},
		{Record: classifyRecord("in/b.png", "1", 0.6)},
	} {
		b, _ := json.Marshal(r)
		lines = append(append(lines, b...), '\n')
	}
	for _, err := range []error{
		store.WriteSpec(ctx, spec),
		store.WriteResults(ctx, 0, lines, "test"),
		store.WriteManifest(ctx, jobs.Manifest{JobID: "rep", Images: 2, Batches: []int{2}, Created: time.Now().UTC().Format(time.RFC3339)}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pipeline.Finish(ctx, store, spec); err != nil {
		t.Fatal(err)
	}
	return url, dir
}

func TestReportWritesTheJobsPageWithLabels(t *testing.T) {
	url, dir := finishedJob(t)
	labels := filepath.Join(t.TempDir(), "labels.csv")
	os.WriteFile(labels, []byte("key,label,site\na.png,7,north\nb.png,2,south\n"), 0o644) // extra columns are ignored
	out, errs, code := run(t, "report", "--job", "rep", "--output", url, "--output-prefix", "out", "--labels", labels)
	if code != 0 || !strings.Contains(out, "out/rep/report.html") {
		t.Fatalf("exit %d: %s%s", code, out, errs)
	}
	page, err := os.ReadFile(filepath.Join(dir, "out", "rep", "report.html"))
	if err != nil || !strings.Contains(string(page), "<td class=\"num\">50.0%</td>") {
		t.Fatalf("the report has no accuracy of 50%% (%v)", err)
	}
}

func TestReportRefusesMissingJobsAndBadLabels(t *testing.T) {
	url, _ := finishedJob(t)
	bad := filepath.Join(t.TempDir(), "labels.csv")
	os.WriteFile(bad, []byte("a.png,7\na.png,8\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"without --job", []string{"report", "--output", url}, 2},
		{"with a labels file naming a key twice", []string{"report", "--job", "rep", "--output", url, "--output-prefix", "out", "--labels", bad}, 2},
		{"with a labels file that is not there", []string{"report", "--job", "rep", "--output", url, "--output-prefix", "out", "--labels", bad + ".missing"}, 2},
		{"for a job that has no summary", []string{"report", "--job", "other", "--output", url, "--output-prefix", "out"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, errs, code := run(t, tc.args...); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errs)
			}
		})
	}
}

func classifyRecord(key, class string, maxProb float64) classify.Record {
	i, _ := strconv.Atoi(class)
	return classify.Record{Key: key, Class: class, ClassIndex: i, MaxProb: maxProb, EntropyNorm: 1 - maxProb, Sampler: "cp", Steps: 8, NFE: 8}
}
