package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/didicm/didicm/calibrate"
)

// A simulated night: of each seed's order of the digits, 2,000 are the
// random labelled sample the job was calibrated with, 4,000 the job, and
// 4,000 held out. The job's review rule picks its review list, a perfect
// reviewer labels it (MNIST's truth), and calibrations fitted on it are
// measured on the held-out digits, against one fitted on as many digits
// drawn at random from the job.

// rule is a job's review rule: the stratum it makes, given the job's
// calibration (fitted on the labelled sample with baseSets), if any.
type rule struct {
	name, baseSets string
	entropy        float64
}

var rules = []rule{
	{name: "set size, job calibrated with randomized sets", baseSets: calibrate.Randomized},
	{name: "set size, job calibrated with randomized-nonempty sets", baseSets: calibrate.RandomizedNonEmpty},
	{name: "entropy above 0.5, job not calibrated", entropy: 0.5},
}

// fitKinds are the calibrations compared: on the reviewed images as if
// random, on them for their stratum only, and on a random sample as large.
var fitKinds = []string{"reviews, as if random", "reviews, for their stratum (--from-reviews)", "a random sample as large"}

// outcome is one calibration's figures on the held-out digits.
type outcome struct {
	reviewed                         float64
	cov, covMin, size, review, worst float64
	inCov, inCovMin, outErr          float64
}

func (r rule) stratum(base []digit, alpha float64, seed uint64) (*calibrate.Stratum, error) {
	if r.baseSets == "" {
		return &calibrate.Stratum{Rule: calibrate.RuleEntropy, EntropyThreshold: r.entropy}, nil
	}
	post, ys := labelled(base)
	c, err := calibrate.Fit(post, ys, calibrate.Options{Alpha: alpha, Sets: r.baseSets, Seed: seed})
	if err != nil {
		return nil, err
	}
	c.ModelSHA256 = strings.Repeat("0", 64) // FitStratum checks the base as a file
	return &calibrate.Stratum{Rule: calibrate.RuleSetSize, Base: c}, nil
}

func reviews(ds []digit, alpha float64, seeds int) error {
	if len(ds) < 10000 {
		return fmt.Errorf("%d labelled digits: want 10,000", len(ds))
	}
	fmt.Printf("| job's review rule | fitted on | sets | reviewed | coverage, 4,000 held out: mean of %d | lowest | mean set size | to review | "+
		"coverage where the rule reviews | lowest | top-1 error where it accepts | worst class's coverage |\n", seeds)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range rules {
		for _, sets := range setKinds {
			out := make([]outcome, len(fitKinds))
			for i := range out {
				out[i].covMin, out[i].inCovMin = 1, 1
			}
			for s := range seeds {
				if err := night(ds, r, sets, alpha, uint64(s), out); err != nil {
					return err
				}
			}
			n := float64(seeds)
			for i, o := range out {
				fmt.Printf("| %s | %s | %s | %.0f | %.2f%% | %.2f%% | %.3f | %.1f%% | %.2f%% | %.2f%% | %.2f%% | %.2f%% |\n", r.name, fitKinds[i], sets,
					o.reviewed/n, 100*o.cov/n, 100*o.covMin, o.size/n, 100*o.review/n, 100*o.inCov/n, 100*o.inCovMin, 100*o.outErr/n, 100*o.worst/n)
			}
		}
	}
	return nil
}

// night simulates one seed's job and adds each calibration's figures to out.
func night(ds []digit, r rule, sets string, alpha float64, seed uint64, out []outcome) error {
	order := shuffled(ds, seed)
	base, job, held := order[:2000], order[2000:6000], order[6000:10000]
	st, err := r.stratum(base, alpha, seed)
	if err != nil {
		return err
	}
	var rev []digit
	for _, d := range job {
		if st.Holds(d.rec.Posterior, calibrate.U(d.rec.Key)) {
			rev = append(rev, d)
		}
	}
	post, ys := labelled(rev)
	us := make([]float64, len(rev))
	for i, d := range rev {
		us[i] = calibrate.U(d.rec.Key)
	}
	o := calibrate.Options{Alpha: alpha, Sets: sets, Seed: seed}
	naive, err := calibrate.Fit(post, ys, o)
	if err != nil {
		return fmt.Errorf("%s, %d reviewed: %w", r.name, len(rev), err)
	}
	stratified, err := calibrate.FitStratum(post, ys, us, *st, o)
	if err != nil {
		return err
	}
	rp, rys := labelled(job[:len(rev)]) // the job is in random order already
	random, err := calibrate.Fit(rp, rys, o)
	if err != nil {
		return err
	}
	for i, c := range []*calibrate.Calibration{naive, stratified, random} {
		out[i].add(c, st, held, len(rev))
	}
	return nil
}

// add measures c on held, apart where the stratum reviews and accepts.
func (o *outcome) add(c *calibrate.Calibration, st *calibrate.Stratum, held []digit, reviewed int) {
	post, ys := labelled(held)
	us := make([]float64, len(held))
	in, inCovered, out, outWrong := 0, 0, 0, 0
	for i, d := range held {
		us[i] = calibrate.U(d.rec.Key)
		set := c.Set(d.rec.Posterior, us[i])
		if st.Holds(d.rec.Posterior, us[i]) {
			in++
			if slices.Contains(set, d.y) {
				inCovered++
			}
		} else {
			out++
			if d.rec.ClassIndex != d.y {
				outWrong++
			}
		}
	}
	m := c.Measure(post, ys, us)
	w, _ := m.Worst()
	inCov := float64(inCovered) / float64(max(1, in))
	o.reviewed += float64(reviewed)
	o.cov, o.covMin, o.size, o.review, o.worst = o.cov+m.Coverage, min(o.covMin, m.Coverage), o.size+m.MeanSetSize, o.review+m.Review, o.worst+w.Coverage
	o.inCov, o.inCovMin, o.outErr = o.inCov+inCov, min(o.inCovMin, inCov), o.outErr+float64(outWrong)/float64(max(1, out))
}
