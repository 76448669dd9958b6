package sampler

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestExpPairMatchesMathExp(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, math.Ln2 / 128, -math.Ln2 / 128, math.Ln2 / 2, -math.Ln2,
		49.999, 50, -50}
	for range 1_000_000 {
		xs = append(xs, (2*rng.Float64()-1)*LogScoreLimit)
	}
	worst := 0.0
	for _, x := range xs {
		a, b := expPair(x)
		worst = max(worst, math.Abs(a-math.Exp(x))/math.Exp(x), math.Abs(b-math.Exp(-x))/math.Exp(-x))
	}
	if worst > 6e-16 {
		t.Fatalf("largest relative error %g, want ≤ 6e-16", worst)
	}
}

// The fused step must give what its definition gives: normalizedColumn, then
// StepRankOne, then argmin; on log-scores from tame to clamped (±Inf, ±60),
// both clamps, small and large h, and whatever the scale of its
// unnormalised input.
func TestFusedStepEqualsColumnThenRankOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 400 {
		k := 2 + rng.IntN(300)
		l := make([]float32, k)
		scale := []float64{0.1, 3, 30, 80}[trial%4]
		for i := range l {
			l[i] = float32(rng.NormFloat64() * scale)
		}
		if trial%7 == 0 {
			l[rng.IntN(k)] = float32(math.Inf(1 - 2*rng.IntN(2)))
		}
		p := make([]float64, k)
		var s float64
		for i := range p {
			p[i] = rng.Float64() * float64(rng.IntN(2)) // some exact zeros
			s += p[i]
		}
		if s == 0 {
			p[0], s = 1, 1
		}
		for i := range p {
			p[i] /= s
		}
		j, h := rng.IntN(k), []float64{0.01, 1, 50, 900}[rng.IntN(4)]
		clamp := []Clamp{ClampPaper, ClampNegatives}[trial%2]

		want, q := append([]float64(nil), p...), make([]float64, k)
		okWant := normalizedColumn(l, j, q) && StepRankOne(want, q, h, clamp)
		unit := []float64{1, 1e-30, 3, 1e30}[(trial/4)%4]
		got, w := append([]float64(nil), p...), newCPWork(k, 1)
		for i := range got {
			got[i] *= unit
		}
		next, total, okGot := w.step(got, append([]float32(nil), l...), j, h, unit, clamp)
		if okGot != okWant {
			t.Fatalf("trial %d: ok %v, want %v", trial, okGot, okWant)
		}
		if !okWant {
			continue
		}
		for i := range want {
			got[i] /= total
			if math.Abs(got[i]-want[i]) > 1e-12*max(1, want[i]) {
				t.Fatalf("trial %d (K=%d, h=%g, %s): p[%d] = %.17g, want %.17g", trial, k, h, clamp, i, got[i], want[i])
			}
		}
		if a := argmin(want); want[a] != want[next] && math.Abs(want[a]-want[next]) > 1e-15 {
			t.Fatalf("trial %d: next label %d (p=%g), argmin %d (p=%g)", trial, next, want[next], a, want[a])
		}
	}
}

func TestFusedStepRejectsNaN(t *testing.T) {
	p := []float64{0.5, 0.5}
	if _, _, ok := newCPWork(2, 1).step(p, []float32{float32(math.NaN()), 1}, 1, 1, 1, ClampPaper); ok {
		t.Fatal("a NaN log-score was accepted")
	}
}

// BenchmarkCPStep compares, in one run, one CP step of one image in the
// fused form the sampler runs with its definition (normalizedColumn, then
// StepRankOne, then argmin), as ns per class.
func BenchmarkCPStep(b *testing.B) {
	for _, k := range []int{1000, 100000} {
		rng := rand.New(rand.NewPCG(7, 8))
		l := make([]float32, k)
		for i := range l {
			l[i] = float32(rng.NormFloat64() * 3)
		}
		fresh := func() []float64 {
			p := make([]float64, k)
			for i := range p {
				p[i] = 1 / float64(k)
			}
			return p
		}
		b.Run("reference/K="+itoa(k), func(b *testing.B) {
			p, q := fresh(), make([]float64, k)
			for b.Loop() {
				normalizedColumn(l, 3, q)
				StepRankOne(p, q, 0.05, ClampPaper)
				_ = argmin(p)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k), "ns/class")
		})
		b.Run("fused/K="+itoa(k), func(b *testing.B) {
			p, w := fresh(), newCPWork(k, 1)
			total := 1.0
			for b.Loop() {
				_, total, _ = w.step(p, l, 3, 0.05, total, ClampPaper)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k), "ns/class")
		})
	}
}

func itoa(k int) string {
	if k >= 100000 {
		return "1e5"
	}
	return "1e3"
}

// normalizedColumn is step 3 of the CP definition (docs/sampler.md), the
// oracle of the fused step: it turns log-scores l (conditioned on label j) into
// q = exp(l)/Σexp(l) with l_j = 0. It reports false on NaN.
func normalizedColumn(l []float32, j int, q []float64) bool {
	m := 0.0 // l_j = 0 takes part in the max
	for i, v := range l {
		x := float64(v)
		if i == j {
			x = 0
		}
		if math.IsNaN(x) {
			return false
		}
		x = max(-LogScoreLimit, min(LogScoreLimit, x))
		q[i] = x
		m = max(m, x)
	}
	var sum float64
	for i := range q {
		q[i] = math.Exp(q[i] - m)
		sum += q[i]
	}
	for i := range q {
		q[i] /= sum
	}
	return true
}

// argmin is the lowest index of the smallest entry.
func argmin(p []float64) int {
	j := 0
	for i, v := range p {
		if v < p[j] {
			j = i
		}
	}
	return j
}
