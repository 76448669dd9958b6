package sampler

import (
	"context"
	"fmt"
	"math"
)

// CP is the class-probability sampler (the paper's DiDiCM-CP): one model call
// per step and image, with the column j = argmin p.
type CP struct {
	// Steps is T, the number of reverse steps and model calls per image. Zero means DefaultSteps.
	Steps int
	// MicroBatch is the most images per model call. Zero means DefaultMicroBatch.
	MicroBatch int
	// Clamp is what happens to p after each update (DefaultClamp when empty).
	Clamp Clamp
	// Settle, when positive, stops an image's reverse process once a step
	// moves no entry of its posterior by more than Settle (adaptive steps):
	// that image makes no more model calls, and its NFE says how many it
	// made. Zero runs all Steps.
	Settle float64
}

// Clamp is how the CP step bounds p before renormalising it.
type Clamp string

const (
	// ClampPaper clips p to [0, 1], as the paper's code does. At T ≤ 2 the
	// first step's h is in the hundreds, several entries pass 1, and the
	// clip erases their order (docs/sampler.md).
	ClampPaper Clamp = "paper"
	// ClampNegatives clips only below 0: renormalising already keeps p a
	// distribution.
	ClampNegatives Clamp = "negatives"
)

// ParseClamp checks a clamp's name ("" is DefaultClamp).
func ParseClamp(s string) (Clamp, error) {
	switch Clamp(s) {
	case "":
		return DefaultClamp, nil
	case ClampPaper:
		return ClampPaper, nil
	case ClampNegatives:
		return ClampNegatives, nil
	}
	return "", fmt.Errorf("clamp %q: want paper or negatives", s)
}

func (c Clamp) upper() float64 {
	if c == "" {
		c = DefaultClamp
	}
	if c == ClampPaper {
		return 1
	}
	return math.Inf(1)
}

func (c CP) steps() int { return orDefault(c.Steps, DefaultSteps) }

func (c CP) micro() int { return orDefault(c.MicroBatch, DefaultMicroBatch) }

// Run returns one Result per image. An image whose scores go non-finite gets
// Result.Err; an error from the scorer or ctx aborts the run and is returned.
// ctx is checked between model calls.
func (c CP) Run(ctx context.Context, s Scorer, images [][]float32) ([]Result, error) {
	k := s.NumClasses()
	if k < 2 {
		return nil, fmt.Errorf("cp: need at least 2 classes, model has %d", k)
	}
	res := make([]Result, len(images))
	w := newCPWork(k, min(c.micro(), len(images)))
	for lo := 0; lo < len(images); lo += c.micro() {
		hi := min(lo+c.micro(), len(images))
		if err := w.run(ctx, s, images[lo:hi], c, res[lo:hi]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// cpWork holds the buffers of one micro-batch; they are reused across batches.
type cpWork struct {
	k      int
	labels []int64
	sigmas []float32
	out    []float32
	e, inv []float64 // the kernel's e^{l} and e^{−l}
}

func newCPWork(k, n int) *cpWork {
	return &cpWork{k: k, labels: make([]int64, n), sigmas: make([]float32, n), out: make([]float32, n*k),
		e: make([]float64, k), inv: make([]float64, k)}
}

func (w *cpWork) run(ctx context.Context, s Scorer, images [][]float32, c CP, res []Result) error {
	n, k, steps := len(images), w.k, c.steps()
	post := make([]float64, n*k) // one allocation for the batch's posteriors
	totals := make([]float64, n) // each unnormalised posterior's sum (step)
	active := make([]int, n)     // images still running, in order
	for b := range n {
		totals[b] = 1
		p := post[b*k : (b+1)*k]
		for i := range p {
			p[i] = 1 / float64(k)
		}
		res[b] = Result{Posterior: p, Agreement: math.NaN()}
		active[b] = b
	}
	next := make([]int, n) // each image's next label: argmin of its posterior (0 while uniform)
	var before []float64
	if c.Settle > 0 {
		before = make([]float64, k)
	}
	batch := images
	ts, dt := Times(steps)
	for _, t := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(active) == 0 {
			break
		}
		sig, h := Sigma(t), dt*SigmaRate(t)
		if len(active) < n { // adaptive steps: only the images still running
			batch = batch[:0:0]
			for _, b := range active {
				batch = append(batch, images[b])
			}
		}
		m := len(active)
		for a, b := range active {
			w.labels[a] = int64(next[b])
			w.sigmas[a] = float32(sig)
		}
		if err := s.LogScores(ctx, batch, w.labels[:m], w.sigmas[:m], w.out[:m*k]); err != nil {
			return fmt.Errorf("cp: score: %w", err)
		}
		still := active[:0]
		for a, b := range active {
			res[b].NFE++
			p, was := res[b].Posterior, totals[b]
			if before != nil {
				copy(before, p)
			}
			j, total, ok := w.step(p, w.out[a*k:(a+1)*k], int(w.labels[a]), h, was, c.Clamp)
			if !ok {
				res[b] = Result{Err: ErrNonFinite, NFE: res[b].NFE, Agreement: math.NaN()}
				continue
			}
			next[b], totals[b] = j, total
			if before == nil || maxChange(before, was, p, total) > c.Settle {
				still = append(still, b)
			}
		}
		active = still
	}
	for b := range res {
		if res[b].Err == nil {
			p := res[b].Posterior
			for i := range p {
				p[i] /= totals[b]
			}
			res[b].Summarize()
		}
	}
	return nil
}

// maxChange is the largest |a_i/ta − b_i/tb|: the change between two
// unnormalised posteriors with sums ta and tb.
func maxChange(a []float64, ta float64, b []float64, tb float64) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(a[i]/ta-b[i]/tb))
	}
	return m
}

// step is steps 3-5 of CP (docs/sampler.md: q = softmax of l, StepRankOne,
// the clamp) and the next step's argmin, in the kernel's two passes over K.
// p is kept unnormalised between steps: its sum total stands for the
// division, which the update commutes with (it is linear in p, and the
// paper clamp's bound 1 becomes total), and the caller divides once at the
// end. With e_i = e^{l_i} (no shift: clamped log-scores stay inside float64),
// S = Σe and q_i = e_i/S, it uses q_i·W = e_i·Σ(p/e) and p_i/q_i = S·p_i/e_i.
// It overwrites l_j with 0 and returns the argmin of the new p, its sum, and
// false where StepRankOne would fail. The two forms agree to rounding
// (TestFusedStepEqualsColumnThenRankOne).
func (w *cpWork) step(p []float64, l []float32, j int, h, total float64, clamp Clamp) (int, float64, bool) {
	e, inv := w.e[:len(p)], w.inv[:len(p)]
	l[j] = 0
	s, wsum, ok := kernel.Columns(l, p, e, inv)
	if !ok {
		return 0, 0, false
	}
	top := math.Inf(1)
	if clamp.upper() == 1 {
		top = total
	}
	lo, next := kernel.Update(p, e, inv, h/float64(len(p)), s, wsum, top)
	if !(next > 0) || math.IsInf(next, 0) {
		return 0, 0, false
	}
	// One step can scale the sum by up to ~1e46 (h ≈ 10³, e^{±50} ratios);
	// far from both ends of float64 it is divided out.
	if next > 0x1p128 || next < 0x1p-128 {
		for i := range p {
			p[i] /= next
		}
		next = 1
	}
	return lo, next, true
}

// StepRankOne applies one CP update in place in O(K):
// W = Σ p_k/q_k, p_i += (h/K)(q_i·W − p_i/q_i), then clamps p (clamp) and
// renormalises. q must be a distribution with no zero entry. It reports false
// when p stops being a finite distribution.
func StepRankOne(p, q []float64, h float64, clamp Clamp) bool {
	top := clamp.upper()
	k := float64(len(p))
	var wsum float64
	for i := range p {
		wsum += p[i] / q[i]
	}
	var sum float64
	for i := range p {
		v := p[i] + h/k*(q[i]*wsum-p[i]/q[i])
		v = max(0, min(top, v))
		p[i] = v
		sum += v
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return false
	}
	for i := range p {
		p[i] /= sum
	}
	return true
}

// StepDense is the paper's O(K²) form of the same update, kept as the test
// oracle: A_ij = (q_i/q_j)·R_ij, each column's sum subtracted from its
// diagonal entry, p ← (I + hA)p, then the same clamp and renormalisation.
func StepDense(p, q []float64, h float64, clamp Clamp) bool {
	top := clamp.upper()
	k := len(p)
	a := make([]float64, k*k)
	for j := range k {
		var col float64
		for i := range k {
			r := 1 / float64(k)
			if i == j {
				r = (1 - float64(k)) / float64(k)
			}
			a[i*k+j] = q[i] / q[j] * r
			col += a[i*k+j]
		}
		a[j*k+j] -= col
	}
	next := make([]float64, k)
	var sum float64
	for i := range k {
		v := p[i]
		for j := range k {
			v += h * a[i*k+j] * p[j]
		}
		v = max(0, min(top, v))
		next[i] = v
		sum += v
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		return false
	}
	for i := range p {
		p[i] = next[i] / sum
	}
	return true
}
