package sampler

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// CL is the class-label sampler (the paper's DiDiCM-CL): Chains label chains
// per image whose final labels' histogram is the posterior. Chains of all
// images share batched model calls.
type CL struct {
	// Steps is T. Zero means 2.
	Steps int
	// Chains is N per image. Zero means 16.
	Chains int
	// MicroBatch is the most chain rows (image × chain) per model call. Zero means 256.
	MicroBatch int
	// Rand is the source of the chains' randomness; nil means a PCG seeded with 0,
	// so that a run is reproducible by default.
	Rand *rand.Rand
}

// Run returns one Result per image, with Agreement set. Errors as in [CP.Run].
func (c CL) Run(ctx context.Context, s Scorer, images [][]float32) ([]Result, error) {
	k := s.NumClasses()
	if k < 2 {
		return nil, fmt.Errorf("cl: need at least 2 classes, model has %d", k)
	}
	steps, chains := orDefault(c.Steps, 2), orDefault(c.Chains, 16)
	rows := max(chains, orDefault(c.MicroBatch, 256)) / chains * chains // whole images per call
	rng := c.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	res := make([]Result, len(images))
	per := rows / chains
	w := &clWork{k: k, labels: make([]int64, rows), sigmas: make([]float32, rows), out: make([]float32, rows*k),
		inputs: make([][]float32, rows), probs: make([]float64, k)}
	for lo := 0; lo < len(images); lo += per {
		hi := min(lo+per, len(images))
		if err := w.run(ctx, s, images[lo:hi], steps, chains, rng, res[lo:hi]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

type clWork struct {
	k      int
	labels []int64
	sigmas []float32
	out    []float32
	inputs [][]float32
	probs  []float64
}

func (w *clWork) run(ctx context.Context, s Scorer, images [][]float32, steps, chains int, rng *rand.Rand, res []Result) error {
	n, k := len(images)*chains, w.k
	bad := make([]bool, len(images))
	for r := range n {
		w.inputs[r] = images[r/chains]
		w.labels[r] = int64(rng.IntN(k))
	}
	ts, dt := Times(steps)
	for _, t := range ts {
		if err := ctx.Err(); err != nil {
			return err
		}
		sig, rate := Sigma(t), SigmaRate(t)
		for r := range n {
			w.sigmas[r] = float32(sig)
		}
		if err := s.LogScores(ctx, w.inputs[:n], w.labels[:n], w.sigmas[:n], w.out[:n*k]); err != nil {
			return fmt.Errorf("cl: score: %w", err)
		}
		for r := range n {
			if bad[r/chains] {
				continue
			}
			next, ok := w.step(w.out[r*k:(r+1)*k], int(w.labels[r]), dt*rate, rng)
			if !ok {
				bad[r/chains] = true
				continue
			}
			w.labels[r] = int64(next)
		}
	}
	for b := range res {
		if bad[b] {
			res[b] = Result{Err: ErrNonFinite, NFE: steps * chains, Agreement: math.NaN()}
			continue
		}
		counts := make(map[int64]int, chains)
		for r := b * chains; r < (b+1)*chains; r++ {
			counts[w.labels[r]]++
		}
		p := make([]float64, k)
		for c, m := range counts {
			p[c] = float64(m) / float64(chains)
		}
		res[b] = Result{Posterior: p, NFE: steps * chains}
		res[b].Summarize()
		res[b].Agreement = float64(counts[int64(res[b].Class)]) / float64(chains)
	}
	return nil
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
	total := w.probs[c] + out
	u := rng.Float64() * total
	for i, v := range w.probs {
		if u < v {
			return i, true
		}
		u -= v
	}
	return c, true // u landed on rounding at the top end
}
