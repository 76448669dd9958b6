package cpsimd_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/sampler/cpsimd"
)

func needKernel(t testing.TB) {
	t.Helper()
	if !cpsimd.Available {
		t.Skip("no AVX2 and FMA on this CPU, or no cgo: the Go kernel runs")
	}
}

// Sizes around the vector blocks (8 classes per loop turn, then 4, then a
// padded tail) and the hand-over to the Go kernel.
var sizes = []int{cpsimd.MinClasses, cpsimd.MinClasses + 1, 259, 263, 1000, 4099, 100003}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Abs(want)
}

func randomStep(rng *rand.Rand, k int, scale float64) ([]float32, []float64) {
	l := make([]float32, k)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * scale)
	}
	l[rng.IntN(k)] = float32(math.Inf(1))
	l[rng.IntN(k)] = float32(math.Inf(-1))
	l[rng.IntN(k)] = 60
	p := make([]float64, k)
	var s float64
	for i := range p {
		p[i] = rng.Float64() * float64(rng.IntN(3)) // a third exact zeros
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return l, p
}

func TestColumnsMatchMathExpAndGoKernel(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range sizes {
		for _, scale := range []float64{0.1, 3, 30} {
			l, p := randomStep(rng, k, scale)
			e, inv := make([]float64, k), make([]float64, k)
			s, w, ok := cpsimd.Kernel.Columns(l, p, e, inv)
			ge, ginv := make([]float64, k), make([]float64, k)
			gs, gw, gok := sampler.GoKernel{}.Columns(l, p, ge, ginv)
			if !ok || !gok {
				t.Fatalf("K=%d: ok %v, Go %v", k, ok, gok)
			}
			worst := 0.0
			for i, v := range l {
				x := max(-sampler.LogScoreLimit, min(sampler.LogScoreLimit, float64(v)))
				worst = max(worst, relErr(e[i], math.Exp(x)), relErr(inv[i], math.Exp(-x)))
			}
			if worst > 1e-15 {
				t.Errorf("K=%d scale %g: exponentials within %g of math.Exp, want ≤ 1e-15", k, scale, worst)
			}
			if relErr(s, gs) > 1e-13 || relErr(w, gw) > 1e-13 {
				t.Errorf("K=%d scale %g: S %.17g W %.17g, Go kernel %.17g %.17g", k, scale, s, w, gs, gw)
			}
		}
	}
}

func TestColumnsRejectNaNAnywhere(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range sizes[:5] {
		for _, at := range []int{0, 3, 4, 7, 8, k - 5, k - 2, k - 1} {
			l, p := randomStep(rng, k, 3)
			l[at] = float32(math.NaN())
			e, inv := make([]float64, k), make([]float64, k)
			if _, _, ok := cpsimd.Kernel.Columns(l, p, e, inv); ok {
				t.Fatalf("K=%d: NaN at %d accepted", k, at)
			}
		}
	}
}

func TestUpdateMatchesGoKernel(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range sizes {
		for trial, h := range []float64{0.01, 1, 50, 900} {
			l, p := randomStep(rng, k, 3)
			e, inv := make([]float64, k), make([]float64, k)
			s, w, _ := sampler.GoKernel{}.Columns(l, p, e, inv)
			top := []float64{math.Inf(1), 1}[trial%2]
			got, want := append([]float64(nil), p...), append([]float64(nil), p...)
			lo, total := cpsimd.Kernel.Update(got, e, inv, h/float64(k), s, w, top)
			glo, gtotal := sampler.GoKernel{}.Update(want, e, inv, h/float64(k), s, w, top)
			if relErr(total, gtotal) > 1e-13 {
				t.Fatalf("K=%d h=%g: total %.17g, Go kernel %.17g", k, h, total, gtotal)
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-13*max(gtotal, want[i]) {
					t.Fatalf("K=%d h=%g: p[%d] = %.17g, Go kernel %.17g", k, h, i, got[i], want[i])
				}
			}
			// The same argmin, or one whose value only rounding separates.
			if lo != glo && math.Abs(want[lo]-want[glo]) > 1e-15*gtotal {
				t.Fatalf("K=%d h=%g: argmin %d (%g), Go kernel %d (%g)", k, h, lo, want[lo], glo, want[glo])
			}
		}
	}
}

func TestUpdateArgminTakesTheLowestIndexOfTies(t *testing.T) {
	needKernel(t)
	for _, k := range sizes[:4] {
		for _, first := range []int{0, 1, 5, k - 3} {
			p := make([]float64, k)
			for i := range p {
				p[i] = 1
			}
			// c = 0 leaves p as it is; zeros from first on, every 3rd.
			for i := first; i < k; i += 3 {
				p[i] = 0.5
			}
			ones := make([]float64, k)
			for i := range ones {
				ones[i] = 1
			}
			if lo, _ := cpsimd.Kernel.Update(p, ones, ones, 0, 1, 1, math.Inf(1)); lo != first {
				t.Fatalf("K=%d: argmin %d, want %d", k, lo, first)
			}
		}
	}
}

func TestUpdateKeepsNaN(t *testing.T) {
	needKernel(t)
	k := 300
	p, ones := make([]float64, k), make([]float64, k)
	for i := range p {
		p[i], ones[i] = 1, 1
	}
	for _, at := range []int{2, k - 1} {
		p[at] = math.NaN()
		if _, total := cpsimd.Kernel.Update(append([]float64(nil), p...), ones, ones, 0.1, 1, 1, 1); !math.IsNaN(total) {
			t.Fatalf("NaN at %d: total %g", at, total)
		}
		p[at] = 1
	}
}

func TestEntropyMatchesGoKernel(t *testing.T) {
	needKernel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range sizes {
		p := make([]float64, k)
		for i := range p {
			switch rng.IntN(5) {
			case 0: // zero
			case 1:
				p[i] = math.SmallestNonzeroFloat64 * float64(1+rng.IntN(1000)) // denormal
			case 2:
				p[i] = math.Exp(-700 * rng.Float64())
			default:
				p[i] = rng.Float64()
			}
		}
		got, want := cpsimd.Kernel.Entropy(p), sampler.GoKernel{}.Entropy(p)
		if relErr(got, want) > 1e-13 {
			t.Fatalf("K=%d: entropy %.17g, Go kernel %.17g", k, got, want)
		}
	}
	// Each entry's own term, over the range of the mantissa and exponents:
	// K copies of x against −K·x·log x.
	same := make([]float64, cpsimd.MinClasses)
	for range 5000 {
		x := (0.5 + rng.Float64()) * math.Pow(2, -float64(rng.IntN(1000)))
		for i := range same {
			same[i] = x
		}
		want := -float64(len(same)) * x * math.Log(x)
		if got := cpsimd.Kernel.Entropy(same); relErr(got, want) > 1e-14 {
			t.Fatalf("%d copies of %g: entropy %.17g, want %.17g", len(same), x, got, want)
		}
	}
	one := make([]float64, 1000)
	one[17] = 1
	if h := cpsimd.Kernel.Entropy(one); h != 0 {
		t.Fatalf("entropy of a point mass %g", h)
	}
}

// The whole sampler gives the same posteriors with either kernel.
func TestCPWithTheKernelMatchesGo(t *testing.T) {
	needKernel(t)
	for _, k := range []int{1000, 4099} {
		for _, clamp := range []sampler.Clamp{sampler.ClampNegatives, sampler.ClampPaper} {
			for _, steps := range []int{1, 2, 8} {
				sc := newScorer(k)
				images := make([][]float32, 5)
				for i := range images {
					images[i] = []float32{float32(i)}
				}
				cp := sampler.CP{Steps: steps, Clamp: clamp}
				want, err := cp.Run(context.Background(), sc, images)
				if err != nil {
					t.Fatal(err)
				}
				sampler.SetKernel(cpsimd.Kernel)
				got, err := cp.Run(context.Background(), sc, images)
				sampler.SetKernel(nil)
				if err != nil {
					t.Fatal(err)
				}
				for b := range want {
					if got[b].Class != want[b].Class || relErr(got[b].Entropy, want[b].Entropy) > 1e-10 {
						t.Fatalf("K=%d %s T=%d image %d: class %d entropy %g, Go %d %g", k, clamp, steps, b,
							got[b].Class, got[b].Entropy, want[b].Class, want[b].Entropy)
					}
					for i := range want[b].Posterior {
						if math.Abs(got[b].Posterior[i]-want[b].Posterior[i]) > 1e-12 {
							t.Fatalf("K=%d %s T=%d image %d: p[%d] = %g, Go %g", k, clamp, steps, b, i,
								got[b].Posterior[i], want[b].Posterior[i])
						}
					}
				}
			}
		}
	}
}

// scorer gives fixed pseudo-random log-scores per (image, label).
type scorer struct{ k int }

func newScorer(k int) scorer { return scorer{k} }

func (s scorer) NumClasses() int { return s.k }

func (s scorer) LogScores(_ context.Context, images [][]float32, labels []int64, _ []float32, out []float32) error {
	for b := range images {
		rng := rand.New(rand.NewPCG(uint64(images[b][0]), uint64(labels[b])))
		for i := range s.k {
			out[b*s.k+i] = float32(rng.NormFloat64() * 4)
		}
	}
	return nil
}
