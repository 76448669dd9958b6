package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// calibrateFromReviews fits a calibration on a finished job's review
// decisions: the images its review rule sent to review, labelled by the
// people who decided them (calibrate.FitStratum says why the sets are
// fitted for, and used on, those images only).
func (a *app) calibrateFromReviews(ctx context.Context, o calibrate.Options) (*fitted, error) {
	store, err := jobs.OpenStore(ctx, a.cfg.Job.ref())
	if err != nil {
		return nil, err
	}
	defer store.Close()
	spec, err := store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	if spec.Posterior != "" && spec.Posterior != jobs.DefaultPosterior {
		return nil, usageError{fmt.Errorf("job %s keeps top-k posteriors: calibrating needs full ones (job.posterior full)", spec.ID)}
	}
	labels, reviewers, err := reviewLabels(ctx, store, spec.ClassNames)
	if err != nil {
		return nil, err
	}
	s := stratumOf(spec)
	var post [][]float64
	var ys []int
	var us []float64
	undecided, outside := 0, 0
	err = eachReviewItem(ctx, store, func(r pipeline.Record) {
		y, ok := labels[r.Key]
		u := calibrate.U(r.Key)
		switch {
		case !ok:
			undecided++
		case !s.Holds(r.Posterior, u): // the rule, recomputed, differs by a rounding
			outside++
		default:
			post, ys, us = append(post, r.Posterior), append(ys, y), append(us, u)
		}
	})
	if err != nil {
		return nil, err
	}
	if undecided > 0 {
		return nil, usageError{fmt.Errorf("job %s: %d of the %d classified images of the review list have no decision: the review page "+
			"shows the most uncertain first, so a part of the list is not a sample of it; decide them all (unsure counts)",
			spec.ID, undecided, undecided+outside+len(post))}
	}
	c, err := calibrate.FitStratum(post, ys, us, s, o)
	if err != nil {
		return nil, fitError(err, spec.ClassNames)
	}
	c.ModelSHA256 = spec.ModelSHA256
	return &fitted{cal: c, names: spec.ClassNames, notes: reviewNotes(c, reviewers, outside)}, nil
}

// stratumOf is the images the job's review rule sends to review.
func stratumOf(spec jobs.Spec) calibrate.Stratum {
	if pipeline.RuleOf(spec).BySetSize {
		return calibrate.Stratum{Rule: calibrate.RuleSetSize, Base: spec.Calibration, Job: spec.ID}
	}
	return calibrate.Stratum{Rule: calibrate.RuleEntropy, EntropyThreshold: spec.ReviewThreshold, Job: spec.ID}
}

// reviewNotes say what the sample was and what the sets promise.
func reviewNotes(c *calibrate.Calibration, reviewers, outside int) []string {
	s := c.Stratum
	rule := fmt.Sprintf("normalised entropy above %g", s.EntropyThreshold)
	if s.Rule == calibrate.RuleSetSize {
		rule = "a set of the job's calibration that does not hold one class"
	}
	notes := []string{
		fmt.Sprintf("Fitted on %d images of job %s that its review rule (%s) sent to review and %d reviewers decided "+
			"(%d unsure or disputed: fitted as never covered). They are not a random sample: the rule chose the uncertain ones.",
			s.Reviewed, s.Job, rule, reviewers, s.Unknown),
		fmt.Sprintf("The sets hold the true class for at least %.0f%% of the images that rule sends to review (held out: %.2f%%); "+
			"an image it accepts keeps its one class, which these labels say nothing of (docs/calibration.md measures both).",
			100*(1-c.Alpha), 100*c.HeldOut.Coverage),
	}
	if outside > 0 {
		notes = append(notes, fmt.Sprintf("%d images of the review list are not in it as this build computes the rule: left out.", outside))
	}
	return notes
}

// eachReviewItem calls fn with each classified record of the review list.
func eachReviewItem(ctx context.Context, store *jobs.Store, fn func(pipeline.Record)) error {
	rc, err := store.OpenReviewList(ctx)
	if err != nil {
		return fmt.Errorf("job %s review list: %w", store.Ref.ID, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var r pipeline.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("job %s review list line %d: %w", store.Ref.ID, line, err)
		}
		if r.Error == "" {
			fn(r)
		}
	}
	return sc.Err()
}

// reviewLabels labels each decided key by the exporters' agreement rule
// (output.Decisions.Resolve: every reviewer's last decision names the same
// class): a conflict (reviewers who disagree, or one who was unsure) is
// calibrate.Unknown, fitted as never covered. It also counts the reviewers.
func reviewLabels(ctx context.Context, store *jobs.Store, names []string) (map[string]int, int, error) {
	ds, err := output.ReadDecisions(ctx, store)
	if err != nil {
		return nil, 0, err
	}
	class := classOf(names)
	labels, reviewers := map[string]int{}, map[string]bool{}
	for _, key := range ds.Keys() {
		l, conflict, _ := ds.Resolve(key)
		for _, d := range ds.Of(key) {
			reviewers[d.Reviewer] = true
		}
		if conflict != nil {
			labels[key] = calibrate.Unknown
			continue
		}
		if labels[key], err = class(l.Class); err != nil {
			return nil, 0, fmt.Errorf("job %s: decision on %q: %w", store.Ref.ID, key, err)
		}
	}
	return labels, len(reviewers), nil
}
