package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// The per-class section shows where a guarantee is weakest: a marginal
// calibration covers 1 − α of images on average over the classes, and a
// class the model finds hard can sit well below. Its figures come from the
// calibration's held-out half (calibrate.Measured.PerClass, written with
// the file) and, with labels, from the job's own labelled images.

// classHits counts one true class's labelled, classified images.
type classHits struct {
	n, correct       int
	withSet, covered int
	setSum           int
}

// addClass counts a labelled, classified record under its true class.
func (t *tally) addClass(l Label, r pipeline.Record, right bool) {
	name := l.Class
	if name == "" {
		name = t.nameOf(l.Index)
	}
	if t.perClass == nil {
		t.perClass = map[string]*classHits{}
	}
	h := t.perClass[name]
	if h == nil {
		h = &classHits{}
		t.perClass[name] = h
	}
	h.n++
	if right {
		h.correct++
	}
	if t.setSizes != nil && r.SetSize != nil {
		h.withSet++
		h.setSum += *r.SetSize
		if slices.Contains(r.PredictionSet, name) {
			h.covered++
		}
	}
}

// nameOf is class i's name in the job, or "#i" when the job names none.
func (t *tally) nameOf(i int) string {
	if i >= 0 && i < len(t.classNames) && t.classNames[i] != "" {
		return t.classNames[i]
	}
	return "#" + strconv.Itoa(i)
}

// classTable is the per-class section.
type classTable struct {
	Facts            []fact
	HeldOut, Labeled bool // which column groups it has
	Sets             bool // whether the job's columns have coverage and set size
	Rows             []classRow
	Note             string
}

type classRow struct {
	Class                                  string
	HeldImages, HeldCov, HeldSize, HeldAcc string
	Images, Accuracy, Coverage, SetSize    string
	Weakest                                bool
	heldCov, cov                           float64
}

// classSection builds the per-class table from the job's calibration and,
// when labels were given, its labelled images; nil when it has neither.
func classSection(spec jobs.Spec, t *tally) *classTable {
	c := spec.Calibration
	held := c != nil && len(c.HeldOut.PerClass) > 0
	labeled := t != nil && t.perClass != nil
	if !held && !labeled {
		return nil
	}
	ct := &classTable{HeldOut: held, Labeled: labeled, Sets: labeled && t.setSizes != nil}
	rows := map[string]*classRow{}
	var order []string
	row := func(name string) *classRow {
		if rows[name] == nil {
			rows[name] = &classRow{Class: name, heldCov: math.NaN(), cov: math.NaN()}
			order = append(order, name)
		}
		return rows[name]
	}
	for _, name := range spec.ClassNames {
		row(name)
	}
	if held {
		ct.Facts = calibrationFacts(c)
		for _, m := range c.HeldOut.PerClass {
			r := row(nameIn(spec.ClassNames, m.Class))
			r.HeldImages, r.heldCov = comma(m.Images), math.NaN()
			if m.Images > 0 {
				r.heldCov = m.Coverage
				r.HeldCov, r.HeldSize, r.HeldAcc = rate(m.Coverage), fmt.Sprintf("%.2f", m.MeanSetSize), rate(m.Accuracy)
			}
		}
	}
	if labeled {
		for _, name := range slices.Sorted(maps.Keys(t.perClass)) {
			h, r := t.perClass[name], row(name)
			r.Images, r.Accuracy = comma(h.n), rate(ratio(h.correct, h.n))
			if h.withSet > 0 {
				r.cov = ratio(h.covered, h.withSet)
				r.Coverage, r.SetSize = rate(r.cov), fmt.Sprintf("%.2f", float64(h.setSum)/float64(h.withSet))
			}
		}
	}
	for _, name := range order {
		if r := rows[name]; r.HeldImages != "" || r.Images != "" {
			ct.Rows = append(ct.Rows, *r)
		}
	}
	ct.markWeakest()
	return ct
}

// markWeakest flags the row with the lowest coverage (the job's when it
// has one, else the held-out one) and says which it is.
func (ct *classTable) markWeakest() {
	cov := func(r classRow) float64 {
		if !math.IsNaN(r.cov) {
			return r.cov
		}
		return nanAs(r.heldCov, 2)
	}
	best := -1
	for i, r := range ct.Rows {
		if cov(r) <= 1 && (best < 0 || cov(r) < cov(ct.Rows[best])) {
			best = i
		}
	}
	if best < 0 {
		return
	}
	ct.Rows[best].Weakest = true
	ct.Note = fmt.Sprintf("The guarantee is weakest on %s: its prediction sets hold it for %s of its images.",
		ct.Rows[best].Class, rate(cov(ct.Rows[best])))
}

// nanAs is v, or def when v is NaN.
func nanAs(v, def float64) float64 {
	if math.IsNaN(v) {
		return def
	}
	return v
}

// calibrationFacts say what the calibration promises.
func calibrationFacts(c *calibrate.Calibration) []fact {
	over := "on average over the images (by image): a class may be covered less"
	if c.By == calibrate.ByClass {
		over = "for each class (by class)"
	}
	fs := []fact{{"Coverage asked", fmt.Sprintf("%s, %s", rate(1-c.Alpha), over)},
		{"Held out when calibrated", fmt.Sprintf("%s images, coverage %s, mean set size %.2f", comma(c.HeldOut.Images),
			rate(c.HeldOut.Coverage), c.HeldOut.MeanSetSize)}}
	if c.Stratum != nil {
		fs = append(fs, fact{"Fitted on", fmt.Sprintf("the review decisions of job %s: its sets are calibrated for the images "+
			"that job's review rule (%s) reviews", c.Stratum.Job, c.Stratum.Rule)})
	}
	return fs
}

// nameIn is class i's name, or "#i".
func nameIn(names []string, i int) string {
	if i >= 0 && i < len(names) && names[i] != "" {
		return names[i]
	}
	return "#" + strconv.Itoa(i)
}
