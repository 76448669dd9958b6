package calibrate

import (
	"errors"
	"fmt"

	"github.com/didicm/didicm/sampler"
)

// A job's reviewed images are not a random sample of its images: its
// review rule chose them (by the job's prediction sets or by entropy), and
// it chose them by the image alone (its posterior and key), never by its
// true class. So among the images the rule chooses, the reviewed ones are
// exchangeable with those of any later job run with the same model and
// rule, and split conformal on them gives sets that hold the true class
// for 1 − α of such images: a guarantee for that stratum, as Mondrian
// conformal prediction gives one per class. It says nothing of the images
// the rule accepts: no one labelled any of them. FitStratum fits that
// calibration; its Set gives an image outside the stratum its top class
// alone, as the job accepted it. The measured alternative, fitting on the
// reviews as if they were a random sample, is in docs/calibration.md.

// The review rules a stratum can come from (jobs.Spec.ReviewRule).
const (
	RuleSetSize = "set_size"
	RuleEntropy = "entropy"
)

// Stratum is the images a job's review rule sends to review.
type Stratum struct {
	// Rule is RuleSetSize (a set of Base that does not hold exactly one
	// class) or RuleEntropy (normalised entropy above EntropyThreshold).
	Rule             string       `json:"rule"`
	Base             *Calibration `json:"base,omitempty"`
	EntropyThreshold float64      `json:"entropy_threshold,omitempty"`
	// Job names the job whose review decisions the calibration was fitted
	// on; Reviewed counts them, Unknown those that named no class (unsure,
	// or reviewers who disagree: fitted as never covered).
	Job      string `json:"job"`
	Reviewed int    `json:"reviewed"`
	Unknown  int    `json:"unknown"`
}

// Holds reports whether the rule sends an image with posterior p and share
// u to review. By entropy it computes the normalised entropy as the
// sampler gives it to records (sampler.Result.Summarize, ties at the top
// being 1).
func (s *Stratum) Holds(p []float64, u float64) bool {
	if s.Rule == RuleSetSize {
		return len(s.Base.Set(p, u)) != 1
	}
	r := sampler.Result{Posterior: p}
	r.Summarize()
	return r.EntropyNorm > s.EntropyThreshold
}

// FitStratum fits a calibration on the images a job's review rule sent to
// review and people decided: post and labels are theirs (a label may be
// Unknown), us their shares u (U of their keys), and every image must be
// in the stratum. The calibration's Set uses its threshold in the stratum
// only. The scores are fitted with the images' own u, not fresh draws:
// by set size the rule chose images by u too (a randomised set is empty
// where u·p(top) > q̂), so within the stratum u is not uniform, and only
// the u the rule saw keeps calibration and later images exchangeable.
func FitStratum(post [][]float64, labels []int, us []float64, s Stratum, o Options) (*Calibration, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if o.By == ByStudy {
		return nil, errors.New("review decisions are per image: a study calibration needs study labels")
	}
	for i, p := range post {
		if !s.Holds(p, us[i]) {
			return nil, fmt.Errorf("image %d is not one the %s rule sends to review: fit on the review list only", i, s.Rule)
		}
	}
	if len(us) != len(post) {
		return nil, fmt.Errorf("%d posteriors and %d shares u: want one each", len(post), len(us))
	}
	c, err := fit(post, labels, us, o, true)
	if err != nil {
		return nil, err
	}
	s.Reviewed, s.Unknown = len(labels), 0
	for _, y := range labels {
		if y == Unknown {
			s.Unknown++
		}
	}
	c.Stratum = &s
	return c, nil
}

// check validates a stratum as Validate does within a file.
func (s *Stratum) check() error {
	switch s.Rule {
	case RuleSetSize:
		if s.Base == nil {
			return bad("stratum.base", "missing: the set_size rule needs the job's calibration")
		}
		if s.EntropyThreshold != 0 {
			return bad("stratum.entropy_threshold", "for the entropy rule only")
		}
		if s.Base.Stratum != nil || s.Base.By == ByStudy {
			return bad("stratum.base", "a calibration of images without a stratum of its own")
		}
		if err := s.Base.Validate(); err != nil {
			return fmt.Errorf("stratum base: %w", err)
		}
	case RuleEntropy:
		if s.Base != nil {
			return bad("stratum.base", "for the set_size rule only")
		}
		if !(s.EntropyThreshold >= 0 && s.EntropyThreshold <= 1) {
			return bad("stratum.entropy_threshold", "%g: want 0 to 1", s.EntropyThreshold)
		}
	default:
		return bad("stratum.rule", "%q: want %s or %s", s.Rule, RuleSetSize, RuleEntropy)
	}
	return nil
}
