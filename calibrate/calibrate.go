// Package calibrate turns a model's posteriors into prediction sets with a
// coverage guarantee: temperature scaling fitted on a labelled calibration
// set (kept only if it lowers the held-out NLL), then split-conformal
// prediction sets (LAC, APS or RAPS) at coverage 1 − α. The result is a
// small JSON file (Calibration) that a job carries in its spec, so each
// record gets the set of classes that contains the true class with
// probability at least 1 − α (over exchangeable images): over all images
// (By ByImage), for the images of each class (ByClass, Mondrian), or over
// studies, from their posteriors (ByStudy).
package calibrate

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
)

// FormatVersion is the calibration file's format: 2 added classes and
// sets; 3 added by, class_thresholds, study_rule, stratum, the sets
// randomized-nonempty and the held-out figures per class (Parse reads
// versions 1 and 2 too).
const FormatVersion = "3"

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
	// RandomizedNonEmpty sets are randomised sets with the top class put
	// in a set that would be empty (the RAPS paper's allow_zero_sets=False):
	// never empty, a superset of the randomised set, so coverage at least
	// 1 − α; one class more only where the randomised set held none.
	RandomizedNonEmpty = "randomized-nonempty"
)

// What the coverage is over (Calibration.By).
const (
	// ByImage: 1 − α of images, on average over the classes (marginal).
	ByImage = "image"
	// ByClass: 1 − α of the images of each class (Mondrian conformal
	// prediction): a threshold per class, fitted on that class's images.
	ByClass = "class"
	// ByStudy: 1 − α of studies; the posteriors are studies' (package
	// grouping, by StudyRule) and the labels are study labels.
	ByStudy = "study"
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
	// threshold. Randomized (empty means it, as in version 1 files): it is
	// in the set for a share u of the images (u from the image's key), so
	// the coverage is 1 − α on the nose and a set may be empty.
	// RandomizedNonEmpty: the same sets, and the top class alone where one
	// would be empty. NonRandomized (as MAPIE's include_last_label=True):
	// it is always in the set, the scores are fitted without u, and no set
	// is ever empty, at the price of larger sets. For LAC, NonRandomized
	// and RandomizedNonEmpty add the top class to a set that would be empty.
	Sets string `json:"sets"`
	// By is what the coverage holds over: ByImage (empty means it, as in
	// files before version 3), ByClass or ByStudy.
	By string `json:"by,omitempty"`
	// Temperature divides the log-posterior before sets are made (1: none).
	Temperature float64 `json:"temperature"`
	// Threshold is the conformal quantile q̂ of the calibration scores: the
	// sets' threshold, except By ByClass, where it is the marginal q̂ of
	// the same scores, for comparison, and ClassThresholds make the sets.
	Threshold float64 `json:"threshold"`
	// ClassThresholds are By ByClass's q̂ of each class, in class order.
	ClassThresholds []float64 `json:"class_thresholds,omitempty"`
	// StudyRule is how a study's posterior is made of its images' (By
	// ByStudy): "mean" or "max", package grouping's rules.
	StudyRule string `json:"study_rule,omitempty"`
	// Lambda and KReg are RAPS's penalty and the rank it starts after.
	Lambda float64 `json:"lambda,omitempty"`
	KReg   int     `json:"k_reg,omitempty"`
	// Stratum, when set, is the only images the threshold was fitted on
	// and applies to: those a job's review rule sent to review, fitted on
	// the reviewers' decisions (FitStratum). Set gives any other image its
	// top class alone, with no guarantee from this calibration.
	Stratum *Stratum `json:"stratum,omitempty"`
	// What was fitted on and measured. ClassSizes are By ByClass's
	// calibration images per class.
	CalibrationSize int      `json:"calibration_size"`
	ClassSizes      []int    `json:"class_sizes,omitempty"`
	HeldOut         Measured `json:"held_out"`
	// NLL before and after temperature scaling on the held-out half; the
	// temperature is kept only if it lowered it.
	NLLBefore float64 `json:"nll_before"`
	NLLAfter  float64 `json:"nll_after"`
}

// Options choose the method.
type Options struct {
	Method string  // LAC, APS or RAPS; empty means APS
	Alpha  float64 // miscoverage, in (0, 1)
	// Lambda and KReg for RAPS; zero means 0.01 and 1 (RAPS with λ = 0 is
	// APS, and k_reg 0 gives the sets of k_reg 1).
	Lambda float64
	KReg   int
	// Sets is Randomized, RandomizedNonEmpty or NonRandomized
	// (Calibration.Sets); empty means Randomized.
	Sets string
	// By is ByImage, ByClass or ByStudy; empty means ByImage. ByClass
	// needs MinPerClass calibration images of every class (a
	// *ClassCountError names those short of them); ByStudy takes
	// studies' posteriors and labels.
	By string
	// StudyRule is "mean" or "max": how the study posteriors were made
	// (By ByStudy only; empty means mean).
	StudyRule string
	// Seed splits the labelled images into calibration and held-out
	// halves (By ByClass: each class in halves).
	Seed uint64
}

// Unknown is a label FitStratum takes for an image a person looked at
// without naming a class (unsure, or reviewers who disagree): its score
// is +Inf, as if no set held its class, which can only raise q̂.
const Unknown = -1

// Fit splits the labelled posteriors in two halves, fits the temperature
// and the conformal threshold on one and measures the sets on the other.
func Fit(post [][]float64, labels []int, o Options) (*Calibration, error) {
	return fit(post, labels, nil, o, false)
}

// fit is Fit with each image's u given (nil: drawn from the seed) and, if
// unknown, labels that may be Unknown.
func fit(post [][]float64, labels []int, us []float64, o Options, unknown bool) (*Calibration, error) {
	o, err := o.check(post, labels, unknown)
	if err != nil {
		return nil, err
	}
	k := len(post[0])
	rng := rand.New(rand.NewPCG(o.Seed, 0xca1))
	idx := rng.Perm(len(post))
	if us == nil {
		us = make([]float64, len(post)) // each image's u, as Set gets it
		for i := range us {
			us[i] = rng.Float64()
		}
	}
	cal, held := idx[:len(idx)/2], idx[len(idx)/2:]
	if o.By == ByClass {
		cal, held = splitByClass(idx, labels)
	}
	c := &Calibration{FormatVersion: FormatVersion, Classes: k, Method: o.Method, Alpha: o.Alpha, Sets: o.Sets,
		By: o.By, StudyRule: o.StudyRule, Lambda: o.Lambda, KReg: o.KReg, CalibrationSize: len(cal), Temperature: 1}
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
	if o.By == ByClass {
		if err := c.fitClasses(scores, subset(labels, cal)); err != nil {
			return nil, err
		}
	} else if math.IsInf(c.Threshold, 1) {
		return nil, fmt.Errorf("alpha %g: more than alpha of the %d calibration images have no known label, so no threshold covers them", o.Alpha, len(cal))
	}
	c.HeldOut = c.Measure(subset(post, held), subset(labels, held), subset(us, held))
	return c, nil
}

// check validates the options against the data and fills their defaults.
func (o Options) check(post [][]float64, labels []int, unknown bool) (Options, error) {
	o.Method, o.Sets, o.By = cmp.Or(o.Method, APS), cmp.Or(o.Sets, Randomized), cmp.Or(o.By, ByImage)
	switch {
	case o.Method != LAC && o.Method != APS && o.Method != RAPS:
		return o, fmt.Errorf("method %q: want lac, aps or raps", o.Method)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return o, fmt.Errorf("alpha %g: want between 0 and 1", o.Alpha)
	case o.Sets != Randomized && o.Sets != NonRandomized && o.Sets != RandomizedNonEmpty:
		return o, fmt.Errorf("sets %q: want %s, %s or %s", o.Sets, Randomized, RandomizedNonEmpty, NonRandomized)
	case o.By != ByImage && o.By != ByClass && o.By != ByStudy:
		return o, fmt.Errorf("by %q: want %s, %s or %s", o.By, ByImage, ByClass, ByStudy)
	case o.By == ByStudy && o.StudyRule == "":
		o.StudyRule = "mean"
	}
	if o.StudyRule != "" && (o.By != ByStudy || o.StudyRule != "mean" && o.StudyRule != "max") {
		return o, fmt.Errorf("study rule %q: want mean or max, by study only", o.StudyRule)
	}
	if len(post) != len(labels) || len(post) < 20 {
		return o, fmt.Errorf("%d posteriors and %d labels: want the same number, at least 20", len(post), len(labels))
	}
	for i, y := range labels {
		if len(post[i]) != len(post[0]) {
			return o, fmt.Errorf("image %d has %d probabilities, image 0 %d", i, len(post[i]), len(post[0]))
		}
		if known := y >= 0 && y < len(post[i]); !known && (!unknown || y != Unknown) {
			return o, fmt.Errorf("label %d of image %d is not a class of a %d-class model", y, i, len(post[i]))
		}
	}
	if o.Method == RAPS {
		o.Lambda, o.KReg = cmp.Or(o.Lambda, 0.01), cmp.Or(o.KReg, 1)
		if !(o.Lambda > 0 && o.Lambda <= MaxLambda) || o.KReg < 0 || o.KReg > len(post[0]) {
			return o, fmt.Errorf("raps lambda %g, k_reg %d: want lambda in (0, %g] and k_reg 0 to K", o.Lambda, o.KReg, MaxLambda)
		}
	}
	if n := len(post) / 2; o.By != ByClass && n < MinCalibration(o.Alpha) {
		return o, fmt.Errorf("alpha %g needs at least %d labelled images (twice ⌈(1 − α)/α⌉), have %d",
			o.Alpha, 2*MinCalibration(o.Alpha), len(post))
	}
	return o, nil
}

// MinCalibration is the fewest calibration scores whose q̂ at α is finite:
// the ⌈(n+1)(1−α)⌉-th smallest of n exists when (n+1)(1−α) ≤ n, that is
// n ≥ (1−α)/α: 9 at α = 0.1, 19 at 0.05, 99 at 0.01. Found with the same
// arithmetic as quantile, so the two always agree.
func MinCalibration(alpha float64) int {
	n := 1
	for rankOf(n, alpha) > n {
		n++
	}
	return n
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
// does not hold. RandomizedNonEmpty sets hold the top class instead, and
// non-randomised ones (Sets NonRandomized) always hold at least the top
// class. By ByClass, class k is in the set when its score is within its
// own class's threshold. With a Stratum, an image outside it gets its top
// class alone.
func (c *Calibration) Set(p []float64, u float64) []int {
	if c.Stratum != nil && !c.Stratum.Holds(p, u) {
		return []int{rank(p)[0]}
	}
	q := c.scaled(p)
	order := rank(q)
	set := []int{}
	if !c.randomized() {
		u = 0 // a class is in while the mass above it is within q̂: the one that crosses is kept
	}
	before := 0.0
	for r, k := range order {
		s := c.scoreAt(q[k], before, r, u)
		before += q[k]
		if s <= c.thresholdOf(k) || r == 0 && !c.randomized() {
			set = append(set, k)
		} else if c.Method != LAC && c.By != ByClass {
			break // APS and RAPS scores grow with the rank: no later class is within one threshold
		}
	}
	if len(set) == 0 && c.Sets == RandomizedNonEmpty {
		set = append(set, order[0])
	}
	return set
}

// thresholdOf is class k's threshold: its own By ByClass, else q̂.
func (c *Calibration) thresholdOf(k int) float64 {
	if c.By == ByClass && k < len(c.ClassThresholds) {
		return c.ClassThresholds[k]
	}
	return c.Threshold
}

// scoreAt is the score of the class at rank r (from 0) with probability
// qk, the classes above it holding mass before.
func (c *Calibration) scoreAt(qk, before float64, r int, u float64) float64 {
	switch c.Method {
	case LAC:
		return 1 - qk
	case APS:
		return before + u*qk
	}
	return before + u*qk + c.Lambda*math.Max(0, float64(r+1-c.KReg))
}

// score is the conformal score of the true class y under posterior q
// (+Inf for an Unknown label).
func (c *Calibration) score(q []float64, y int, u float64) float64 {
	before := 0.0
	for r, k := range rank(q) {
		if k == y {
			return c.scoreAt(q[k], before, r, u)
		}
		before += q[k]
	}
	return math.Inf(1)
}

// U is an image's share for Set, from its key: the same key gets the same
// set in every run, and keys get shares spread as uniform draws, however
// alike they are (the frames of one file, the instances of one series).
func U(key string) float64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return float64(mix(h.Sum64())>>11) / (1 << 53)
}

// mix is MurmurHash3's 64-bit finaliser: each input bit flips each output
// bit with probability about ½. FNV-1a alone moves the last byte's bits
// into the top ones only through carries, so keys that differ in their
// last characters got shares within 10⁻⁶ of each other ("ct.dcm#frame=1"
// to "#frame=9" all about 0.9118): a multi-frame file's sets were all
// randomised alike, and a job's shares were far from uniform.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
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

// rankOf is split conformal's rank of q̂ among n sorted scores: ⌈(n+1)(1−α)⌉.
func rankOf(n int, alpha float64) int { return int(math.Ceil(float64(n+1) * (1 - alpha))) }

// quantile is split conformal's q̂: the ⌈(n+1)(1−α)⌉-th smallest score
// (+Inf when that rank passes n: every class is in every set).
func quantile(scores []float64, alpha float64) float64 {
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	k := rankOf(len(s), alpha)
	if k > len(s) {
		return math.Inf(1)
	}
	return s[max(0, k-1)]
}

// nll is the mean negative log-likelihood of the labels at temperature t
// (images of Unknown label left out).
func nll(post [][]float64, labels, idx []int, t float64) float64 {
	var s float64
	n := 0
	for _, i := range idx {
		if labels[i] != Unknown {
			s -= math.Log(math.Max(temper(post[i], t)[labels[i]], 1e-12))
			n++
		}
	}
	return s / float64(max(1, n))
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
