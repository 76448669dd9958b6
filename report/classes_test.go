package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/report"
)

// classJob is a finished, calibrated job of ten images over three classes:
// its calibration's held-out figures per class, and each image's top class
// and set (true class first).
func classJob(t *testing.T) (*jobs.Store, report.Labels) {
	t.Helper()
	ctx := context.Background()
	url := "file://" + t.TempDir()
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: url, ID: "classes"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	held := []calibrate.ClassMeasured{
		{Class: 0, Images: 400, Coverage: 0.95, MeanSetSize: 1.1, Accuracy: 0.97},
		{Class: 1, Images: 380, Coverage: 0.82, MeanSetSize: 1.4, Accuracy: 0.9},
		{Class: 2, Images: 0},
	}
	spec := jobs.Spec{ID: "classes", InputURL: url, OutputURL: url, ClassNames: []string{"cat", "dog", "eel"},
		Calibration: &calibrate.Calibration{FormatVersion: calibrate.FormatVersion, ModelSHA256: strings.Repeat("ab", 32),
			Classes: 3, Method: calibrate.APS, Sets: calibrate.Randomized, By: calibrate.ByImage, Alpha: 0.1, Threshold: 0.9,
			Temperature: 1, HeldOut: calibrate.Measured{Images: 780, Coverage: 0.89, MeanSetSize: 1.2, PerClass: held}}}
	spec.Defaults()
	must(t, store.WriteSpec(ctx, spec))
	images := []struct {
		truth, top string
		set        []string
	}{
		{"cat", "cat", []string{"cat"}}, {"cat", "cat", []string{"cat"}}, {"cat", "cat", []string{"cat"}}, {"cat", "dog", []string{"dog"}},
		{"dog", "dog", []string{"dog", "cat"}}, {"dog", "dog", []string{"dog", "cat"}}, {"dog", "dog", []string{"dog"}}, {"dog", "dog", []string{"dog"}},
		{"eel", "cat", []string{}}, {"eel", "eel", []string{"eel", "dog", "cat"}},
	}
	index := map[string]int{"cat": 0, "dog": 1, "eel": 2}
	labels := report.Labels{}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i, im := range images {
		rec := pipeline.Record{Job: "classes"}
		rec.Key, rec.Class, rec.ClassIndex, rec.MaxProb, rec.Sampler = fmt.Sprintf("img-%d.png", i), im.top, index[im.top], 0.9, "cp"
		size := len(im.set)
		rec.PredictionSet, rec.SetSize = im.set, &size
		must(t, enc.Encode(rec))
		labels[rec.Key] = report.Label{Class: im.truth, Index: -1}
		if im.truth == "eel" {
			labels[rec.Key] = report.Label{Index: 2} // by index: the job's class names name it
		}
	}
	must(t, store.WriteResults(ctx, 0, buf.Bytes(), "test"))
	must(t, store.WriteManifest(ctx, jobs.Manifest{JobID: "classes", Images: len(images), Batches: []int{len(images)}}))
	if _, err := pipeline.Finish(ctx, store, spec); err != nil {
		t.Fatal(err)
	}
	return store, labels
}

// The by-class table shows the calibration's held-out figures per class
// and, with labels, the job's own; the class with the lowest coverage is
// flagged and named.
func TestTheReportShowsEachClassAndItsWeakestOne(t *testing.T) {
	store, labels := classJob(t)
	page, err := report.Render(context.Background(), store, report.Options{})
	must(t, err)
	html := string(page)
	for _, want := range []string{
		`<tr><td>cat</td><td class="num">400</td><td class="num">95.0%</td><td class="num">1.10</td><td class="num">97.0%</td></tr>`,
		`<tr class="flag"><td>dog</td><td class="num">380</td><td class="num">82.0%</td><td class="num">1.40</td><td class="num">90.0%</td></tr>`,
		`<tr><td>eel</td><td class="num">0</td><td class="num"></td>`,
		"The guarantee is weakest on dog", "on average over the images (by image)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the report without labels lacks %s", want)
		}
	}
	page, err = report.Render(context.Background(), store, report.Options{Labels: labels})
	must(t, err)
	html = string(page)
	for _, want := range []string{ // images, accuracy, coverage, mean set size of the job's labelled images
		`<td class="num">97.0%</td><td class="num">4</td><td class="num">75.0%</td><td class="num">75.0%</td><td class="num">1.00</td></tr>`,
		`<td class="num">90.0%</td><td class="num">4</td><td class="num">100.0%</td><td class="num">100.0%</td><td class="num">1.50</td></tr>`,
		`<tr class="flag"><td>eel</td><td class="num">0</td><td class="num"></td><td class="num"></td><td class="num"></td><td class="num">2</td><td class="num">50.0%</td><td class="num">50.0%</td><td class="num">1.50</td></tr>`,
		"The guarantee is weakest on eel: its prediction sets hold it for 50.0% of its images.",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the labelled report lacks %s", want)
		}
	}
}
