package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/dicomweb"
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

// A job reads a PACS over DICOMweb through the queue and a real worker,
// and files its structured reports back with STOW-RS: afterwards each
// study holds exactly one SR, the one the job kept, which dciodvfy finds
// no error in and which references every instance of its study; every
// instance has its records (a multi-frame one, a record per frame), each
// once.
func TestAJobOverDICOMwebFilesOneReportIntoEachStudy(t *testing.T) {
	ctx := context.Background()
	o := orthanctest.Start(t, orthanctest.Options{})
	var files []string
	for _, pattern := range []string{"chest-cr-*", "head-mr-*"} {
		f, _ := filepath.Glob("../../dicomweb/testdata/corpus/" + pattern)
		files = append(files, f...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Upload(ctx, data); err != nil {
			t.Fatal(err)
		}
	}
	c, err := dicomweb.NewClient(dicomweb.Config{Base: o.DICOMweb(), Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// instances lists each study's instances, and the SR instances apart.
	instances := func() (images, reports map[string][]dicomweb.Key) {
		images, reports = map[string][]dicomweb.Key{}, map[string][]dicomweb.Key{}
		err := c.SearchStudies(ctx, dicomweb.Query{}, func(st dicomweb.Match) error {
			study := st.String(dicomweb.TagStudyUID)
			return c.SearchSeries(ctx, study, dicomweb.Query{}, func(se dicomweb.Match) error {
				series, sr := se.String(dicomweb.TagSeriesUID), se.String("00080060") == "SR"
				return c.SearchInstances(ctx, study, series, dicomweb.Query{}, func(m dicomweb.Match) error {
					k := dicomweb.Key{Study: study, Series: series, Instance: m.String(dicomweb.TagSOPInstanceUID)}
					if sr {
						reports[study] = append(reports[study], k)
					} else {
						images[study] = append(images[study], k)
					}
					return nil
				})
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return images, reports
	}
	images, reports := instances()
	if len(images) != 2 || len(reports) != 0 {
		t.Fatalf("the PACS holds %d studies and %d with reports before the job, want 2 and 0", len(images), len(reports))
	}

	addr, dir := redistest.Start(t), t.TempDir()
	model := "../../models/didirn-mnist-7px-5pct.onnx"
	_, errs, code := run(t, "enqueue", "--redis", "redis://"+addr, "--job", "pacs", "--model", model,
		"--input", "dicomweb+"+o.DICOMweb()+"?rate=0", "--output", "file://"+dir, "--output-prefix", "out",
		"--sr", "study", "--sr-send", "source")
	if code != 0 {
		t.Fatalf("enqueue: exit %d: %s", code, errs)
	}
	w, wout := didicm(t, "worker", "--redis", "redis://"+addr, "--model", model, "--metrics-addr", "")
	defer w.Process.Kill()
	deadline := time.Now().Add(2 * time.Minute)
	for len(reports) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("reports in %d of 2 studies after 2 minutes\n%s", len(reports), wout)
		}
		time.Sleep(500 * time.Millisecond) // polling the PACS
		_, reports = instances()
	}
	time.Sleep(time.Second) // a second report, if one were sent, has time to arrive
	_, reports = instances()

	kept, _ := filepath.Glob(filepath.Join(dir, "out", "pacs", "sr", "*.dcm"))
	if len(kept) != 2 {
		t.Fatalf("the job kept %v, want one report per study", kept)
	}
	for study, srs := range reports {
		if len(srs) != 1 {
			t.Fatalf("study %s holds %d reports, want 1", study, len(srs))
		}
		got, err := c.RetrieveInstance(ctx, srs[0], 0)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := os.ReadFile(filepath.Join(dir, "out", "pacs", "sr", study+".dcm"))
		if err != nil || !bytes.Equal(got, ours) {
			t.Fatalf("study %s: the PACS's report is not the one the job kept (%v)", study, err)
		}
		for _, k := range images[study] {
			if !bytes.Contains(got, []byte(k.Instance)) {
				t.Errorf("study %s: the report does not reference %s", study, k.Instance)
			}
		}
		f := filepath.Join(t.TempDir(), "sr.dcm")
		if err := os.WriteFile(f, got, 0o644); err != nil {
			t.Fatal(err)
		}
		check, err := exec.Command("dciodvfy", f).CombinedOutput()
		if strings.Contains(string(check), "Error") || err != nil && !strings.Contains(err.Error(), "exit status") {
			t.Fatalf("dciodvfy on study %s's report: %v\n%s", study, err, check)
		}
	}

	seen := map[string]int{}
	results, _ := filepath.Glob(filepath.Join(dir, "out", "pacs", "results", "*.jsonl"))
	for _, f := range results {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			var r struct {
				Key   string `json:"key"`
				Frame int    `json:"frame"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Error != "" {
				t.Errorf("%s: %s", r.Key, r.Error)
			}
			seen[fmt.Sprintf("%s frame %d", r.Key, r.Frame)]++
		}
	}
	for rec, n := range seen {
		if n != 1 {
			t.Errorf("%s: %d records", rec, n)
		}
	}
	for _, keys := range images {
		for _, k := range keys {
			found := false
			for rec := range seen {
				found = found || strings.HasPrefix(rec, k.String()+" ") || strings.HasPrefix(rec, k.String()+"#frame=")
			}
			if !found {
				t.Errorf("%s: no record", k)
			}
		}
	}
}
