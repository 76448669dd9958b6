package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

func TestEnqueueListsADICOMwebInputWithCredentialsFromTheEnvironment(t *testing.T) {
	const pass = "pa55-w0rd-of-the-pacs"
	o := orthanctest.Start(t, orthanctest.Options{Users: map[string]string{"reader": pass}})
	files, _ := filepath.Glob("../../dicomweb/testdata/corpus/chest-ct-*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Upload(context.Background(), data); err != nil {
			t.Fatal(err)
		}
	}
	redisURL, out := "redis://"+redistest.Start(t), "file://"+t.TempDir()
	input := "dicomweb+" + o.DICOMweb() + "?Modality=CT&rate=0"
	enqueue := func(job string, extra ...string) (string, string, int) {
		return run(t, append([]string{"enqueue", "--redis", redisURL, "--job", job, "--input", input, "--output", out,
			"--model", "../../testdata/score-k10.onnx"}, extra...)...)
	}
	t.Setenv("DIDICM_DICOMWEB_USERNAME", "reader")
	t.Setenv("DIDICM_DICOMWEB_PASSWORD", "not-"+pass)
	if _, errs, code := enqueue("refused"); code != 1 || !strings.Contains(errs, "401") || strings.Contains(errs, pass) {
		t.Fatalf("a wrong password: exit %d: %s", code, errs)
	}
	t.Setenv("DIDICM_DICOMWEB_PASSWORD", pass)
	rules := `[{"modality": ["CT"], "image_type": ["AXIAL"], "min_instances": 5}]`
	stdout, errs, code := enqueue("pacs", "--series-rules", rules)
	if code != 0 || !strings.Contains(stdout, "8 images") { // the axial series; the scout is left out
		t.Fatalf("exit %d: %s%s", code, stdout, errs)
	}
	if stdout, errs, code = enqueue("all"); code != 0 || !strings.Contains(stdout, "9 images") {
		t.Fatalf("exit %d: %s%s", code, stdout, errs)
	}
	b, err := storage.Open(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	lay, _ := jobs.NewLayout("", "pacs")
	data, err := b.Read(context.Background(), lay.Spec(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var spec jobs.Spec
	if err := json.Unmarshal(data, &spec); err != nil || len(spec.SeriesRules) != 1 || spec.SeriesRules[0].MinInstances != 5 {
		t.Fatalf("spec.json series rules %+v, %v", spec.SeriesRules, err)
	}
}

func TestDICOMwebSettingsThatCannotWorkExitWithUsage(t *testing.T) {
	const tok = "tok-0123456789-secret"
	t.Setenv("DIDICM_DICOMWEB_TOKEN", tok)
	t.Setenv("DIDICM_DICOMWEB_USERNAME", "reader")
	_, errs, code := run(t, "plan")
	if code != 2 || !strings.Contains(errs, "dicomweb") || strings.Contains(errs, tok) {
		t.Fatalf("a token and a user: exit %d: %s", code, errs)
	}
	t.Setenv("DIDICM_DICOMWEB_USERNAME", "")
	_, errs, code = run(t, "enqueue", "--redis", "redis://127.0.0.1:1", "--job", "j", "--input", "dicomweb+http://127.0.0.1:1/dicom-web",
		"--output", "file://"+t.TempDir(), "--model", "../../testdata/score-k10.onnx", "--series-rules", `[{"modality": "CT"}]`)
	if code != 2 || !strings.Contains(errs, "job.series_rules") {
		t.Fatalf("series rules that are not a list of rules: exit %d: %s", code, errs)
	}
}
