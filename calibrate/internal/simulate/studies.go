package main

import (
	"fmt"
	"slices"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// Synthetic studies, from each seed's order of the digits: the first half
// calibrates images (the image calibration a job of single images uses),
// the second half makes studies:
//
//   - one label, mean rule: three digits of one label; the study's label.
//   - any image shows it, max rule: a 0 ("normal") and a digit c of 1-9
//     (the finding); the study's label is c, which one image shows.
//
// Each kind is calibrated by study (half its studies calibrate, half are
// held out) and measured there; the image calibration applied to every
// study's posterior is measured beside it.

// studyKind builds the studies of one kind from digits.
type studyKind struct {
	name string
	rule grouping.Rule
	make func(ds []digit) [][]digit
}

var studyKinds = []studyKind{
	{"one label, 3 images", grouping.Mean, oneLabel},
	{"a 0 and a finding 1-9 (any image shows it)", grouping.Max, anyShows},
}

// oneLabel groups digits of one label in threes, in ds's order.
func oneLabel(ds []digit) [][]digit {
	byLabel := map[int][]digit{}
	var out [][]digit
	for _, d := range ds {
		if g := append(byLabel[d.y], d); len(g) == 3 {
			out, byLabel[d.y] = append(out, g), nil
		} else {
			byLabel[d.y] = g
		}
	}
	return out
}

// anyShows pairs each 0 with the next digit of another label.
func anyShows(ds []digit) [][]digit {
	var zeros, findings []digit
	for _, d := range ds {
		if d.y == 0 {
			zeros = append(zeros, d)
		} else {
			findings = append(findings, d)
		}
	}
	out := make([][]digit, min(len(zeros), len(findings)))
	for i := range out {
		out[i] = []digit{zeros[i], findings[i]}
	}
	return out
}

// studyLabel is a study's label: the label its images share, or its finding.
func studyLabel(g []digit) int { return g[len(g)-1].y }

func studies(ds []digit, names []string, alpha float64, seeds int) error {
	fmt.Printf("| studies | rule | sets | calibrated | studies | coverage of held-out studies: mean of %d | lowest | mean set size | "+
		"set of one class | worst class's coverage |\n", seeds)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, kind := range studyKinds {
		for _, sets := range setKinds {
			var byStudy, byImage outcome
			byStudy.covMin, byImage.covMin = 1, 1
			n := 0
			for s := range seeds {
				order := shuffled(ds, uint64(s))
				half := len(order) / 2
				groups := kind.make(order[half:])
				post, ys, err := studyPosteriors(groups, kind.rule, names, uint64(s))
				if err != nil {
					return err
				}
				c, err := calibrate.Fit(post, ys, calibrate.Options{Alpha: alpha, Sets: sets, By: calibrate.ByStudy,
					StudyRule: string(kind.rule), Seed: uint64(s)})
				if err != nil {
					return err
				}
				byStudy.addMeasured(c.HeldOut)
				ip, iys := labelled(order[:half])
				img, err := calibrate.Fit(ip, iys, calibrate.Options{Alpha: alpha, Sets: sets, Seed: uint64(s)})
				if err != nil {
					return err
				}
				us := make([]float64, len(post))
				for i := range us {
					us[i] = calibrate.U(studyUID(uint64(s), i))
				}
				byImage.addMeasured(img.Measure(post, ys, us))
				n += len(groups)
			}
			for _, row := range []struct {
				how string
				o   outcome
			}{{"by study", byStudy}, {"by image, applied to studies", byImage}} {
				k := float64(seeds)
				fmt.Printf("| %s | %s | %s | %s | %d | %.2f%% | %.2f%% | %.3f | %.1f%% | %.2f%% |\n", kind.name, kind.rule, sets, row.how,
					n/seeds, 100*row.o.cov/k, 100*row.o.covMin, row.o.size/k, 100-100*row.o.review/k, 100*row.o.worst/k)
			}
		}
	}
	return nil
}

// addMeasured adds held-out figures to o.
func (o *outcome) addMeasured(m calibrate.Measured) {
	w, _ := m.Worst()
	o.cov, o.covMin, o.size, o.review, o.worst = o.cov+m.Coverage, min(o.covMin, m.Coverage), o.size+m.MeanSetSize, o.review+m.Review, o.worst+w.Coverage
}

func studyUID(seed uint64, i int) string { return fmt.Sprintf("2.25.%d.%d", seed, i) }

// studyPosteriors groups the studies' images with package grouping (as a
// job's studies.jsonl does) and returns each study's posterior and label.
func studyPosteriors(groups [][]digit, rule grouping.Rule, names []string, seed uint64) ([][]float64, []int, error) {
	label := map[string]int{}
	records := func(fn func(pipeline.Record) error) error {
		for i, g := range groups {
			uid := studyUID(seed, i)
			label[uid] = studyLabel(g)
			for _, d := range g {
				r := d.rec
				r.StudyUID, r.SeriesUID = uid, uid+".1"
				if err := fn(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	res, err := grouping.Run(grouping.Config{Rule: rule, Classes: names}, records)
	if err != nil {
		return nil, nil, err
	}
	var post [][]float64
	var ys []int
	for _, s := range res.Studies() {
		post, ys = append(post, slices.Clone(s.Posterior)), append(ys, label[s.StudyUID])
	}
	return post, ys, nil
}
