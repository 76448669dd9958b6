package calibrate

import "slices"

// Measured is what the sets did on labelled images.
type Measured struct {
	Images int `json:"images"`
	// Coverage is the share of images whose set holds the true class (an
	// image of Unknown label counts as not covered).
	Coverage    float64 `json:"coverage"`
	MeanSetSize float64 `json:"mean_set_size"`
	// Empty is the share of empty sets and EmptyError the top class's
	// error rate among them; Review the share a person looks at (sets of
	// more than one class, or empty: the set names no class to accept), and
	// AcceptedError the top class's error rate among the rest (sets of one
	// class).
	Empty         float64 `json:"empty"`
	EmptyError    float64 `json:"empty_error"`
	Review        float64 `json:"review"`
	AcceptedError float64 `json:"accepted_error"`
	// PerClass are the same images by their true class, in class order
	// (format 3): a class's coverage is what the guarantee By ByClass is
	// about, and the worst one is where a marginal guarantee is weakest.
	PerClass []ClassMeasured `json:"per_class,omitempty"`
}

// ClassMeasured is what the sets did on the images of one class.
type ClassMeasured struct {
	Class  int `json:"class"`
	Images int `json:"images"`
	// Coverage is the share whose set holds the class (recall of the
	// sets), Accuracy the share whose top class is it (top-1 recall).
	Coverage    float64 `json:"coverage"`
	MeanSetSize float64 `json:"mean_set_size"`
	Accuracy    float64 `json:"accuracy"`
}

// Measure applies the sets to labelled posteriors, image i with share us[i].
func (c *Calibration) Measure(post [][]float64, labels []int, us []float64) Measured {
	m := Measured{Images: len(post)}
	k := c.Classes
	for _, p := range post {
		k = max(k, len(p))
	}
	per := make([]ClassMeasured, k)
	accepted, wrong, emptyWrong := 0, 0, 0
	for i, p := range post {
		set := c.Set(p, us[i])
		y, top := labels[i], rank(p)[0]
		in := slices.Contains(set, y)
		m.MeanSetSize += float64(len(set))
		if in {
			m.Coverage++
		}
		if y >= 0 && y < k {
			per[y].add(in, len(set), top == y)
		}
		switch {
		case len(set) == 0:
			m.Empty++
			m.Review++
			if top != y {
				emptyWrong++
			}
		case len(set) > 1:
			m.Review++
		default:
			accepted++
			if set[0] != y {
				wrong++
			}
		}
	}
	if m.Empty > 0 {
		m.EmptyError = float64(emptyWrong) / m.Empty
	}
	n := float64(max(1, len(post)))
	m.Coverage, m.MeanSetSize, m.Empty, m.Review = m.Coverage/n, m.MeanSetSize/n, m.Empty/n, m.Review/n
	if accepted > 0 {
		m.AcceptedError = float64(wrong) / float64(accepted)
	}
	for y := range per {
		per[y].Class = y
		per[y].finish()
	}
	m.PerClass = per
	return m
}

// add counts one image of the class: covered, its set's size, top-1 right.
func (m *ClassMeasured) add(covered bool, size int, right bool) {
	m.Images++
	m.MeanSetSize += float64(size)
	if covered {
		m.Coverage++
	}
	if right {
		m.Accuracy++
	}
}

// finish turns the counts into shares (0 for a class with no images).
func (m *ClassMeasured) finish() {
	if m.Images > 0 {
		n := float64(m.Images)
		m.Coverage, m.MeanSetSize, m.Accuracy = m.Coverage/n, m.MeanSetSize/n, m.Accuracy/n
	}
}

// Worst is the class with the lowest coverage among those with images
// (ok false when none has any).
func (m Measured) Worst() (ClassMeasured, bool) {
	var worst ClassMeasured
	ok := false
	for _, c := range m.PerClass {
		if c.Images > 0 && (!ok || c.Coverage < worst.Coverage) {
			worst, ok = c, true
		}
	}
	return worst, ok
}
