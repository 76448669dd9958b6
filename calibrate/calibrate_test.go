package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// synthetic draws n images of k classes whose posteriors are calibrated by
// construction: the label is drawn from the posterior itself; sharp makes
// posteriors peakier. overconfident raises them to a power (T < 1 needed).
func synthetic(n, k int, sharp, power float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	post := make([][]float64, n)
	labels := make([]int, n)
	for i := range post {
		p := make([]float64, k)
		var s float64
		for j := range p {
			p[j] = math.Exp(sharp * rng.NormFloat64())
			s += p[j]
		}
		u, cum := rng.Float64()*s, 0.0
		labels[i] = k - 1
		for j := range p {
			p[j] /= s
			cum += p[j] * s
			if u < cum && labels[i] == k-1 {
				labels[i] = j
				u = math.Inf(1)
			}
		}
		post[i] = temper(p, 1/power) // p^power renormalised
	}
	return post, labels
}

func TestSetsCoverAtTheirLevelForEachMethod(t *testing.T) {
	post, labels := synthetic(8000, 10, 1.5, 1, 3)
	for _, method := range []string{LAC, APS, RAPS} {
		for _, alpha := range []float64{0.1, 0.05} {
			c, err := Fit(post, labels, Options{Method: method, Alpha: alpha, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if got := c.HeldOut.Coverage; math.Abs(got-(1-alpha)) > 0.015 {
				t.Errorf("%s α=%g: held-out coverage %.4f, want %.3f ± 0.015", method, alpha, got, 1-alpha)
			}
			if c.HeldOut.MeanSetSize < 1 || c.HeldOut.MeanSetSize > 10 {
				t.Errorf("%s: mean set size %g", method, c.HeldOut.MeanSetSize)
			}
		}
	}
}

func TestTemperatureScalingUndoesOverconfidence(t *testing.T) {
	post, labels := synthetic(6000, 10, 1.5, 2.5, 5) // p^2.5: overconfident
	c, err := Fit(post, labels, Options{Method: LAC, Alpha: 0.1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Temperature-2.5) > 0.25 || c.NLLAfter >= c.NLLBefore {
		t.Fatalf("temperature %.3f (want about 2.5), NLL %.4f → %.4f", c.Temperature, c.NLLBefore, c.NLLAfter)
	}
	calibrated, labels2 := synthetic(6000, 10, 1.5, 1, 5)
	c2, _ := Fit(calibrated, labels2, Options{Method: LAC, Alpha: 0.1, Seed: 2})
	if math.Abs(c2.Temperature-1) > 0.1 {
		t.Fatalf("a calibrated model got temperature %.3f", c2.Temperature)
	}
}

func TestSetsAreRankedMayBeEmptyAndQuantileIsConservative(t *testing.T) {
	c := &Calibration{FormatVersion: FormatVersion, Method: APS, Sets: Randomized, Temperature: 1, Threshold: 0.8}
	if set := c.Set([]float64{0.1, 0.6, 0.3}, 1); len(set) != 1 || set[0] != 1 {
		t.Fatalf("APS set %v: want [1] (0.6 ≤ 0.8, then 0.6 + 0.3 > 0.8)", set)
	}
	if set := c.Set([]float64{0.1, 0.6, 0.3}, 0.5); len(set) != 2 {
		t.Fatalf("APS set %v with u 0.5: want the top two (0.3, then 0.6 + 0.15 ≤ 0.8)", set)
	}
	c.Threshold = 0.2
	if set := c.Set([]float64{0.1, 0.6, 0.3}, 1); set == nil || len(set) != 0 {
		t.Fatalf("set %#v: want empty, not nil (0.6 > 0.2)", set)
	}
	c.Sets = NonRandomized
	if set := c.Set([]float64{0.1, 0.6, 0.3}, 1); len(set) != 1 || set[0] != 1 {
		t.Fatalf("non-randomised set %v: want the top class, [1]", set)
	}
	c.Threshold = 0.8
	if set := c.Set([]float64{0.1, 0.6, 0.3}, 1); len(set) != 2 {
		t.Fatalf("non-randomised set %v: want [1 2] (the mass above class 2 is 0.6 ≤ 0.8; above class 0, 0.9)", set)
	}
	if U("a.png") != U("a.png") || U("a.png") == U("b.png") || U("x") < 0 || U("x") >= 1 {
		t.Fatal("U is not a reproducible share in [0, 1)")
	}
	if q := quantile([]float64{0.1, 0.2, 0.3, 0.4}, 0.1); !math.IsInf(q, 1) {
		t.Fatalf("⌈5·0.9⌉ = 5 > 4 scores: q̂ %v, want +Inf", q)
	}
	if q := quantile([]float64{0.4, 0.1, 0.3, 0.2}, 0.5); q != 0.3 {
		t.Fatalf("⌈5·0.5⌉ = 3rd smallest: %v, want 0.3", q)
	}
}

// Non-randomised sets are never empty and cover at least 1 − α, with
// larger sets than randomised ones; on a sure model, randomised sets are
// sometimes empty.
func TestNonRandomizedSetsAreNeverEmpty(t *testing.T) {
	post, labels := synthetic(8000, 10, 4, 1, 9) // sharp posteriors: mostly sure
	for _, method := range []string{LAC, APS, RAPS} {
		rnd, err := Fit(post, labels, Options{Method: method, Alpha: 0.1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		non, err := Fit(post, labels, Options{Method: method, Alpha: 0.1, Seed: 1, Sets: NonRandomized})
		if err != nil {
			t.Fatal(err)
		}
		empty := 0
		for i, p := range post {
			if len(non.Set(p, U(fmt.Sprint(i)))) == 0 {
				t.Fatalf("%s: a non-randomised set is empty", method)
			}
			if len(rnd.Set(p, U(fmt.Sprint(i)))) == 0 {
				empty++
			}
		}
		if method != LAC && empty == 0 {
			t.Errorf("%s: no randomised set of %d is empty on a sure model", method, len(post))
		}
		if h := rnd.HeldOut; method != LAC && (h.Empty == 0 || h.EmptyError < 0 || h.EmptyError > 0.5 || h.Review < h.Empty) {
			t.Errorf("%s: held out %+v: want some empty sets, counted for review, mostly right at the top", method, h)
		}
		if non.HeldOut.Coverage < 0.9-0.01 || non.HeldOut.MeanSetSize < rnd.HeldOut.MeanSetSize {
			t.Errorf("%s: non-randomised coverage %.4f, size %.3f; randomised size %.3f", method,
				non.HeldOut.Coverage, non.HeldOut.MeanSetSize, rnd.HeldOut.MeanSetSize)
		}
	}
}

// Randomised sets that would be empty hold the top class instead: the same
// threshold, the same sets elsewhere, never empty, coverage at least the
// randomised sets', and review less by exactly the empty share.
func TestRandomizedNonEmptySetsAddTheTopClassToEmptyOnes(t *testing.T) {
	post, labels := synthetic(8000, 10, 4, 1, 9) // sharp posteriors: many empty randomised sets
	for _, method := range []string{LAC, APS, RAPS} {
		rnd, err := Fit(post, labels, Options{Method: method, Alpha: 0.1, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		ne, err := Fit(post, labels, Options{Method: method, Alpha: 0.1, Seed: 4, Sets: RandomizedNonEmpty})
		if err != nil {
			t.Fatal(err)
		}
		if ne.Threshold != rnd.Threshold || ne.Temperature != rnd.Temperature {
			t.Fatalf("%s: threshold %v, temperature %v; randomised %v, %v", method, ne.Threshold, ne.Temperature, rnd.Threshold, rnd.Temperature)
		}
		for i, p := range post {
			u := U(fmt.Sprint(i))
			want := rnd.Set(p, u)
			if len(want) == 0 {
				want = []int{rank(p)[0]}
			}
			if got := ne.Set(p, u); !slices.Equal(got, want) {
				t.Fatalf("%s image %d: set %v, want %v", method, i, got, want)
			}
		}
		h, r := ne.HeldOut, rnd.HeldOut
		if h.Empty != 0 || h.Coverage < r.Coverage || h.Coverage < 0.9-0.015 || math.Abs(h.Review-(r.Review-r.Empty)) > 1e-12 {
			t.Errorf("%s: non-empty %+v; randomised %+v", method, h, r)
		}
		if method != LAC && r.Empty == 0 {
			t.Errorf("%s: no empty randomised set to fill", method)
		}
	}
}

// Measure's figures per class, against a count by hand.
func TestMeasureCountsEachClass(t *testing.T) {
	c := &Calibration{FormatVersion: FormatVersion, Classes: 3, Method: LAC, Sets: Randomized, Temperature: 1, Threshold: 0.7}
	post := [][]float64{ // LAC at 0.7: the classes with p ≥ 0.3
		{0.6, 0.35, 0.05}, // label 0: {0, 1}, covered, top right
		{0.2, 0.7, 0.1},   // label 0: {1}, not covered, top wrong
		{0.1, 0.5, 0.4},   // label 2: {1, 2}, covered, top wrong
		{0.9, 0.05, 0.05}, // label 0: {0}, covered, top right
	}
	m := c.Measure(post, []int{0, 0, 2, 0}, []float64{0, 0, 0, 0})
	want := []ClassMeasured{
		{Class: 0, Images: 3, Coverage: 2.0 / 3, MeanSetSize: 4.0 / 3, Accuracy: 2.0 / 3},
		{Class: 1},
		{Class: 2, Images: 1, Coverage: 1, MeanSetSize: 2, Accuracy: 0},
	}
	if !slices.Equal(m.PerClass, want) || m.Coverage != 0.75 || m.MeanSetSize != 1.5 {
		t.Fatalf("measured %+v, want per class %+v, coverage 0.75, size 1.5", m, want)
	}
	if w, ok := m.Worst(); !ok || w.Class != 0 {
		t.Fatalf("worst %+v, want class 0 (class 1 has no images)", w)
	}
}

// The shares of keys that differ only at their end (frames of a file,
// instances of a series, numbered files) are spread as uniform draws: the
// Kolmogorov-Smirnov distance of each family of 2,000 keys to the uniform
// is below its 1% critical value, 1.63/√2000 = 0.0364.
func TestSharesOfAlikeKeysAreUniform(t *testing.T) {
	for _, family := range []string{"%d", "ct.dcm#frame=%d", "video.mp4#t=%d.5",
		"studies/1.2.3/series/1.2.3.4/instances/1.2.3.4.%d", "archive/shard-0/digit-%05d.png"} {
		us := make([]float64, 2000)
		for i := range us {
			us[i] = U(fmt.Sprintf(family, i+1))
		}
		slices.Sort(us)
		d := 0.0
		for i, u := range us {
			d = max(d, math.Abs(float64(i+1)/2000-u), math.Abs(u-float64(i)/2000))
		}
		if d > 1.63/math.Sqrt(2000) {
			t.Errorf("%q: KS distance %.4f to the uniform, above 0.0364", family, d)
		}
	}
	// Golden values (FNV-1a and the finaliser computed apart, in Python): a
	// change of U changes every randomised set.
	for key, want := range map[string]float64{"a.png": 0.46502722970398047, "ct.dcm#frame=1": 0.10844566148018286} {
		if got := U(key); got != want {
			t.Errorf("U(%q) = %v, want %v", key, got, want)
		}
	}
}
