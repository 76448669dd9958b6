package workers_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/storage"
)

// BenchmarkEndToEnd runs one job of 4,096 PNGs (7×7, file://, plus 4 broken
// files) through a real redis-server, the queue and an in-process worker on
// the K=10 fixture (the shipped model's architecture). In the same run it
// measures the model's forward throughput at the worker's micro-batch, just
// before and just after the job (this machine is shared: the mean of the two
// is the bound). It reports images/s from the end of enqueue to the summary
// (queue, storage, decoding, model, results), the same including the
// producer's listing and manifest, the NFE bound (forward rows/s ÷ model
// calls per image), the ratio, and the process's peak RSS.
func BenchmarkEndToEnd(b *testing.B) {
	// ONNX Runtime's default threads, as a worker; DIDICM_BENCH_SPIN=off|on selects idle spinning.
	m, err := ort.Open("../testdata/score-k10.onnx", ort.Config{Spin: os.Getenv("DIDICM_BENCH_SPIN")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	for _, steps := range []int{2, 8} {
		b.Run(fmt.Sprintf("cp-T=%d", steps), func(b *testing.B) {
			var r e2eResult
			for i := range b.N {
				r = endToEnd(b, m, steps, i)
			}
			b.ReportMetric(r.workers, "images/s")
			b.ReportMetric(r.withEnqueue, "images/s-incl-enqueue")
			b.ReportMetric(r.bound, "nfe-bound-images/s")
			b.ReportMetric(r.workers/r.bound, "ratio")
			rss, _ := procstat.PeakRSS()
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
		})
	}
}

type e2eResult struct{ workers, withEnqueue, bound float64 }

func endToEnd(b *testing.B, m *ort.Model, steps, run int) e2eResult {
	n, batch := envInt("DIDICM_BENCH_IMAGES", 4096), envInt("DIDICM_BENCH_BATCH", 256)
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
	meta := m.Metadata()
	d, err := plan.Decide(plan.Request{NumClasses: meta.NumClasses(), Images: batch, Steps: steps, Force: "cp",
		InputBytes: int64(4 * meta.InputSize()), MaxMicroBatch: 64}) // the worker's default cap
	if err != nil {
		b.Fatal(err)
	}
	before := forwardRowsPerSec(b, h, d.MicroBatch)
	b.StartTimer()
	start := time.Now()
	h.enqueue(spec)
	queued := time.Now()
	h.start()
	wait(b, spec)
	done := time.Now()
	b.StopTimer()
	after := forwardRowsPerSec(b, h, d.MicroBatch)
	images := float64(len(files))
	return e2eResult{workers: images / done.Sub(queued).Seconds(), withEnqueue: images / done.Sub(start).Seconds(),
		bound: (before + after) / 2 / float64(steps)}
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

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
