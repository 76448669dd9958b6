// Package calibrate turns a model's posteriors into prediction sets with a
// coverage guarantee: temperature scaling fitted on a labelled calibration
// set (kept only if it lowers the held-out NLL), then split-conformal
// prediction sets (LAC, APS or RAPS) at coverage 1 − α. The result is a
// small JSON file (Calibration) that a job carries in its spec, so each
// record gets the set of classes that contains the true class with
// probability at least 1 − α (over exchangeable images).
package calibrate

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
)

// FormatVersion is the calibration file's format.
const FormatVersion = "1"

// The conformal scores.
const (
	// LAC: 1 − p(y); sets of the classes above a probability cut. Smallest sets on average.
	LAC = "lac"
	// APS: the probability mass of the classes ranked above y plus a
	// uniform share u of p(y) (randomised APS: without u, a confident model's
	// scores all sit at 1 and its sets take every class); sets adapt to how
	// unsure each image is. u is fixed per image (Set's argument), so a
	// record's set is reproducible.
	APS = "aps"
	// RAPS: APS plus Lambda for each rank past KReg: shorter tails than APS.
	RAPS = "raps"
)

// Calibration is a fitted calibration: what a job needs to make prediction
// sets, and what it measured on the held-out half.
type Calibration struct {
	FormatVersion string  `json:"format_version"`
	ModelSHA256   string  `json:"model_sha256"`
	Method        string  `json:"method"`
	Alpha         float64 `json:"alpha"`
	// Temperature divides the log-posterior before sets are made (1: none).
	Temperature float64 `json:"temperature"`
	// Threshold is the conformal quantile q̂ of the calibration scores.
	Threshold float64 `json:"threshold"`
	// Lambda and KReg are RAPS's penalty and the rank it starts after.
	Lambda float64 `json:"lambda,omitempty"`
	KReg   int     `json:"k_reg,omitempty"`
	// What was fitted on and measured.
	CalibrationSize int      `json:"calibration_size"`
	HeldOut         Measured `json:"held_out"`
	// NLL before and after temperature scaling on the held-out half; the
	// temperature is kept only if it lowered it.
	NLLBefore float64 `json:"nll_before"`
	NLLAfter  float64 `json:"nll_after"`
}

// Measured is what the sets did on labelled images.
type Measured struct {
	Images int `json:"images"`
	// Coverage is the share of images whose set holds the true class.
	Coverage    float64 `json:"coverage"`
	MeanSetSize float64 `json:"mean_set_size"`
	// Review is the share with more than one class in the set (a person
	// looks at them); AcceptedError is the top class's error rate among the
	// rest (sets of one class, or empty).
	Review        float64 `json:"review"`
	AcceptedError float64 `json:"accepted_error"`
}

// Options choose the method.
type Options struct {
	Method string  // LAC, APS or RAPS; empty means APS
	Alpha  float64 // miscoverage, in (0, 1)
	// Lambda and KReg for RAPS; zero means 0.01 and 1.
	Lambda float64
	KReg   int
	// Seed splits the labelled images into calibration and held-out halves.
	Seed uint64
}

// Fit splits the labelled posteriors in two halves, fits the temperature
// and the conformal threshold on one and measures the sets on the other.
func Fit(post [][]float64, labels []int, o Options) (*Calibration, error) {
	if o.Method == "" {
		o.Method = APS
	}
	if o.Method != LAC && o.Method != APS && o.Method != RAPS {
		return nil, fmt.Errorf("method %q: want lac, aps or raps", o.Method)
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return nil, fmt.Errorf("alpha %g: want between 0 and 1", o.Alpha)
	}
	if len(post) != len(labels) || len(post) < 20 {
		return nil, fmt.Errorf("%d posteriors and %d labels: want the same number, at least 20", len(post), len(labels))
	}
	for i, y := range labels {
		if y < 0 || y >= len(post[i]) {
			return nil, fmt.Errorf("label %d of image %d is not a class of a %d-class model", y, i, len(post[i]))
		}
	}
	if o.Method == RAPS {
		if o.Lambda == 0 {
			o.Lambda = 0.01
		}
		if o.KReg == 0 {
			o.KReg = 1
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xca1))
	idx := rng.Perm(len(post))
	us := make([]float64, len(post)) // each image's u, as Set gets it
	for i := range us {
		us[i] = rng.Float64()
	}
	cal, held := idx[:len(idx)/2], idx[len(idx)/2:]
	c := &Calibration{FormatVersion: FormatVersion, Method: o.Method, Alpha: o.Alpha, Lambda: o.Lambda, KReg: o.KReg,
		CalibrationSize: len(cal), Temperature: 1}
	t := fitTemperature(post, labels, cal)
	c.NLLBefore, c.NLLAfter = nll(post, labels, held, 1), nll(post, labels, held, t)
	if c.NLLAfter < c.NLLBefore {
		c.Temperature = t
	} else {
		c.NLLAfter = c.NLLBefore
	}
	scores := make([]float64, len(cal))
	for i, j := range cal {
		scores[i] = c.score(c.scaled(post[j]), labels[j], us[j])
	}
	c.Threshold = quantile(scores, o.Alpha)
	c.HeldOut = c.Measure(subset(post, held), subset(labels, held), subset(us, held))
	return c, nil
}

// Validate checks a calibration read from a file.
func (c *Calibration) Validate() error {
	switch {
	case c.FormatVersion != FormatVersion:
		return fmt.Errorf("calibration format %q: this build reads %s", c.FormatVersion, FormatVersion)
	case c.Method != LAC && c.Method != APS && c.Method != RAPS:
		return fmt.Errorf("calibration method %q", c.Method)
	case !(c.Temperature > 0) || math.IsNaN(c.Threshold):
		return errors.New("calibration temperature or threshold is not a number")
	}
	return nil
}

// Set returns the prediction set for posterior p: class indices, most
// probable first. u in [0, 1) is the image's share for APS and RAPS (U
// derives it from the image's key). The set may be empty: the model is so
// sure of the image that at this α no class is needed to keep the coverage
// (a model right 93% of the time cannot cover exactly 90% otherwise); the
// pipeline accepts such an image with its top class, as a set of one.
func (c *Calibration) Set(p []float64, u float64) []int {
	q := c.scaled(p)
	order := rank(q)
	var set []int
	before := 0.0
	for r, k := range order {
		var s float64
		switch c.Method {
		case LAC:
			s = 1 - q[k]
		case APS:
			s = before + u*q[k]
		default:
			s = before + u*q[k] + c.Lambda*math.Max(0, float64(r+1-c.KReg))
		}
		before += q[k]
		if s <= c.Threshold {
			set = append(set, k)
		} else if c.Method != LAC {
			break // APS and RAPS scores grow with the rank
		}
	}
	return set
}

// Measure applies the sets to labelled posteriors, image i with share us[i].
func (c *Calibration) Measure(post [][]float64, labels []int, us []float64) Measured {
	m := Measured{Images: len(post)}
	accepted, wrong := 0, 0
	for i, p := range post {
		set := c.Set(p, us[i])
		m.MeanSetSize += float64(len(set))
		for _, k := range set {
			if k == labels[i] {
				m.Coverage++
				break
			}
		}
		if len(set) > 1 {
			m.Review++
		} else {
			accepted++
			if argmax(p) != labels[i] {
				wrong++
			}
		}
	}
	n := float64(max(1, len(post)))
	m.Coverage, m.MeanSetSize, m.Review = m.Coverage/n, m.MeanSetSize/n, m.Review/n
	if accepted > 0 {
		m.AcceptedError = float64(wrong) / float64(accepted)
	}
	return m
}

// score is the conformal score of the true class y under posterior q.
func (c *Calibration) score(q []float64, y int, u float64) float64 {
	if c.Method == LAC {
		return 1 - q[y]
	}
	before := 0.0
	for r, k := range rank(q) {
		if k == y {
			s := before + u*q[k]
			if c.Method == RAPS {
				s += c.Lambda * math.Max(0, float64(r+1-c.KReg))
			}
			return s
		}
		before += q[k]
	}
	return math.Inf(1)
}

// U is an image's share for Set, from its key: the same key gets the same
// set in every run.
func U(key string) float64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// scaled is softmax(log p / T).
func (c *Calibration) scaled(p []float64) []float64 { return temper(p, c.Temperature) }

func temper(p []float64, t float64) []float64 {
	out := make([]float64, len(p))
	if t == 1 {
		copy(out, p)
		return out
	}
	m := math.Inf(-1)
	for i, v := range p {
		out[i] = math.Log(math.Max(v, 1e-12)) / t
		m = math.Max(m, out[i])
	}
	var s float64
	for i := range out {
		out[i] = math.Exp(out[i] - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func argmax(p []float64) int {
	j := 0
	for i, v := range p {
		if v > p[j] {
			j = i
		}
	}
	return j
}

// rank orders classes by probability, most probable first (ties: lower index).
func rank(q []float64) []int {
	idx := make([]int, len(q))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return q[idx[a]] > q[idx[b]] })
	return idx
}

// quantile is split conformal's q̂: the ⌈(n+1)(1−α)⌉-th smallest score
// (+Inf when that rank passes n: every class is in every set).
func quantile(scores []float64, alpha float64) float64 {
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	k := int(math.Ceil(float64(len(s)+1) * (1 - alpha)))
	if k > len(s) {
		return math.Inf(1)
	}
	return s[max(0, k-1)]
}

// nll is the mean negative log-likelihood of the labels at temperature t.
func nll(post [][]float64, labels, idx []int, t float64) float64 {
	var s float64
	for _, i := range idx {
		s -= math.Log(math.Max(temper(post[i], t)[labels[i]], 1e-12))
	}
	return s / float64(max(1, len(idx)))
}

// fitTemperature minimises the NLL over log T in [log 0.05, log 20] by
// golden-section search (the NLL is unimodal in T for a fixed posterior).
func fitTemperature(post [][]float64, labels, idx []int) float64 {
	f := func(lt float64) float64 { return nll(post, labels, idx, math.Exp(lt)) }
	lo, hi := math.Log(0.05), math.Log(20)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := f(a), f(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = f(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = f(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

func subset[T any](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = s[j]
	}
	return out
}
