package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// readCalibration reads a calibration file calibrate wrote.
func readCalibration(t *testing.T, path string) *calibrate.Calibration {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := calibrate.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// writeLabels writes a labels CSV of header and rows.
func writeLabels(t *testing.T, header string, rows []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// By class, every class needs its calibration images: calibrate refuses
// naming the class short of them, and fits a threshold per class otherwise.
func TestCalibrateByClassNamesTheClassesWithTooFewImages(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 100)
	files, _ := filepath.Glob(filepath.Join(dir, "s*", "*.png"))
	var rows []string
	for i, f := range files { // c0 to c8: 10 or 11 images each, c9: 6
		rel, _ := filepath.Rel(dir, f)
		class := i % 9
		if i >= 90 && i < 96 {
			class = 9
		}
		rows = append(rows, fmt.Sprintf("%s,c%d", rel, class))
	}
	labels := writeLabels(t, "key,label", rows)
	model := "../../testdata/score-k10.onnx"
	cal := filepath.Join(t.TempDir(), "cal.json")
	_, errs, code := run(t, "calibrate", "--model", model, "--labels", labels, "--alpha", "0.2", "--by", "class", "--out", cal, dir)
	if code != 2 || !strings.Contains(errs, `1 classes have fewer: "c9" has 3`) || !strings.Contains(errs, "every class needs 4 calibration images") {
		t.Fatalf("exit %d, %q; want 2 naming c9 (3 calibration images of 4 needed) alone", code, errs)
	}
	out, errs, code := run(t, "calibrate", "--model", model, "--labels", labels, "--alpha", "0.25", "--by", "class", "--out", cal, dir)
	if code != 0 || !strings.Contains(out, "by class") || !strings.Contains(out, "worst class") {
		t.Fatalf("α = 0.25 (3 a class): exit %d, %q, %s", code, out, errs)
	}
	c := readCalibration(t, cal)
	if c.By != calibrate.ByClass || len(c.ClassThresholds) != 10 || c.ClassSizes[9] != 3 || len(c.HeldOut.PerClass) != 10 {
		t.Fatalf("calibration %+v", c)
	}
	if _, errs, code := run(t, "classify", "--model", model, "--calibration", cal, "--format", "jsonl", dir); code != 0 {
		t.Fatalf("classify with a calibration by class: exit %d: %s", code, errs)
	}
}

// reviewedNight writes a finished job of n images over groupingtest's five
// classes, calibrated by base (nil: reviewed by entropy above 0.6), and
// returns its store, its review list's records and their true classes.
func reviewedNight(t *testing.T, base *calibrate.Calibration, n int) (*jobs.Store, jobs.Spec, []pipeline.Record, map[string]int) {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	spec := jobs.Spec{ID: "night", InputURL: "file://" + dir, OutputURL: "file://" + dir, ReviewThreshold: 0.6,
		ClassNames: groupingtest.Classes, ModelSHA256: strings.Repeat("ab", 32), Calibration: base}
	spec.Defaults()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r := rand.New(rand.NewPCG(7, 8))
	truth := map[string]int{}
	var recs []pipeline.Record
	for i := range n {
		y := r.IntN(len(groupingtest.Classes))
		c := y
		if r.Float64() < 0.2 { // a fifth of the images look like another class
			c = r.IntN(len(groupingtest.Classes))
		}
		key := fmt.Sprintf("img/%05d.png", i)
		rec := groupingtest.Image(key, groupingtest.Posterior(r, c, r.Float64()))
		if base != nil {
			set := base.Set(rec.Posterior, calibrate.U(key))
			size := len(set)
			rec.SetSize, rec.PredictionSet = &size, []string{}
			for _, k := range set {
				rec.PredictionSet = append(rec.PredictionSet, groupingtest.Classes[k])
			}
		}
		truth[key] = y
		recs = append(recs, rec)
	}
	groupingtest.Finish(t, store, spec, recs, 50)
	var review []pipeline.Record
	rule := pipeline.RuleOf(spec)
	for _, rec := range recs {
		if rule.Wants(rec) {
			review = append(review, rec)
		}
	}
	return store, spec, review, truth
}

// decide stores a reviewer's decisions on recs: the true class, or
// unsure for every key in unsure.
func decide(t *testing.T, store *jobs.Store, reviewer string, recs []pipeline.Record, truth map[string]int, unsure map[string]bool) {
	t.Helper()
	session, err := store.NewReviewSession(reviewer)
	if err != nil {
		t.Fatal(err)
	}
	var lines []byte
	for _, r := range recs {
		d := map[string]string{"key": r.Key, "decision": "class", "class": groupingtest.Classes[truth[r.Key]],
			"reviewer": reviewer, "time": "2026-12-02T08:00:00.000Z"}
		if unsure[r.Key] {
			d["decision"], d["class"] = "unsure", ""
		}
		line, _ := json.Marshal(d)
		lines = append(append(lines, line...), '\n')
	}
	if _, _, err := session.Append(context.Background(), lines); err != nil {
		t.Fatal(err)
	}
}

// Calibrating from a job's reviews fits the stratum its rule reviewed, says
// the sample is not random, counts unsure and disputed images as unknown,
// and refuses a review list that is only partly decided.
func TestCalibrateFromReviewsFitsTheReviewedStratum(t *testing.T) {
	store, spec, review, truth := reviewedNight(t, nil, 600)
	if len(review) < 100 || len(review) > 500 {
		t.Fatalf("%d of 600 images to review: want a part", len(review))
	}
	url := spec.OutputURL
	cal := filepath.Join(t.TempDir(), "cal.json")
	decide(t, store, "ana", review[:len(review)-5], truth, nil)
	_, errs, code := run(t, "calibrate", "--from-reviews", "--job", "night", "--output", url, "--out", cal)
	if code != 2 || !strings.Contains(errs, fmt.Sprintf("5 of the %d", len(review))) {
		t.Fatalf("a list decided but for 5: exit %d, %q; want 2 counting them", code, errs)
	}
	decide(t, store, "ana", review[len(review)-5:], truth, map[string]bool{review[len(review)-1].Key: true})
	other := map[string]int{review[0].Key: (truth[review[0].Key] + 1) % 5}
	decide(t, store, "ben", review[:1], other, nil) // disagrees with ana on the first image
	out, errs, code := run(t, "calibrate", "--from-reviews", "--job", "night", "--output", url, "--alpha", "0.2", "--out", cal)
	if code != 0 || !strings.Contains(out, "not a random sample") || !strings.Contains(out, "2 reviewers") {
		t.Fatalf("exit %d, %q, %s", code, out, errs)
	}
	c := readCalibration(t, cal)
	s := c.Stratum
	if s == nil || s.Rule != calibrate.RuleEntropy || s.EntropyThreshold != 0.6 || s.Job != "night" || s.Reviewed != len(review) || s.Unknown != 2 {
		t.Fatalf("stratum %+v: want the entropy rule at 0.6, %d reviewed, 2 unknown", s, len(review))
	}
	if c.ModelSHA256 != spec.ModelSHA256 || c.ForModel(spec.ModelSHA256, 5) != nil {
		t.Fatalf("calibration for model %q", c.ModelSHA256)
	}
	if _, errs, code := run(t, "calibrate", "--from-reviews", "--by", "study", "--job", "night", "--output", url, "--out", cal); code != 2 {
		t.Fatalf("--from-reviews --by study: exit %d, %q; want 2", code, errs)
	}
}

// A job reviewed by set size gives a stratum that keeps the job's calibration.
func TestCalibrateFromReviewsKeepsTheJobsCalibration(t *testing.T) {
	_, _, labelled, truth := reviewedNight(t, nil, 400) // a random labelled sample for the job's calibration
	post, ys := make([][]float64, len(labelled)), make([]int, len(labelled))
	for i, r := range labelled {
		post[i], ys[i] = r.Posterior, truth[r.Key]
	}
	base, err := calibrate.Fit(post, ys, calibrate.Options{Alpha: 0.1, Sets: calibrate.Randomized})
	if err != nil {
		t.Fatal(err)
	}
	base.ModelSHA256 = strings.Repeat("ab", 32)
	store, spec, review, truth := reviewedNight(t, base, 800)
	decide(t, store, "ana", review, truth, nil)
	cal := filepath.Join(t.TempDir(), "cal.json")
	if out, errs, code := run(t, "calibrate", "--from-reviews", "--job", "night", "--output", spec.OutputURL, "--alpha", "0.2", "--out", cal); code != 0 {
		t.Fatalf("exit %d, %q, %s", code, out, errs)
	}
	c := readCalibration(t, cal)
	if s := c.Stratum; s == nil || s.Rule != calibrate.RuleSetSize || s.Base.Threshold != base.Threshold || s.Reviewed != len(review) {
		t.Fatalf("stratum %+v: want the set-size rule with the job's calibration", s)
	}
	for _, r := range review {
		if !c.Stratum.Holds(r.Posterior, calibrate.U(r.Key)) {
			t.Fatalf("%s was reviewed but is not in the stratum", r.Key)
		}
	}
}

// By study, a finished job's records are grouped by study (package
// grouping) and fitted on study labels; the file makes sets for studies,
// and classify refuses it for images.
func TestCalibrateByStudyFromAJob(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	spec := jobs.Spec{ID: "ct", InputURL: "file://" + dir, OutputURL: "file://" + dir, ReviewThreshold: 0.5,
		ClassNames: groupingtest.Classes, ModelSHA256: strings.Repeat("ab", 32)}
	spec.Defaults()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	r := rand.New(rand.NewPCG(1, 2))
	var recs []pipeline.Record
	var rows []string
	for i := range 80 {
		uid := fmt.Sprintf("1.2.%d", i)
		y := i % 5
		recs = append(recs, groupingtest.Study(r, uid, 2, 3, y, 0.3, false)...)
		rows = append(rows, fmt.Sprintf("%s,%s", uid, groupingtest.Classes[y]))
	}
	groupingtest.Finish(t, store, spec, recs, 40)
	labels := writeLabels(t, "study_uid,label", rows)
	cal := filepath.Join(t.TempDir(), "study.json")
	out, errs, code := run(t, "calibrate", "--by", "study", "--study-rule", "max", "--labels", labels, "--job", "ct",
		"--output", spec.OutputURL, "--out", cal)
	if code != 0 || !strings.Contains(out, "80 studies (max rule)") || !strings.Contains(out, "on 40 studies") {
		t.Fatalf("exit %d, %q, %s", code, out, errs)
	}
	c := readCalibration(t, cal)
	if c.By != calibrate.ByStudy || c.StudyRule != "max" || c.ForStudies(spec.ModelSHA256, 5) != nil || c.HeldOut.Images != 40 {
		t.Fatalf("calibration %+v", c)
	}
	png := t.TempDir()
	pngArchive(t, png, 3)
	if _, errs, code := run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--calibration", cal, png); code != 2 || !strings.Contains(errs, "calibration by") {
		t.Fatalf("classify with a study calibration: exit %d, %q; want 2 naming by", code, errs)
	}
}

// studyFile is a one-frame 7×7 grey DICOM file of the study, its pixels
// from n.
func studyFile(study string, n int) []byte {
	d := &dicomtest.Dataset{}
	d.El(0x0008, 0x0018, "UI", dicomtest.Text(fmt.Sprintf("%s.1.%d", study, n))).
		El(0x0020, 0x000D, "UI", dicomtest.Text(study)).El(0x0020, 0x000E, "UI", dicomtest.Text(study+".1")).
		El(0x0028, 0x0002, "US", dicomtest.U16(1)).El(0x0028, 0x0004, "CS", dicomtest.Text("MONOCHROME2")).
		El(0x0028, 0x0010, "US", dicomtest.U16(7)).El(0x0028, 0x0011, "US", dicomtest.U16(7)).
		El(0x0028, 0x0100, "US", dicomtest.U16(8)).El(0x0028, 0x0101, "US", dicomtest.U16(8)).
		El(0x0028, 0x0102, "US", dicomtest.U16(7)).El(0x0028, 0x0103, "US", dicomtest.U16(0))
	px := make([]byte, 50)
	for i := range px[:49] {
		px[i] = uint8((i*37 + n*11 + len(study)*5) % 256)
	}
	d.El(0x7FE0, 0x0010, "OW", px)
	return dicomtest.Part10("1.2.840.10008.1.2.1", d.Bytes())
}

// By study from DATA, the DICOM files are classified and grouped by their
// study; PNGs, which have none, are refused.
func TestCalibrateByStudyFromDICOMFiles(t *testing.T) {
	dir := t.TempDir()
	var rows []string
	for s := range 24 {
		uid := fmt.Sprintf("1.2.840.99.%d", s)
		for n := range 2 {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s%02d-%d.dcm", s, n)), studyFile(uid, s*2+n), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rows = append(rows, fmt.Sprintf("%s,c%d", uid, s%10))
	}
	labels := writeLabels(t, "study_uid,label", rows)
	cal := filepath.Join(t.TempDir(), "study.json")
	model := "../../testdata/score-k10.onnx"
	out, errs, code := run(t, "calibrate", "--model", model, "--by", "study", "--labels", labels, "--alpha", "0.2", "--out", cal, dir)
	if code != 0 || !strings.Contains(out, "24 studies (mean rule)") {
		t.Fatalf("exit %d, %q, %s", code, out, errs)
	}
	if c := readCalibration(t, cal); c.By != calibrate.ByStudy || c.CalibrationSize != 12 {
		t.Fatalf("calibration by %q on %d studies", c.By, c.CalibrationSize)
	}
	png := t.TempDir()
	pngArchive(t, png, 30)
	if _, errs, code := run(t, "calibrate", "--model", model, "--by", "study", "--labels", labels, "--out", cal, png); code != 2 || !strings.Contains(errs, "no record has a study") {
		t.Fatalf("PNGs by study: exit %d, %q; want 2", code, errs)
	}
}
