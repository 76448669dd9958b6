package sampler

import (
	"errors"
	"math"
)

// ErrNonFinite reports that the model returned NaN log-scores for an image,
// or that its posterior stopped being a distribution. It is per image.
var ErrNonFinite = errors.New("model returned non-finite log-scores")

// LogScoreLimit bounds log-scores before exponentiation: ±Inf becomes ±50, so
// ratios stay inside float64 (e^±50) while every finite score a trained model
// gives is used as is.
const LogScoreLimit = 50.0

// Result is the posterior of one image with its uncertainty.
type Result struct {
	// Posterior has K probabilities in class order.
	Posterior []float64
	// Class is argmax Posterior (ties: lowest index).
	Class int
	// MaxProb is Posterior[Class].
	MaxProb float64
	// Margin is the top-1 minus the top-2 probability.
	Margin float64
	// Entropy is in nats; EntropyNorm is Entropy / log K (0 sure, 1 uniform),
	// and 1 whenever the top two classes tie exactly.
	Entropy, EntropyNorm float64
	// Agreement is, for CL, the fraction of chains that ended at Class;
	// NaN for other samplers.
	Agreement float64
	// NFE is the number of model calls spent on this image.
	NFE int
	// Err is set, and the rest zero, when this image could not be scored.
	Err error
}

// Summarize fills the uncertainty fields of r from r.Posterior.
func (r *Result) Summarize() {
	p := r.Posterior
	top, second := -1, -1
	for i, v := range p {
		if top < 0 || v > p[top] {
			top, second = i, top
		} else if second < 0 || v > p[second] {
			second = i
		}
	}
	h := kernel.Entropy(p)
	r.Class, r.MaxProb, r.Entropy = top, p[top], h
	r.Margin = p[top]
	if second >= 0 {
		r.Margin -= p[second]
	}
	if len(p) > 1 {
		r.EntropyNorm = h / math.Log(float64(len(p)))
	}
	if second >= 0 && p[second] == p[top] {
		// An exact tie at the top: the class is a coin toss whatever the
		// entropy says (CP at T=1 ends most images in ties), so the image
		// is as uncertain as can be and goes to review.
		r.EntropyNorm = 1
	}
}

// Softmax returns the posterior of a plain classifier from its logits:
// the 0-step special case of DiDiCM. NaN logits give ErrNonFinite.
func Softmax(logits []float32) Result {
	p := make([]float64, len(logits))
	m := math.Inf(-1)
	for _, v := range logits {
		if math.IsNaN(float64(v)) {
			return Result{Err: ErrNonFinite, NFE: 1, Agreement: math.NaN()}
		}
		m = math.Max(m, float64(v))
	}
	var sum float64
	for i, v := range logits {
		x := float64(v) - m
		if math.IsInf(m, 0) { // all -Inf, or +Inf entries: uniform over the maxima
			x = 0
			if float64(v) != m {
				x = math.Inf(-1)
			}
		}
		p[i] = math.Exp(x)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	r := Result{Posterior: p, NFE: 1, Agreement: math.NaN()}
	r.Summarize()
	return r
}
