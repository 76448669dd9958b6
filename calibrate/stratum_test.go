package calibrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// reviewed keeps the images (and their shares) that stratum sends to review.
func reviewed(s *Stratum, post [][]float64, labels []int, from int) ([][]float64, []int, []float64) {
	var p [][]float64
	var l []int
	var us []float64
	for i := range post {
		if u := U(fmt.Sprint(from + i)); s.Holds(post[i], u) {
			p, l, us = append(p, post[i]), append(l, labels[i]), append(us, u)
		}
	}
	return p, l, us
}

// Fitted on the images an entropy rule reviewed, the sets cover 1 − α of
// the images that rule reviews in another draw, and images outside the
// stratum get their top class alone.
func TestAStratumCalibrationCoversTheStratum(t *testing.T) {
	post, labels := synthetic(30000, 10, 2.5, 1, 21)
	s := &Stratum{Rule: RuleEntropy, EntropyThreshold: 0.3, Job: "night"}
	fitP, fitL, fitU := reviewed(s, post[:15000], labels[:15000], 0)
	c, err := FitStratum(fitP, fitL, fitU, *s, Options{Alpha: 0.1, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stratum.Reviewed != len(fitP) || c.Stratum.Unknown != 0 || len(fitP) < 2000 || len(fitP) > 13000 {
		t.Fatalf("stratum %+v of %d reviewed: want a part of the 15,000", c.Stratum, len(fitP))
	}
	in, covered, out := 0, 0, 0
	for i := 15000; i < len(post); i++ {
		u := U(fmt.Sprint(i))
		set := c.Set(post[i], u)
		if !s.Holds(post[i], u) {
			out++
			if !slices.Equal(set, []int{rank(post[i])[0]}) {
				t.Fatalf("image %d outside the stratum: set %v, want its top class alone", i, set)
			}
			continue
		}
		in++
		if slices.Contains(set, labels[i]) {
			covered++
		}
	}
	if got := float64(covered) / float64(in); math.Abs(got-0.9) > 0.015 || out == 0 {
		t.Fatalf("coverage in the stratum %.4f of %d (%d outside): want 0.90 ± 0.015", got, in, out)
	}
}

// An unsure decision counts as never covered: q̂ can only rise, and when
// more than α of the images are unsure there is no threshold at all.
func TestUnknownLabelsRaiseTheThreshold(t *testing.T) {
	post, labels := synthetic(4000, 10, 1, 1, 8)
	s := Stratum{Rule: RuleEntropy, EntropyThreshold: 0}
	us := make([]float64, len(post))
	known, err := FitStratum(post, labels, us, s, Options{Alpha: 0.1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	some := slices.Clone(labels)
	for i := 0; i < len(some); i += 40 {
		some[i] = Unknown
	}
	unsure, err := FitStratum(post, some, us, s, Options{Alpha: 0.1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if unsure.Threshold <= known.Threshold || unsure.Stratum.Unknown != 100 {
		t.Fatalf("q̂ %v with 100 unsure, %v without: want higher", unsure.Threshold, known.Threshold)
	}
	for i := range some {
		if i%5 == 0 {
			some[i] = Unknown
		}
	}
	if _, err := FitStratum(post, some, us, s, Options{Alpha: 0.1, Seed: 5}); err == nil || !strings.Contains(err.Error(), "no known label") {
		t.Fatalf("a fifth unsure at α = 0.1: %v; want a refusal", err)
	}
}

// The set-size rule's stratum is the base calibration's sets that do not
// hold one class; FitStratum refuses an image outside it, and the file
// reads back with its base checked.
func TestASetSizeStratumKeepsItsBase(t *testing.T) {
	post, labels := synthetic(12000, 10, 3, 1, 4)
	base, err := Fit(post[:4000], labels[:4000], Options{Alpha: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	base.ModelSHA256 = strings.Repeat("ab", 32)
	s := &Stratum{Rule: RuleSetSize, Base: base, Job: "night"}
	p, l, us := reviewed(s, post[4000:], labels[4000:], 4000)
	one := 0
	for s.Holds(post[one], 0.5) {
		one++
	}
	if _, err := FitStratum(append(p, post[one]), append(l, 0), append(us, 0.5), *s, Options{Alpha: 0.1}); err == nil {
		t.Fatal("an image with a set of one class was taken")
	}
	c, err := FitStratum(p, l, us, *s, Options{Alpha: 0.1, Seed: 1, Sets: RandomizedNonEmpty})
	if err != nil {
		t.Fatal(err)
	}
	c.ModelSHA256 = base.ModelSHA256
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil || back.Stratum.Base.Threshold != base.Threshold || back.ForModel(base.ModelSHA256, 10) != nil {
		t.Fatalf("read back: %v", err)
	}
	c.Stratum.Base.ModelSHA256 = strings.Repeat("cd", 32)
	data, _ = json.Marshal(c)
	var fe *FieldError
	if _, err := Parse(data); !errors.As(err, &fe) || fe.Field != "stratum.base" {
		t.Fatalf("a base for another model: %v", err)
	}
}

// By set size the rule chose its images by u too (an empty randomised set
// is a large u): fitted with the images' own u, the sets cover 1 − α of
// the images the rule reviews; with fresh draws of u they would cover far
// fewer (the empty sets of sure images stay empty).
func TestASetSizeStratumIsFittedWithTheImagesOwnShares(t *testing.T) {
	post, labels := synthetic(40000, 10, 6, 1, 31) // sure: many empty randomised sets
	base, err := Fit(post[:4000], labels[:4000], Options{Alpha: 0.1, Seed: 1, Sets: Randomized})
	if err != nil {
		t.Fatal(err)
	}
	base.ModelSHA256 = strings.Repeat("ab", 32)
	s := &Stratum{Rule: RuleSetSize, Base: base}
	p, l, us := reviewed(s, post[4000:22000], labels[4000:22000], 4000)
	c, err := FitStratum(p, l, us, *s, Options{Alpha: 0.1, Seed: 2, Sets: Randomized})
	if err != nil {
		t.Fatal(err)
	}
	in, covered := 0, 0
	for i := 22000; i < len(post); i++ {
		if u := U(fmt.Sprint(i)); s.Holds(post[i], u) {
			in++
			if slices.Contains(c.Set(post[i], u), labels[i]) {
				covered++
			}
		}
	}
	if got := float64(covered) / float64(in); math.Abs(got-0.9) > 0.02 || in < 1000 {
		t.Fatalf("coverage where the rule reviews: %.4f of %d, want 0.90 ± 0.02", got, in)
	}
}
