package calibrate

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// uneven draws n images whose class y is uniform over k classes and whose
// posterior is softmax(noise + margin[y] at y): class y is as easy as its
// margin. A marginal threshold covers the easy classes more and the hard
// ones less than 1 − α.
func uneven(n int, margins []float64, seed uint64) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 2))
	k := len(margins)
	post, labels := make([][]float64, n), make([]int, n)
	for i := range post {
		y := rng.IntN(k)
		p := make([]float64, k)
		s := 0.0
		for j := range p {
			v := rng.NormFloat64()
			if j == y {
				v += margins[y]
			}
			p[j] = math.Exp(v)
			s += p[j]
		}
		for j := range p {
			p[j] /= s
		}
		post[i], labels[i] = p, y
	}
	return post, labels
}

func TestMinCalibrationIsTheSmallestCountWithAFiniteQuantile(t *testing.T) {
	for _, tc := range []struct {
		alpha float64
		want  int
	}{{0.5, 1}, {0.25, 3}, {0.2, 4}, {0.1, 9}, {0.05, 19}, {0.01, 99}} {
		if got := MinCalibration(tc.alpha); got != tc.want {
			t.Errorf("α=%g: MinCalibration %d, want ⌈(1−α)/α⌉ = %d", tc.alpha, got, tc.want)
		}
	}
	for a := 0.003; a < 0.9; a *= 1.37 {
		n := MinCalibration(a)
		scores := make([]float64, n)
		for i := range scores {
			scores[i] = float64(i) / float64(n)
		}
		if math.IsInf(quantile(scores, a), 1) || n > 1 && !math.IsInf(quantile(scores[:n-1], a), 1) {
			t.Fatalf("α=%g: MinCalibration %d disagrees with quantile", a, n)
		}
	}
}

// By class, every class covers 1 − α; by image, the hardest class falls
// short while the average holds.
func TestByClassCoversEveryClass(t *testing.T) {
	margins := []float64{6, 5, 4, 3.5, 3, 2.5, 2, 1.5}
	post, labels := uneven(24000, margins, 11)
	const alpha = 0.1
	marginal, err := Fit(post, labels, Options{Alpha: alpha, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	byClass, err := Fit(post, labels, Options{Alpha: alpha, Seed: 3, By: ByClass})
	if err != nil {
		t.Fatal(err)
	}
	worst, _ := marginal.HeldOut.Worst()
	if math.Abs(marginal.HeldOut.Coverage-(1-alpha)) > 0.01 || worst.Class != len(margins)-1 || worst.Coverage > 1-alpha-0.05 {
		t.Fatalf("by image: coverage %.4f, worst class %d at %.4f: want 0.90 on average and the hardest class well short",
			marginal.HeldOut.Coverage, worst.Class, worst.Coverage)
	}
	for _, c := range byClass.HeldOut.PerClass {
		// ~1,500 held-out images a class: 1.6 standard deviations of a share of 0.9.
		if c.Images < 1300 || math.Abs(c.Coverage-(1-alpha)) > 0.025 {
			t.Errorf("by class: class %d covers %.4f of %d images, want 0.90 ± 0.025", c.Class, c.Coverage, c.Images)
		}
	}
	if len(byClass.ClassThresholds) != len(margins) || byClass.ClassThresholds[0] >= byClass.ClassThresholds[len(margins)-1] {
		t.Fatalf("class thresholds %v: want the hardest class's the highest", byClass.ClassThresholds)
	}
}

// The thresholds are each class's conformal quantile, recomputed here from
// a direct APS score and the calibration half Fit chose.
func TestClassThresholdsAreEachClassesQuantile(t *testing.T) {
	post, labels := uneven(600, []float64{4, 2, 1}, 5)
	c, err := Fit(post, labels, Options{Alpha: 0.2, Seed: 9, By: ByClass, Sets: NonRandomized})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 0xca1))
	cal, _ := splitByClass(rng.Perm(len(post)), labels)
	byClass := make([][]float64, 3)
	for _, i := range cal {
		q, y := temper(post[i], c.Temperature), labels[i]
		mass := 0.0 // non-randomised APS: the mass of the classes at least as probable as y
		for j := range q {
			if q[j] > q[y] || q[j] == q[y] && j <= y {
				mass += q[j]
			}
		}
		byClass[y] = append(byClass[y], mass)
	}
	for k, s := range byClass {
		sort.Float64s(s)
		want := s[int(math.Ceil(float64(len(s)+1)*0.8))-1]
		if math.Abs(c.ClassThresholds[k]-want) > 1e-12 || c.ClassSizes[k] != len(s) || len(s) != countOf(labels, k)/2 {
			t.Errorf("class %d: threshold %v of %d, want %v of %d (half of %d)", k, c.ClassThresholds[k], c.ClassSizes[k],
				want, len(s), countOf(labels, k))
		}
	}
}

func countOf(labels []int, k int) int {
	n := 0
	for _, y := range labels {
		if y == k {
			n++
		}
	}
	return n
}

func TestByClassRefusesNamingTheClassesWithTooFewImages(t *testing.T) {
	post, labels := uneven(400, []float64{3, 3, 3, 3}, 8)
	keep := 0 // class 1: 17 images, class 3: 6, at α = 0.1 (9 calibration images, 18 labelled, needed)
	kept := map[int]int{}
	for i, y := range labels {
		if y == 1 && kept[1] == 17 || y == 3 && kept[3] == 6 {
			continue
		}
		kept[y]++
		post[keep], labels[keep] = post[i], y
		keep++
	}
	_, err := Fit(post[:keep], labels[:keep], Options{Alpha: 0.1, By: ByClass})
	var ce *ClassCountError
	if !errors.As(err, &ce) || ce.Need != 9 || !slices.Equal(ce.Short, []ClassCount{{1, 8}, {3, 3}}) {
		t.Fatalf("err %v; want classes 1 (8 calibration images) and 3 (3) short of 9", err)
	}
	if _, err := Fit(post[:keep], labels[:keep], Options{Alpha: 0.25, By: ByClass}); err != nil {
		t.Fatalf("α = 0.25 needs 3 a class: %v", err)
	}
}

// A hand-made calibration by class: each class is judged by its own
// threshold, so a set need not be a prefix of the ranking.
func TestSetsByClassUseEachClassesThreshold(t *testing.T) {
	c := &Calibration{FormatVersion: FormatVersion, Classes: 3, Method: APS, Sets: Randomized, By: ByClass,
		Temperature: 1, Threshold: 0.5, ClassThresholds: []float64{0.9, 0.3, 0.96}}
	// p = (0.5, 0.4, 0.1), u = 1: scores 0.5 (class 0), 0.9 (class 1), 1.0 (class 2).
	if set := c.Set([]float64{0.5, 0.4, 0.1}, 1); !slices.Equal(set, []int{0}) {
		t.Fatalf("set %v: want [0] (0.5 ≤ 0.9; 0.9 > 0.3; 1.0 > 0.96)", set)
	}
	// u = 0.5: scores 0.25, 0.7, 0.95.
	if set := c.Set([]float64{0.5, 0.4, 0.1}, 0.5); !slices.Equal(set, []int{0, 2}) {
		t.Fatalf("set %v: want [0 2] (class 1's 0.7 is past its 0.3, class 2's 0.95 within its 0.96)", set)
	}
	c.ClassThresholds[0] = 0.1
	if set := c.Set([]float64{0.5, 0.4, 0.1}, 1); len(set) != 0 {
		t.Fatalf("set %v: want empty", set)
	}
	c.Sets = RandomizedNonEmpty
	if set := c.Set([]float64{0.5, 0.4, 0.1}, 1); !slices.Equal(set, []int{0}) {
		t.Fatalf("set %v: want the top class where the set would be empty", set)
	}
}
