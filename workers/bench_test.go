package workers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/storage"
)

// BenchmarkEndToEnd runs one job of 4,096 PNGs (7×7, file://) through a real
// redis-server, the queue and an in-process worker on the K=10 fixture (the
// shipped model's architecture) and then, in the same run, measures the
// model's forward throughput at the worker's micro-batch. It reports
// end-to-end images/s, the NFE bound (forward rows/s ÷ model calls per
// image), their ratio, and the process's peak RSS.
func BenchmarkEndToEnd(b *testing.B) {
	m, err := ort.Open("../testdata/score-k10.onnx", ort.Config{}, nil) // ONNX Runtime's default threads, as a worker
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, steps := range []int{2, 8} {
		b.Run(fmt.Sprintf("cp-T=%d", steps), func(b *testing.B) {
			var e2e, bound float64
			for i := range b.N {
				e2e, bound = endToEnd(b, m, steps, i)
			}
			b.ReportMetric(e2e, "images/s")
			b.ReportMetric(bound, "nfe-bound-images/s")
			b.ReportMetric(e2e/bound, "ratio")
			rss, _ := procstat.PeakRSS()
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
		})
	}
}

func endToEnd(b *testing.B, m *ort.Model, steps, run int) (e2e, bound float64) {
	const n, batch = 4096, 256
	b.StopTimer()
	h := newHarness(b)
	h.proc.Model = m
	url := "file://" + b.TempDir()
	bk, err := storage.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	files := writeArchive(b, bk, "in", n)
	spec := jobs.Spec{ID: fmt.Sprintf("bench-%d", run), InputURL: url, InputPrefix: "in", OutputURL: url,
		BatchSize: batch, Sampler: "cp", Steps: steps}
	b.StartTimer()
	start := time.Now()
	h.enqueue(spec)
	h.start()
	wait(b, spec)
	elapsed := time.Since(start)
	b.StopTimer()
	meta := h.proc.Model.Metadata()
	d, err := plan.Decide(plan.Request{NumClasses: meta.NumClasses(), Images: batch, Steps: steps, Force: "cp",
		InputBytes: int64(4 * meta.InputSize()), MaxMicroBatch: 64}) // the worker's default cap
	if err != nil {
		b.Fatal(err)
	}
	return float64(len(files)) / elapsed.Seconds(), forwardRowsPerSec(b, h, d.MicroBatch) / float64(steps)
}

func forwardRowsPerSec(b *testing.B, h *harness, micro int) float64 {
	m := h.proc.Model
	images := make([][]float32, micro)
	for i := range images {
		images[i] = make([]float32, m.Metadata().InputSize())
	}
	labels, sigmas, out := make([]int64, micro), make([]float32, micro), make([]float32, micro*m.NumClasses())
	calls, start := 0, time.Now()
	for time.Since(start) < 3*time.Second {
		if err := m.LogScores(context.Background(), images, labels, sigmas, out); err != nil {
			b.Fatal(err)
		}
		calls++
	}
	return float64(calls*micro) / time.Since(start).Seconds()
}
