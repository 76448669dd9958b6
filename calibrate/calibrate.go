// Package calibrate turns a model's posteriors into prediction sets with a
// coverage guarantee: temperature scaling fitted on a labelled calibration
// set (kept only if it lowers the held-out NLL), then split-conformal
// prediction sets (LAC, APS or RAPS) at coverage 1 − α. The result is a
// small JSON file (Calibration) that a job carries in its spec, so each
// record gets the set of classes that contains the true class with
// probability at least 1 − α (over exchangeable images).
package calibrate

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// FormatVersion is the calibration file's format: 2 added classes and
// randomized (Parse reads version 1 files too).
const FormatVersion = "2"

// The ranges Fit works in and Validate allows.
const (
	// MinTemperature and MaxTemperature bound the temperature search.
	MinTemperature, MaxTemperature float64 = 0.05, 20
	// MaxLambda bounds RAPS's penalty per rank (the RAPS paper's values
	// are 0.001 to 0.5): past 1 a rank costs more than all the probability.
	MaxLambda = 1.0
)

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

// The kinds of sets (Calibration.Sets).
const (
	// Randomized sets hold the class that crosses the threshold for a share
	// of the images: coverage 1 − α exactly; a set may be empty.
	Randomized = "randomized"
	// NonRandomized sets always hold it: never empty, larger.
	NonRandomized = "non-randomized"
)

func (c *Calibration) randomized() bool { return c.Sets != NonRandomized }

// Calibration is a fitted calibration: what a job needs to make prediction
// sets, and what it measured on the held-out half.
type Calibration struct {
	FormatVersion string `json:"format_version"`
	ModelSHA256   string `json:"model_sha256"`
	// Classes is the model's K (0 in version 1 files).
	Classes int     `json:"classes"`
	Method  string  `json:"method"`
	Alpha   float64 `json:"alpha"`
	// Sets says how APS and RAPS treat the class whose score crosses the
	// threshold. Randomized (the default; empty means it, as in version 1
	// files): it is in the set for a share u of the images (u from the
	// image's key), so the coverage is 1 − α on the nose and a set may be
	// empty. NonRandomized (as MAPIE's include_last_label=True): it is
	// always in the set, the scores are fitted without u, and no set is
	// ever empty, at the price of larger sets. For LAC, NonRandomized adds
	// the top class to a set that would be empty.
	Sets string `json:"sets"`
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
	// Empty is the share of empty sets and EmptyError the top class's
	// error rate among them; Review the share a person looks at (sets of
	// more than one class, or empty: the set names no class to accept), and
	// AcceptedError the top class's error rate among the rest (sets of one
	// class).
	Empty         float64 `json:"empty"`
	EmptyError    float64 `json:"empty_error"`
	Review        float64 `json:"review"`
	AcceptedError float64 `json:"accepted_error"`
}

// Options choose the method.
type Options struct {
	Method string  // LAC, APS or RAPS; empty means APS
	Alpha  float64 // miscoverage, in (0, 1)
	// Lambda and KReg for RAPS; zero means 0.01 and 1 (RAPS with λ = 0 is
	// APS, and k_reg 0 gives the sets of k_reg 1).
	Lambda float64
	KReg   int
	// Sets is Randomized or NonRandomized (Calibration.Sets); empty means
	// Randomized.
	Sets string
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
	if o.Sets != "" && o.Sets != Randomized && o.Sets != NonRandomized {
		return nil, fmt.Errorf("sets %q: want %s or %s", o.Sets, Randomized, NonRandomized)
	}
	if len(post) != len(labels) || len(post) < 20 {
		return nil, fmt.Errorf("%d posteriors and %d labels: want the same number, at least 20", len(post), len(labels))
	}
	for i, y := range labels {
		if len(post[i]) != len(post[0]) {
			return nil, fmt.Errorf("image %d has %d probabilities, image 0 %d", i, len(post[i]), len(post[0]))
		}
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
		if !(o.Lambda > 0 && o.Lambda <= MaxLambda) || o.KReg < 0 || o.KReg > len(post[0]) {
			return nil, fmt.Errorf("raps lambda %g, k_reg %d: want lambda in (0, %g] and k_reg 0 to K", o.Lambda, o.KReg, MaxLambda)
		}
	}
	if n := len(post) / 2; int(math.Ceil(float64(n+1)*(1-o.Alpha))) > n {
		return nil, fmt.Errorf("alpha %g needs at least %d labelled images (twice ⌈(1 − α)/α⌉), have %d",
			o.Alpha, 2*int(math.Ceil((1-o.Alpha)/o.Alpha)), len(post))
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xca1))
	idx := rng.Perm(len(post))
	us := make([]float64, len(post)) // each image's u, as Set gets it
	for i := range us {
		us[i] = rng.Float64()
	}
	cal, held := idx[:len(idx)/2], idx[len(idx)/2:]
	c := &Calibration{FormatVersion: FormatVersion, Classes: len(post[0]), Method: o.Method, Alpha: o.Alpha,
		Sets: cmp.Or(o.Sets, Randomized), Lambda: o.Lambda, KReg: o.KReg, CalibrationSize: len(cal), Temperature: 1}
	t := fitTemperature(post, labels, cal)
	c.NLLBefore, c.NLLAfter = nll(post, labels, held, 1), nll(post, labels, held, t)
	if c.NLLAfter < c.NLLBefore {
		c.Temperature = t
	} else {
		c.NLLAfter = c.NLLBefore
	}
	scores := make([]float64, len(cal))
	for i, j := range cal {
		u := us[j]
		if !c.randomized() {
			u = 1 // the true class's whole mass: the score of the class that crosses
		}
		scores[i] = c.score(c.scaled(post[j]), labels[j], u)
	}
	c.Threshold = quantile(scores, o.Alpha)
	c.HeldOut = c.Measure(subset(post, held), subset(labels, held), subset(us, held))
	return c, nil
}

// Set returns the prediction set for posterior p: class indices, most
// probable first, never nil. u in [0, 1) is the image's share for
// randomised APS and RAPS (U derives it from the image's key).
//
// A randomised set may be empty. With APS and RAPS that happens to the
// surest images (u·p(top) above q̂): to cover exactly 1 − α a model right
// more often than that must leave some sets empty. With LAC it happens
// when no class's probability reaches 1 − q̂: no class fits the image.
// Either way the set names no class to accept, and the pipeline sends the
// image to review (pipeline.ReviewRule) rather than accept a class the set
// does not hold. Non-randomised sets (Sets NonRandomized) always hold at
// least the top class.
func (c *Calibration) Set(p []float64, u float64) []int {
	q := c.scaled(p)
	order := rank(q)
	set := []int{}
	if !c.randomized() {
		u = 0 // a class is in while the mass above it is within q̂: the one that crosses is kept
	}
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
		if s <= c.Threshold || r == 0 && !c.randomized() {
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
	accepted, wrong, emptyWrong := 0, 0, 0
	for i, p := range post {
		set := c.Set(p, us[i])
		m.MeanSetSize += float64(len(set))
		if slices.Contains(set, labels[i]) {
			m.Coverage++
		}
		switch {
		case len(set) == 0:
			m.Empty++
			m.Review++
			if rank(p)[0] != labels[i] {
				emptyWrong++
			}
		case len(set) > 1:
			m.Review++
		default:
			accepted++
			if set[0] != labels[i] {
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

// fitTemperature minimises the NLL over log T in [log MinTemperature, log
// MaxTemperature] by golden-section search (the NLL is unimodal in T for a
// fixed posterior).
func fitTemperature(post [][]float64, labels, idx []int) float64 {
	f := func(lt float64) float64 { return nll(post, labels, idx, math.Exp(lt)) }
	lo, hi := math.Log(MinTemperature), math.Log(MaxTemperature)
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
	return min(max(math.Exp((lo+hi)/2), MinTemperature), MaxTemperature)
}

func subset[T any](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = s[j]
	}
	return out
}
