package ort

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/sampler"
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

// BenchmarkPlannedMemory checks the planner's cost model for CP against a
// real run: the memory one more image costs is the growth of peak resident
// memory between a CP run over LO and over HI images (all in one model call,
// T=2, the Go heap included), divided by HI − LO (without the arena, the
// median of three such pairs); the planner's figure is
// plan.Costs with the activation memory the probe measures. Model:
// DIDICM_BENCH_MODEL (default the K=1000 fixture); LO, HI:
// DIDICM_BENCH_LO, DIDICM_BENCH_HI (4, 20); ONNX Runtime's allocation:
// DIDICM_BENCH_MEMORY (DefaultMemory); GOGC: DIDICM_BENCH_GOGC (100).
func BenchmarkPlannedMemory(b *testing.B) {
	path := os.Getenv("DIDICM_BENCH_MODEL")
	if path == "" {
		path = "../testdata/score-k1000.onnx"
	}
	lo, hi := envInt("DIDICM_BENCH_LO", 4), envInt("DIDICM_BENCH_HI", 20)
	cfg := Config{IntraOpThreads: 1, Memory: os.Getenv("DIDICM_BENCH_MEMORY")}
	m, err := Open(path, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	defer debug.SetGCPercent(debug.SetGCPercent(envInt("DIDICM_BENCH_GOGC", 100)))
	ctx := context.Background()
	peak := func(n int) int64 {
		runtime.GC()
		debug.FreeOSMemory()
		if err := procstat.ResetPeak(); err != nil {
			b.Skip(err)
		}
		images := make([][]float32, n)
		for i := range images {
			images[i] = make([]float32, m.Metadata().InputSize())
			for j := range images[i] {
				images[i][j] = float32((i*31+j)%13) / 13
			}
		}
		if _, err := (sampler.CP{Steps: 2, MicroBatch: n}).Run(ctx, m, images); err != nil {
			b.Fatal(err)
		}
		rss, err := procstat.PeakRSS()
		if err != nil {
			b.Fatal(err)
		}
		runtime.KeepAlive(images)
		return rss
	}
	var measured float64
	for b.Loop() {
		// lo first: ONNX Runtime's arena keeps what it grew to, so a larger
		// run first would hide the smaller one's growth. Without the arena,
		// the median of three pairs: one pair moves by ±15% at K=10⁵.
		pairs := 3
		if cmp.Or(cfg.Memory, DefaultMemory) != "malloc" {
			pairs = 1
		}
		var growth []float64
		for range pairs {
			p0 := peak(lo)
			growth = append(growth, float64(peak(hi)-p0)/float64(hi-lo))
		}
		slices.Sort(growth)
		measured = growth[len(growth)/2]
	}
	// The probe on its own session, after the measurement, for the same reason.
	probe, err := Open(path, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close()
	act, err := probe.ProbeActivation(ctx)
	if err != nil {
		b.Fatal(err)
	}
	costs := plan.Costs(plan.Request{NumClasses: m.NumClasses(), Images: hi, Steps: 2, InputBytes: int64(4 * m.Metadata().InputSize()),
		ActivationBytes: act})
	predicted := float64(costs[0].BytesPerImage)
	b.ReportMetric(predicted/1024, "planned-KiB/image")
	b.ReportMetric(measured/1024, "measured-KiB/image")
	b.ReportMetric(float64(act)/1024, "probed-activation-KiB/row")
	b.ReportMetric(measured/predicted, "measured/planned")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSessionSettings is the forward bound (rows per second, one
// single-threaded caller per core, as the CPU worker runs) under each ONNX
// Runtime setting that might move it, in one run: graph optimisation "all"
// (the default; on the CPU it includes the NHWC layout transformer),
// "extended" (without it) and "basic"; and the arena without per-shape
// blocks, or no arena. Model: DIDICM_BENCH_MODEL (default the K=1000
// fixture); rows per call: DIDICM_BENCH_MICRO (16); calls per caller:
// DIDICM_BENCH_CALLS (4).
func BenchmarkSessionSettings(b *testing.B) {
	path := os.Getenv("DIDICM_BENCH_MODEL")
	if path == "" {
		path = "../testdata/score-k1000.onnx"
	}
	rows, calls, callers := envInt("DIDICM_BENCH_MICRO", 16), envInt("DIDICM_BENCH_CALLS", 4), runtime.GOMAXPROCS(0)
	for _, v := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{}},
		{"graph=extended", Config{GraphOptimization: "extended"}},
		{"graph=basic", Config{GraphOptimization: "basic"}},
		{"memory=no-pattern", Config{Memory: "no-pattern"}},
		{"memory=malloc", Config{Memory: "malloc"}},
	} {
		b.Run(v.name, func(b *testing.B) {
			cfg := v.cfg
			cfg.IntraOpThreads = 1
			m, err := Open(path, cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			images := make([][]float32, rows)
			for i := range images {
				images[i] = make([]float32, m.Metadata().InputSize())
				for j := range images[i] {
					images[i][j] = float32((i*17+j)%11) / 11
				}
			}
			call := func() error {
				labels, sigmas, out := make([]int64, rows), make([]float32, rows), make([]float32, rows*m.NumClasses())
				for i := range sigmas {
					labels[i], sigmas[i] = int64(i%m.NumClasses()), 0.5
				}
				return m.LogScores(context.Background(), images, labels, sigmas, out)
			}
			if err := call(); err != nil { // warm-up
				b.Fatal(err)
			}
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make(chan error, callers)
				for range callers {
					wg.Go(func() {
						for range calls {
							if err := call(); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*callers*calls*rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
