package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/didicm/didicm/calibrate"
)

// shuffled is ds in a seeded random order.
func shuffled(ds []digit, seed uint64) []digit {
	out := slices.Clone(ds)
	rand.New(rand.NewPCG(seed, 77)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// labelled are the posteriors and labels of ds.
func labelled(ds []digit) ([][]float64, []int) {
	post, ys := make([][]float64, len(ds)), make([]int, len(ds))
	for i, d := range ds {
		post[i], ys[i] = d.rec.Posterior, d.y
	}
	return post, ys
}

// setKinds are the sets each measurement is made with.
var setKinds = []string{calibrate.Randomized, calibrate.RandomizedNonEmpty}

// classes fits by image and by class on 8,000 digits of each seed's order
// (4,000 calibrate, 4,000 held out, as `calibrate` splits them) and prints
// the held-out coverage, overall and of the worst class, over the seeds,
// then each class's coverage averaged over them.
func classes(ds []digit, alpha float64, seeds int) error {
	if len(ds) < 8000 {
		return fmt.Errorf("%d labelled digits: want 8,000", len(ds))
	}
	type acc struct {
		cov, size, worst, worstMin float64
		below                      int
		perClass                   []float64
	}
	fmt.Printf("| sets | by | coverage (mean of %d splits) | mean set size | worst class's coverage: mean | lowest | splits with a class below %.0f%% |\n",
		seeds, 100*(1-alpha))
	fmt.Println("|---|---|---|---|---|---|---|")
	var rows [][]string
	for _, sets := range setKinds {
		for _, by := range []string{calibrate.ByImage, calibrate.ByClass} {
			a := acc{worstMin: 1}
			for s := range seeds {
				post, ys := labelled(shuffled(ds, uint64(s))[:8000])
				c, err := calibrate.Fit(post, ys, calibrate.Options{Alpha: alpha, Sets: sets, By: by, Seed: uint64(s)})
				if err != nil {
					return err
				}
				h := c.HeldOut
				w, _ := h.Worst()
				a.cov, a.size, a.worst, a.worstMin = a.cov+h.Coverage, a.size+h.MeanSetSize, a.worst+w.Coverage, min(a.worstMin, w.Coverage)
				if w.Coverage < 1-alpha {
					a.below++
				}
				for len(a.perClass) < len(h.PerClass) {
					a.perClass = append(a.perClass, 0)
				}
				for k, pc := range h.PerClass {
					a.perClass[k] += pc.Coverage / float64(seeds)
				}
			}
			n := float64(seeds)
			fmt.Printf("| %s | %s | %.2f%% | %.3f | %.2f%% | %.2f%% | %d of %d |\n", sets, by, 100*a.cov/n, a.size/n,
				100*a.worst/n, 100*a.worstMin, a.below, seeds)
			row := []string{sets, by}
			for _, v := range a.perClass {
				row = append(row, fmt.Sprintf("%.1f%%", 100*v))
			}
			rows = append(rows, row)
		}
	}
	fmt.Printf("\nEach class's held-out coverage, mean of %d splits:\n\n| sets | by |", seeds)
	for k := range len(rows[0]) - 2 {
		fmt.Printf(" %d |", k)
	}
	fmt.Printf("\n|---|---|%s\n", strings.Repeat("---|", len(rows[0])-2))
	for _, r := range rows {
		fmt.Printf("| %s |\n", strings.Join(r, " | "))
	}
	return nil
}
