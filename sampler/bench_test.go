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

// BenchmarkCPSamplerOverhead is the sampler's own arithmetic per CP step and
// image (a scorer that only copies a row), to compare with one model call.
func BenchmarkCPSamplerOverhead(b *testing.B) {
	row := []float32{0, -1, 2, 0.5, -3, 1, 0.2, -0.7, 1.5, -2}
	images := imagesFor(64)
	for b.Loop() {
		if _, err := (sampler.CP{Steps: 1, MicroBatch: 64}).Run(context.Background(), fixed{row}, images); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/64, "ns/image-step")
}
