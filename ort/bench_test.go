package ort

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkLogScores is model-call throughput by batch size on the K=10
// fixture, which has the shipped DiDiRN's architecture (layout "small").
func BenchmarkLogScores(b *testing.B) {
	m, err := Open("../testdata/score-k10.onnx", Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, n := range []int{1, 8, 32, 64, 128, 256} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			images := make([][]float32, n)
			for i := range images {
				images[i] = make([]float32, m.Metadata().InputSize())
				for j := range images[i] {
					images[i][j] = float32((i+j)%7) / 7
				}
			}
			labels, sigmas, out := make([]int64, n), make([]float32, n), make([]float32, n*m.NumClasses())
			for i := range sigmas {
				sigmas[i] = 1
			}
			for b.Loop() {
				if err := m.LogScores(context.Background(), images, labels, sigmas, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
