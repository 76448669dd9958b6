package dicomsr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// corpusEntry is one instance of dicomweb's corpus (three studies, six
// series, single- and multi-frame instances in nine transfer syntaxes).
type corpusEntry struct {
	File, Study, Series, SOP string
	Frames                   int
	data                     []byte
}

func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	raw, err := os.ReadFile("../dicomweb/testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var es []corpusEntry
	if err := json.Unmarshal(raw, &es); err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if es[i].data, err = os.ReadFile(filepath.Join("../dicomweb/testdata", es[i].File)); err != nil {
			t.Fatal(err)
		}
	}
	return es
}

// testModel is a ten-class model whose classes 1 and 7 have SNOMED-like
// codes and the others none.
func testModel(t testing.TB) dicomsr.Model {
	t.Helper()
	props := map[string]string{"format_version": "1", "kind": "score", "layout": "small", "num_classes": "10",
		"class_names": `["0","1","2","3","4","5","6","7","8","9"]`, "input_channels": "1", "input_height": "28",
		"input_width": "28", "color_mode": "gray", "norm_mean": "[0.5]", "norm_std": "[0.25]", "schedule": "loglinear",
		"schedule_eps": "0.001", "degradation": `{"kind":"none"}`, "data_fraction": "1", "training": "{}",
		"class_codes": `[null,{"value":"1000001","scheme":"SCT","meaning":"Digit one"},null,null,null,null,null,` +
			`{"value":"RID-SEVEN-LONG-CODE-VALUE","scheme":"RADLEX"},null,null]`,
		"model_name": "digits-test", "model_version": "1.0"}
	full := map[string]string{}
	for k, v := range props {
		full[modelmeta.Prefix+k] = v
	}
	meta, err := modelmeta.Parse(full)
	if err != nil {
		t.Fatal(err)
	}
	return dicomsr.ModelOf(meta, "models/digits-test.onnx", strings.Repeat("ab", 32))
}

// recordOf is the record a job would give frame (1-based, 0 for a
// single-frame file) of a corpus instance at key, classified as class
// with probability p.
func recordOf(key string, e corpusEntry, frame, class int, p float64, set []string) pipeline.Record {
	post := make([]float64, 10)
	for i := range post {
		post[i] = (1 - p) / 9
	}
	post[class] = p
	r := classify.Record{Key: key, Class: fmt.Sprint(class), ClassIndex: class, Posterior: post, MaxProb: p,
		EntropyNorm: 1 - p, Sampler: "cp", Steps: 2, NFE: 2, StudyUID: e.Study, SeriesUID: e.Series, SOPUID: e.SOP,
		Frame: frame, PredictionSet: set}
	if set != nil {
		n := len(set)
		r.SetSize = &n
	}
	if frame > 0 {
		r.Key = fmt.Sprintf("%s#frame=%d", key, frame)
	}
	return pipeline.Record{Record: r, Job: "job", ModelSHA256: strings.Repeat("ab", 32)}
}

// writeJob writes a finished job's objects (spec, manifest, one batch of
// records, summary) to out and opens it as writers read it.
func writeJob(t *testing.T, spec jobs.Spec, recs []pipeline.Record) *output.Job {
	t.Helper()
	ctx := context.Background()
	spec.Defaults()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var lines []byte
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	for _, err := range []error{
		store.WriteSpec(ctx, spec),
		store.WriteManifest(ctx, jobs.Manifest{JobID: spec.ID, Images: len(recs), Batches: []int{len(recs)},
			Created: "2026-12-01T22:00:00Z"}),
		store.WriteResults(ctx, 0, lines, "test"),
		store.WriteSummary(ctx, pipeline.Summary{JobID: spec.ID, Images: len(recs), Finished: "2026-12-02T03:04:05Z"}, nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

var charsetWarning = regexp.MustCompile(`(?m)^W: (The VR checker does not support this Specific Character Set|` +
	`Reading unknown/unsupported SpecificCharacterSet).*\n`)

// validate runs dciodvfy and dsrdump on a report: dciodvfy must find no
// error (its warnings are listed in the log: our private coding schemes
// are unknown to it), and dsrdump must read the whole content tree. It
// returns dsrdump's text.
func validate(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sr.dcm")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command("dciodvfy", "-new", path).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Error") {
			t.Errorf("dciodvfy: %s", line)
		}
	}
	if !strings.Contains(string(out), "ComprehensiveSR") {
		t.Errorf("dciodvfy does not see a Comprehensive SR:\n%s", out)
	}
	out, err := exec.Command("dsrdump", "+Pc", "+Pu", "+Psu", "+Pl", path).CombinedOutput()
	// DCMTK 3.6.7 (Debian's) cannot check the characters of UTF-8 and ISO
	// 2022 values, nor convert ISO 2022 ones, and says so.
	dump := charsetWarning.ReplaceAllString(string(out), "")
	if err != nil || strings.Contains(dump, "E: ") || strings.Contains(dump, "W: ") {
		t.Fatalf("dsrdump: %v\n%s", err, dump)
	}
	return dump
}
