package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/calibrate"
)

// calibrateFlags are calibrate's own flags (the job's come from the config).
type calibrateFlags struct {
	labels, out, method, sets, by, studyRule string
	alpha                                    float64
	seed                                     uint64
	fromReviews                              bool
}

// fitted is a calibration and what calibrate says about its data.
type fitted struct {
	cal   *calibrate.Calibration
	names []string // class names, for messages
	notes []string // printed after the figures
}

func (a *app) calibrateCmd() *cobra.Command {
	var f calibrateFlags
	cmd := &cobra.Command{
		Use:   "calibrate [DATA]",
		Short: "Fit prediction sets with a coverage guarantee on labelled images; write the calibration file a job uses",
		Long: `Classifies the labelled images in DATA (one subfolder per class, named as the
model's classes, or any files listed in --labels, a CSV of key,label with
keys relative to DATA and labels as class names or indices: a header names
the key and label columns and any others are ignored; without one, key and
label are the first two), splits them in two halves, fits temperature
scaling and a split-conformal threshold on one and measures coverage on the
other, and writes the calibration JSON (--out). With it (--calibration FILE,
or calibration in the config), classify and enqueue give each record a
prediction_set and set_size, and a job's review list becomes the images
whose set does not hold exactly one class.

--sets randomized-nonempty (the default) covers at least 1 − alpha and never
leaves a set empty: where a randomised set would be empty it holds the top
class. --sets randomized covers 1 − alpha exactly and leaves some sets empty
(those go to review); --sets non-randomized makes larger sets.
--by class fits a threshold per class, so that every class is covered
1 − alpha, not only the average; each class needs ⌈(1 − alpha)/alpha⌉
calibration images (twice that labelled). --by study calibrates studies'
posteriors (package grouping, --study-rule mean or max) on study labels
(--labels: study_uid,label), from DATA's DICOM files or a finished job's
records (--job, --output). --from-reviews fits on a finished job's review
decisions (--job, --output): the images its review rule chose, not a random
sample, so its sets are fitted for, and used on, those images only
(docs/calibration.md has each measured).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(args, a.cfg.Job); err != nil {
				return usageError{err}
			}
			o := calibrate.Options{Method: f.method, Alpha: f.alpha, Sets: f.sets, By: f.by, Seed: f.seed}
			if f.by == calibrate.ByStudy {
				o.StudyRule = f.studyRule
			}
			var res *fitted
			var err error
			switch {
			case f.fromReviews:
				res, err = a.calibrateFromReviews(cmd.Context(), o)
			case f.by == calibrate.ByStudy:
				res, err = a.calibrateStudies(cmd.Context(), args, f.labels, o)
			default:
				res, err = a.calibrate(cmd.Context(), args[0], f.labels, o)
			}
			if err != nil {
				return err
			}
			return a.writeCalibration(res, f.out)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.labels, "labels", "", "CSV of key,label (default: DATA has one subfolder per class); with --by study, of study_uid,label")
	fs.StringVar(&f.out, "out", "", "calibration file to write")
	fs.StringVar(&f.method, "method", calibrate.APS, "conformal score: aps, raps or lac")
	fs.Float64Var(&f.alpha, "alpha", 0.1, "miscoverage: the sets hold the true class for 1 − alpha of images")
	fs.StringVar(&f.sets, "sets", calibrate.RandomizedNonEmpty, "randomized-nonempty (never empty, coverage at least 1 − alpha), "+
		"randomized (coverage 1 − alpha exactly; a set may be empty) or non-randomized (never empty, larger)")
	fs.StringVar(&f.by, "by", calibrate.ByImage, "what the coverage holds over: image (on average), class (every class) or study")
	fs.StringVar(&f.studyRule, "study-rule", "mean", "with --by study: a study's posterior is the mean of its images' or, per class, the max (any image shows it)")
	fs.BoolVar(&f.fromReviews, "from-reviews", false, "fit on the review decisions of a finished job (--job, --output) instead of DATA")
	fs.Uint64Var(&f.seed, "split-seed", 0, "seed of the calibration / held-out split")
	addSamplerFlags(fs)
	addJobFlags(fs)
	return cmd
}

// check refuses flags that do not go together.
func (f *calibrateFlags) check(args []string, job JobConfig) error {
	fromJob := f.fromReviews || f.by == calibrate.ByStudy && (job.ID != "" || job.OutputURL != "")
	switch {
	case !(f.alpha > 0 && f.alpha < 1):
		return fmt.Errorf("--alpha %g: want between 0 and 1, e.g. 0.1 for 90%% coverage", f.alpha)
	case f.out == "":
		return errors.New("calibrate needs --out FILE")
	case f.sets != calibrate.Randomized && f.sets != calibrate.NonRandomized && f.sets != calibrate.RandomizedNonEmpty:
		return fmt.Errorf("--sets %q: want %s, %s or %s", f.sets, calibrate.RandomizedNonEmpty, calibrate.Randomized, calibrate.NonRandomized)
	case f.by != calibrate.ByImage && f.by != calibrate.ByClass && f.by != calibrate.ByStudy:
		return fmt.Errorf("--by %q: want image, class or study", f.by)
	case f.studyRule != "mean" && f.studyRule != "max":
		return fmt.Errorf("--study-rule %q: want mean or max", f.studyRule)
	case f.fromReviews && f.by == calibrate.ByStudy:
		return errors.New("--from-reviews: review decisions are per image; --by study needs study labels (--labels)")
	case f.fromReviews && f.labels != "":
		return errors.New("--from-reviews takes its labels from the job's decisions, not --labels")
	case fromJob && (job.ID == "" || job.OutputURL == "" || len(args) > 0):
		return errors.New("calibrate from a job needs --job and --output, and no DATA")
	case !fromJob && len(args) != 1:
		return errors.New("calibrate needs DATA, or a job (--job, --output) with --from-reviews or --by study")
	case f.by == calibrate.ByStudy && f.labels == "":
		return errors.New("--by study needs --labels, a CSV of study_uid,label")
	}
	return nil
}

// writeCalibration writes the file and says what it holds.
func (a *app) writeCalibration(res *fitted, out string) error {
	c := res.cal
	data, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	h := c.HeldOut
	unit := "images"
	if c.By == calibrate.ByStudy {
		unit = "studies"
	}
	fmt.Fprintf(a.stdout, "%s (%s, by %s) α=%g: temperature %.3f, %s on %d %s; held out (%d): coverage %.2f%%, "+
		"mean set size %.2f, empty %.2f%%, review %.2f%%, error among accepted %.2f%%", c.Method, c.Sets, c.By, c.Alpha,
		c.Temperature, thresholds(c), c.CalibrationSize, unit, h.Images, 100*h.Coverage, h.MeanSetSize, 100*h.Empty,
		100*h.Review, 100*h.AcceptedError)
	if w, ok := h.Worst(); ok {
		fmt.Fprintf(a.stdout, "; worst class %s: coverage %.2f%% of %d", className(res.names, w.Class), 100*w.Coverage, w.Images)
	}
	fmt.Fprintf(a.stdout, "; wrote %s\n", out)
	for _, n := range res.notes {
		fmt.Fprintln(a.stdout, n)
	}
	return nil
}

// thresholds says the threshold, or the range of the class thresholds.
func thresholds(c *calibrate.Calibration) string {
	if c.By != calibrate.ByClass {
		return fmt.Sprintf("threshold %.4f", c.Threshold)
	}
	lo, hi := c.ClassThresholds[0], c.ClassThresholds[0]
	for _, q := range c.ClassThresholds {
		lo, hi = min(lo, q), max(hi, q)
	}
	return fmt.Sprintf("thresholds per class %.4f to %.4f", lo, hi)
}

// className is class k's name, quoted, or its index.
func className(names []string, k int) string {
	if k >= 0 && k < len(names) && names[k] != "" {
		return fmt.Sprintf("%q", names[k])
	}
	return fmt.Sprint(k)
}

// fitError makes Fit's refusals usage errors, naming the classes short of
// calibration images by name.
func fitError(err error, names []string) error {
	var ce *calibrate.ClassCountError
	if !errors.As(err, &ce) {
		return usageError{err}
	}
	parts := make([]string, len(ce.Short))
	for i, s := range ce.Short {
		parts[i] = fmt.Sprintf("%s has %d", className(names, s.Class), s.Images)
	}
	return usageError{fmt.Errorf("--by class at alpha %g: every class needs %d calibration images (⌈(1 − alpha)/alpha⌉; "+
		"%d labelled, half of each class calibrates and half measures), and %d classes have fewer: %s",
		ce.Alpha, ce.Need, 2*ce.Need, len(ce.Short), strings.Join(parts, ", "))}
}

// calibrate classifies DATA's labelled images and fits a calibration.
func (a *app) calibrate(ctx context.Context, dir, labelsPath string, o calibrate.Options) (*fitted, error) {
	recs, names, sha, err := a.classifyLabelled(ctx, dir, labelsPath)
	if err != nil {
		return nil, err
	}
	c, err := calibrate.Fit(recs.post, recs.labels, o)
	if err != nil {
		return nil, fitError(err, names)
	}
	c.ModelSHA256 = sha
	return &fitted{cal: c, names: names}, nil
}
