package sampler

import "math"

// Kernel is the sampler's arithmetic over K classes, where its time goes at
// large K: the CP step in two passes (docs/sampler.md) and the posterior's
// entropy. GoKernel is the portable one; package cpsimd has a vectorised
// one that a program installs with SetKernel. Both compute the same numbers
// up to the order of summation (TestKernelMatchesGoKernel in cpsimd).
type Kernel interface {
	// Columns clamps each log-score l_i to ±LogScoreLimit and sets
	// e_i = e^{l_i} and inv_i = e^{−l_i}; it returns S = Σ e and
	// W = Σ p·inv, or false if some l_i is NaN (e and inv are then
	// undefined). All slices have the same length.
	Columns(l []float32, p, e, inv []float64) (s, w float64, ok bool)
	// Update sets p_i = max(0, min(top, p_i + c·(e_i·w − s·p_i·inv_i)))
	// and returns the lowest index of the smallest new p_i and Σ p. A NaN
	// p_i stays NaN, so Σ p is NaN.
	Update(p, e, inv []float64, c, s, w, top float64) (lo int, total float64)
	// Entropy is −Σ p_i·log p_i over the p_i > 0.
	Entropy(p []float64) float64
}

var kernel Kernel = GoKernel{}

// SetKernel installs k for every sampler in the process (nil: GoKernel).
// Call it at start-up, before any sampler runs.
func SetKernel(k Kernel) {
	if k == nil {
		k = GoKernel{}
	}
	kernel = k
}

// GoKernel is the Kernel in portable Go.
type GoKernel struct{}

// Columns implements Kernel.
func (GoKernel) Columns(l []float32, p, e, inv []float64) (s, w float64, ok bool) {
	p, e, inv = p[:len(l)], e[:len(l)], inv[:len(l)]
	for i, v := range l {
		x := float64(v)
		// Branches, not min and max: those also order ±0 and NaN, and cost
		// twice as much here.
		if x > LogScoreLimit {
			x = LogScoreLimit
		} else if x < -LogScoreLimit {
			x = -LogScoreLimit
		} else if x != x { // NaN
			return 0, 0, false
		}
		a, b := expPair(x)
		e[i], inv[i] = a, b
		s += a
		w += p[i] * b
	}
	return s, w, true
}

// Update implements Kernel.
func (GoKernel) Update(p, e, inv []float64, c, s, w, top float64) (lo int, total float64) {
	e, inv = e[:len(p)], inv[:len(p)]
	low := math.Inf(1)
	for i := range p {
		v := p[i] + c*(e[i]*w-s*p[i]*inv[i])
		v = max(0, min(top, v)) // branch-free: whether v < 0 cannot be predicted
		p[i] = v
		total += v
		if v < low {
			lo, low = i, v
		}
	}
	return lo, total
}

// Entropy implements Kernel.
func (GoKernel) Entropy(p []float64) float64 {
	var h float64
	for _, v := range p {
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	return h
}
