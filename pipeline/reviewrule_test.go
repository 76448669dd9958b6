package pipeline_test

import (
	"testing"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// A calibrated job reviews sets of any size but one: more than one class
// (unsure between them) or none (no class plausible enough to name).
func TestReviewBySetSizeTakesEmptyAndLargeSets(t *testing.T) {
	rule := pipeline.RuleOf(jobs.Spec{Calibration: &calibrate.Calibration{}, ReviewThreshold: 0.5})
	if !rule.BySetSize {
		t.Fatal("a calibrated job does not review by set size")
	}
	for size, want := range map[int]bool{0: true, 1: false, 2: true, 7: true} {
		n := size
		rec := pipeline.Record{Record: classify.Record{Key: "k", PredictionSet: make([]string, n), SetSize: &n, EntropyNorm: 0.9}}
		if got := rule.Wants(rec); got != want {
			t.Errorf("a set of %d: review %v, want %v", size, got, want)
		}
	}
	if rule.Wants(pipeline.Record{Record: classify.Record{Key: "k", EntropyNorm: 0.9}}) {
		t.Error("a record without a set (no calibration at the time) went to review by set size")
	}
}
