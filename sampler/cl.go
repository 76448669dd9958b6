package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// CL is the class-label sampler (the paper's DiDiCM-CL): Chains label chains
// per image whose final labels' histogram is the posterior. Chains of several
// images share batched model calls.
type CL struct {
	// Steps is T. Zero means DefaultSteps.
	Steps int
	// Chains is N per image. Zero means DefaultChains.
	Chains int
	// MicroBatch is the most chain rows (image × chain) per model call; it may
	// be smaller than Chains. Zero means DefaultCLRows.
	MicroBatch int
	// Rand seeds one random stream per image, in image order, so a result
	// does not depend on MicroBatch. Nil means a PCG seeded with 0: a run is
	// reproducible by default.
	Rand *rand.Rand
}

// Run returns one Result per image, with Agreement set. Errors as in [CP.Run].
func (c CL) Run(ctx context.Context, s Scorer, images [][]float32) ([]Result, error) {
	k := s.NumClasses()
	if k < 2 {
		return nil, fmt.Errorf("cl: need at least 2 classes, model has %d", k)
	}
	steps, chains, rows := orDefault(c.Steps, DefaultSteps), orDefault(c.Chains, DefaultChains), orDefault(c.MicroBatch, DefaultCLRows)
	rng := c.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	group := max(1, rows/chains) // images whose chains are in flight together
	w := &clWork{k: k, rows: rows, labels: make([]int64, group*chains), inputs: make([][]float32, group*chains),
		sigmas: make([]float32, rows), out: make([]float32, rows*k), probs: make([]float64, k)}
	res := make([]Result, len(images))
	rngs := make([]*rand.Rand, len(images))
	for b := range rngs {
		rngs[b] = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	for lo := 0; lo < len(images); lo += group {
		hi := min(lo+group, len(images))
		if err := w.run(ctx, s, images[lo:hi], steps, chains, rngs[lo:hi], res[lo:hi]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type clWork struct {
	k, rows int
	labels  []int64     // chain state: one label per chain of the group
	inputs  [][]float32 // the image of each chain
	sigmas  []float32   // per model-call row
	out     []float32
	probs   []float64
}

func (w *clWork) run(ctx context.Context, s Scorer, images [][]float32, steps, chains int, rngs []*rand.Rand, res []Result) error {
	n, k := len(images)*chains, w.k
	bad := make([]bool, len(images))
	for r := range n {
		w.inputs[r] = images[r/chains]
		w.labels[r] = int64(rngs[r/chains].IntN(k))
	}
	ts, dt := Times(steps)
	for _, t := range ts {
		sig, rate := Sigma(t), SigmaRate(t)
		for lo := 0; lo < n; lo += w.rows {
			if err := ctx.Err(); err != nil {
				return err
			}
			hi := min(lo+w.rows, n)
			for r := range hi - lo {
				w.sigmas[r] = float32(sig)
			}
			if err := s.LogScores(ctx, w.inputs[lo:hi], w.labels[lo:hi], w.sigmas[:hi-lo], w.out[:(hi-lo)*k]); err != nil {
				return fmt.Errorf("cl: score: %w", err)
			}
			for r := lo; r < hi; r++ {
				if bad[r/chains] {
					continue
				}
				next, ok := w.step(w.out[(r-lo)*k:(r-lo+1)*k], int(w.labels[r]), dt*rate, rngs[r/chains])
				if !ok {
					bad[r/chains] = true
					continue
				}
				w.labels[r] = int64(next)
			}
		}
	}
	for b := range res {
		res[b] = histogram(w.labels[b*chains:(b+1)*chains], k, steps*chains, bad[b])
	}
	return nil
}

func histogram(labels []int64, k, nfe int, bad bool) Result {
	if bad {
		return Result{Err: ErrNonFinite, NFE: nfe, Agreement: math.NaN()}
	}
	counts := make(map[int64]int, len(labels))
	for _, c := range labels {
		counts[c]++
	}
	p := make([]float64, k)
	for c, m := range counts {
		p[c] = float64(m) / float64(len(labels))
	}
	r := Result{Posterior: p, NFE: nfe}
	r.Summarize()
	r.Agreement = float64(counts[int64(r.Class)]) / float64(len(labels))
	return r
}

// step draws a chain's next label: probs = onehot(c) + h·ρ with
// ρ_i = e^{l_i}/K (i ≠ c), ρ_c = −Σ_{i≠c} ρ_i, negatives clamped to 0.
func (w *clWork) step(l []float32, c int, h float64, rng *rand.Rand) (int, bool) {
	var out float64
	for i, v := range l {
		if i == c {
			continue
		}
		x := float64(v)
		if math.IsNaN(x) {
			return 0, false
		}
		w.probs[i] = h * math.Exp(max(-LogScoreLimit, min(LogScoreLimit, x))) / float64(w.k)
		out += w.probs[i]
	}
	w.probs[c] = max(0, 1-out)
	u := rng.Float64() * (w.probs[c] + out)
	for i, v := range w.probs {
		if u < v {
			return i, true
		}
		u -= v
	}
	return c, true // u landed on rounding at the top end
}
