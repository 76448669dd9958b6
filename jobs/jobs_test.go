package jobs

import (
	"errors"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/calibrate"
)

func TestSpecValidationNamesTheField(t *testing.T) {
	base := func() Spec {
		sha := strings.Repeat("ab", 32)
		s := Spec{ID: "night-1", InputURL: "file:///in", OutputURL: "file:///out", ModelSHA256: sha,
			ClassNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
			Calibration: &calibrate.Calibration{FormatVersion: calibrate.FormatVersion, ModelSHA256: sha, Classes: 10,
				Method: calibrate.APS, Sets: calibrate.Randomized, Alpha: 0.1, Temperature: 1, Threshold: 0.9}}
		s.Defaults()
		return s
	}
	if s := base(); s.Validate() != nil || s.BatchSize != 256 || s.Sampler != "auto" || s.Steps != 2 {
		t.Fatalf("defaults %+v: %v", s, s.Validate())
	}
	tests := []struct {
		name  string
		edit  func(*Spec)
		field string
	}{
		{"upper-case id", func(s *Spec) { s.ID = "Night" }, "id"},
		{"id with a slash", func(s *Spec) { s.ID = "a/b" }, "id"},
		{"no input", func(s *Spec) { s.InputURL = "" }, "input_url"},
		{"unknown sampler", func(s *Spec) { s.Sampler = "dense" }, "sampler"},
		{"zero batch", func(s *Spec) { s.BatchSize = -1 }, "batch_size"},
		{"bad posterior", func(s *Spec) { s.Posterior = "some" }, "posterior"},
		{"threshold above 1", func(s *Spec) { s.ReviewThreshold = 2 }, "review_threshold"},
		{"escaping output prefix", func(s *Spec) { s.OutputPrefix = "../elsewhere" }, "output_prefix"},
		{"bad pattern", func(s *Spec) { s.Include = []string{"[a-"} }, "include/exclude"},
		{"a calibration with a negative threshold", func(s *Spec) { s.Calibration.Threshold = -1 }, "calibration"},
		{"a calibration of another model", func(s *Spec) { s.Calibration.ModelSHA256 = strings.Repeat("cd", 32) }, "calibration"},
		{"a calibration of another K", func(s *Spec) { s.ClassNames = s.ClassNames[:3] }, "calibration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "job spec "+tt.field) {
				t.Fatalf("err %v; want one naming %s", err, tt.field)
			}
		})
	}
}

// Zero is a legal review threshold (review every image with any doubt),
// retry count (fail at the first error), settle (off) and seed: Defaults
// fills only fields whose zero is not a legal value.
func TestDefaultsKeepZerosThatMeanSomething(t *testing.T) {
	s := Spec{ID: "night-1", InputURL: "file:///in", OutputURL: "file:///out", ReviewThreshold: 0, MaxRetry: 0}
	s.Defaults()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.ReviewThreshold != 0 || s.MaxRetry != 0 || s.Settle != 0 || s.Seed != 0 {
		t.Fatalf("zeros replaced: review_threshold %g, max_retry %d, settle %g, seed %d", s.ReviewThreshold, s.MaxRetry, s.Settle, s.Seed)
	}
	set := Spec{ReviewThreshold: 0.7, MaxRetry: 3, Steps: 4, Chains: 8, BatchSize: 10, TopK: 2, Posterior: "top-k"}
	set.Defaults()
	if set.ReviewThreshold != 0.7 || set.MaxRetry != 3 || set.Steps != 4 || set.Chains != 8 || set.BatchSize != 10 || set.TopK != 2 {
		t.Fatalf("values given were replaced: %+v", set)
	}
}

func TestTaskRoundTripAndBadPayloads(t *testing.T) {
	b := Batch{JobID: "j1", Index: 42, OutputURL: "s3://x", OutputPrefix: "p"}
	task, err := NewTask(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParseTask(task); err != nil || got != b {
		t.Fatalf("round trip %+v %v", got, err)
	}
	if TaskID("j1", 42) != "j1:000042" {
		t.Fatal(TaskID("j1", 42))
	}
	for _, tk := range []*asynq.Task{asynq.NewTask("other:type", nil), asynq.NewTask(TypeBatch, []byte("{")),
		asynq.NewTask(TypeBatch, []byte(`{"job":"j","batch":1,"out":"s3://x","prefix":"../up"}`))} {
		if _, err := ParseTask(tk); !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("%s %s: %v", tk.Type(), tk.Payload(), err)
		}
	}
}

func TestLayoutKeysAndBatchIndex(t *testing.T) {
	l, err := NewLayout("out", "j1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Results(7) != "out/j1/results/batch-000007.jsonl" || l.Failure(7) != "out/j1/failures/batch-000007.json" {
		t.Fatal(l.Results(7), l.Failure(7))
	}
	for key, want := range map[string]int{l.Results(7): 7, l.Failure(123456): 123456, l.ManifestBatch(3): 3} {
		if got, ok := BatchIndex(key); !ok || got != want {
			t.Errorf("BatchIndex(%q) = %d, %v", key, got, ok)
		}
	}
	if _, ok := BatchIndex("out/j1/summary.json"); ok {
		t.Error("summary.json parsed as a batch")
	}
	if _, err := NewLayout("out", "../j"); err == nil {
		t.Error("escaping job id accepted")
	}
}
