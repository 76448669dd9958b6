package calibrate

import (
	"fmt"
	"math"
	"strings"
)

// Class-conditional (Mondrian) conformal prediction: the calibration
// images of class k alone give class k's threshold q̂_k, the
// ⌈(n_k+1)(1−α)⌉-th smallest of their n_k scores. The images of class k
// are exchangeable among themselves, so P(k ∈ C(X) | Y = k) ≥ 1 − α for
// every k, not only on average over the classes; and, with scores that
// do not tie (randomised APS), at most 1 − α + 1/(n_k + 1). q̂_k is finite
// only when n_k ≥ MinCalibration(α) = ⌈(1−α)/α⌉; with fewer, the honest
// set for class k would hold every class, and Fit refuses instead.

// ClassCount is a class's number of calibration images.
type ClassCount struct {
	Class, Images int
}

// ClassCountError is Fit's refusal By ByClass: the classes with fewer
// calibration images than Need (MinCalibration at the calibration's α).
// Fit calibrates on half of each class's labelled images (the other half
// measures), so a class needs twice Need labelled images.
type ClassCountError struct {
	Alpha float64
	Need  int
	Short []ClassCount
}

func (e *ClassCountError) Error() string {
	parts := make([]string, len(e.Short))
	for i, s := range e.Short {
		parts[i] = fmt.Sprintf("class %d has %d", s.Class, s.Images)
	}
	return fmt.Sprintf("by class at alpha %g: each class needs %d calibration images, %d labelled (half calibrate, half measure): %s",
		e.Alpha, e.Need, 2*e.Need, strings.Join(parts, ", "))
}

// splitByClass splits each class's images (idx's order: shuffled) in
// halves, the first ⌊m_k/2⌋ to calibrate and the rest to measure, so that
// each class's calibration count is fixed by its labelled count, not by
// the shuffle. Images of Unknown label are split the same way.
func splitByClass(idx, labels []int) (cal, held []int) {
	total := map[int]int{}
	for _, i := range idx {
		total[labels[i]]++
	}
	taken := map[int]int{}
	for _, i := range idx {
		if y := labels[i]; taken[y] < total[y]/2 {
			taken[y]++
			cal = append(cal, i)
		} else {
			held = append(held, i)
		}
	}
	return cal, held
}

// fitClasses sets each class's threshold from the calibration scores of
// its images, labels[i] being score i's label. An image of Unknown label
// could be of any class: its +Inf score joins every class's (which can
// only raise a class's q̂). A class whose q̂ is infinite has too few
// (known) images: the error names every such class.
func (c *Calibration) fitClasses(scores []float64, labels []int) error {
	byClass := make([][]float64, c.Classes)
	for i, y := range labels {
		if y == Unknown {
			for k := range byClass {
				byClass[k] = append(byClass[k], math.Inf(1))
			}
			continue
		}
		byClass[y] = append(byClass[y], scores[i])
	}
	c.ClassThresholds, c.ClassSizes = make([]float64, c.Classes), make([]int, c.Classes)
	short := &ClassCountError{Alpha: c.Alpha, Need: MinCalibration(c.Alpha)}
	for k, s := range byClass {
		c.ClassThresholds[k], c.ClassSizes[k] = quantile(s, c.Alpha), len(s)
		if math.IsInf(c.ClassThresholds[k], 1) {
			short.Short = append(short.Short, ClassCount{Class: k, Images: finite(s)})
		}
	}
	if len(short.Short) > 0 {
		return short
	}
	return nil
}

// finite counts the finite scores: images of a known label.
func finite(s []float64) int {
	n := 0
	for _, v := range s {
		if !math.IsInf(v, 1) {
			n++
		}
	}
	return n
}
