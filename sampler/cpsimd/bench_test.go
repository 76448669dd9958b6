package cpsimd_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/sampler/cpsimd"
)

// BenchmarkCPSampler is the sampler's own work per image and step (CP, T=4,
// 16 images per call, a scorer that only copies a row, the summary
// included) with the Go kernel and with this one, in one run.
func BenchmarkCPSampler(b *testing.B) {
	needKernel(b)
	for _, k := range []int{1000, 100000} {
		rng := rand.New(rand.NewPCG(2, 2))
		row := make([]float32, k)
		for i := range row {
			row[i] = float32(rng.NormFloat64() * 3)
		}
		const n, steps = 16, 4
		images := make([][]float32, n)
		for i := range images {
			images[i] = []float32{0}
		}
		for _, kern := range []struct {
			name string
			k    sampler.Kernel
		}{{"go", nil}, {"simd", cpsimd.Kernel}} {
			b.Run(fmt.Sprintf("%s/K=%d", kern.name, k), func(b *testing.B) {
				sampler.SetKernel(kern.k)
				defer sampler.SetKernel(nil)
				for b.Loop() {
					if _, err := (sampler.CP{Steps: steps, MicroBatch: n}).Run(context.Background(), copyRow{row}, images); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(n*steps), "ns/image-step")
			})
		}
	}
}

type copyRow struct{ row []float32 }

func (c copyRow) NumClasses() int { return len(c.row) }

func (c copyRow) LogScores(_ context.Context, images [][]float32, _ []int64, _ []float32, out []float32) error {
	for b := range images {
		copy(out[b*len(c.row):], c.row)
	}
	return nil
}
