package sampler_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/sampler"
)

func BenchmarkStepRankOne(b *testing.B) {
	for _, k := range []int{10, 1000, 10000, 100000} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			p, q := randDist(rng, k), randDist(rng, k)
			b.ReportMetric(float64(2*8*k), "state-bytes/image")
			for b.Loop() {
				sampler.StepRankOne(p, q, 0.5, sampler.ClampPaper)
			}
		})
	}
}

func BenchmarkStepDense(b *testing.B) {
	for _, k := range []int{10, 1000} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			p, q := randDist(rng, k), randDist(rng, k)
			b.ReportMetric(float64(8*k*k+2*8*k), "state-bytes/image")
			for b.Loop() {
				sampler.StepDense(p, q, 0.5, sampler.ClampPaper)
			}
		})
	}
}

// BenchmarkCPSamplerOverhead is the sampler's own work per CP step and image
// (a scorer that only copies a row; T=4, as in W2), including the result's
// summary, to compare with one model call.
func BenchmarkCPSamplerOverhead(b *testing.B) {
	for _, k := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			row := make([]float32, k)
			for i := range row {
				row[i] = float32(rng.NormFloat64() * 3)
			}
			const n, steps = 16, 4
			images := imagesFor(n)
			for b.Loop() {
				if _, err := (sampler.CP{Steps: steps, MicroBatch: n}).Run(context.Background(), fixed{row}, images); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*steps), "ns/image-step")
		})
	}
}
