package workers_test

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/jpegturbo"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/sampler/cpsimd"
	"github.com/didicm/didicm/storage"
	"github.com/didicm/didicm/workers"
)

// BenchmarkEndToEnd runs one job of 16,384 small PNGs (7×7 to 9×7 grey,
// plain files on file://, plus 4 broken files; long enough that the job's
// start and its last batch, when one core idles while the other finishes,
// weigh ~1% as in a night's run) through a real redis-server, the queue
// and an in-process worker configured as `didicm worker` configures itself
// on this machine (workers.ChooseParallelism, workers.DefaultGCPercent), on
// the shipped model (models/didirn-mnist-7px-5pct.onnx).
//
// The NFE bound is the model's best forward throughput at the worker's
// micro-batch on this machine: the larger of one caller with ONNX Runtime's
// default threads and one single-threaded caller per core, each measured
// for 3 s just before and just after the job (the machine is shared: the
// mean of the two), divided by the model calls per image. It reports
// images/s from the end of enqueue to the summary (queue, storage, decoding,
// model, results, summary), the same including the producer's listing and
// manifest, the bound, the ratio, the worker's allocation per image and the
// process's peak RSS.
//
// Environment: DIDICM_BENCH_IMAGES (16384), DIDICM_BENCH_BATCH (256),
// DIDICM_BENCH_CONCURRENCY and DIDICM_BENCH_THREADS (0: the worker's
// choice), DIDICM_BENCH_SPIN (on|off), DIDICM_BENCH_STEPS (2,8: a list),
// DIDICM_BENCH_TRACE (a file for the worker's debug log), DIDICM_BENCH_KERNEL
// (go: the sampler's Go kernel instead of cpsimd's, as without AVX2),
// DIDICM_BENCH_MEMORY (ort.Config.Memory), DIDICM_BENCH_TOP_K (records
// keep the k most probable classes, job.posterior top-k; 0: the full posterior),
// DIDICM_BENCH_REVIEW_THRESHOLD (the job's entropy review threshold, 0.5
// as `didicm enqueue`'s default; 1 lists no image for review),
// DIDICM_BENCH_PERF_FIFOS (see perfControl), and for the realistic workload
// (W2, scripts/bench-w2.sh): DIDICM_BENCH_MODEL (another score model),
// DIDICM_BENCH_FRAMES (a folder of JPEG frames, repeated as plain files up
// to DIDICM_BENCH_IMAGES; JPEGs decode through libjpeg-turbo as in
// `didicm worker`), DIDICM_BENCH_VIDEO (a video file instead, copied
// DIDICM_BENCH_IMAGES times and sampled every DIDICM_BENCH_EVERY, 1s,
// through FFmpeg; images/s then counts sampled frames) and
// DIDICM_BENCH_MICRO (images per model call, 64).
func BenchmarkEndToEnd(b *testing.B) {
	if jpegturbo.Available {
		imaging.SetJPEGDecoder(jpegturbo.Decode, jpegturbo.Scale)
		defer imaging.SetJPEGDecoder(nil, nil)
	}
	if ffmpeg.Available {
		imaging.SetVideoDecoder(ffmpeg.Decoder{})
		defer imaging.SetVideoDecoder(nil)
	}
	if cpsimd.Available && os.Getenv("DIDICM_BENCH_KERNEL") != "go" {
		sampler.SetKernel(cpsimd.Kernel)
		defer sampler.SetKernel(nil)
	}
	par := workers.ChooseParallelism("cpu", runtime.GOMAXPROCS(0), envInt("DIDICM_BENCH_CONCURRENCY", 0),
		envInt("DIDICM_BENCH_THREADS", 0))
	spin := os.Getenv("DIDICM_BENCH_SPIN")
	worker := openBench(b, ort.Config{Spin: spin, IntraOpThreads: par.IntraOpThreads})
	single := openBench(b, ort.Config{Spin: spin, IntraOpThreads: 1})
	pooled := openBench(b, ort.Config{Spin: spin}) // ONNX Runtime's default threads
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(workers.DefaultGCPercent))
	}
	// The pipeline alone: the same job with a model that costs nothing gives
	// the CPU that listing, reading, decoding, sampling and writing take per
	// image, which competes with the model for the same cores.
	b.Run("no-model", func(b *testing.B) {
		var r e2eResult
		for i := range b.N {
			r = endToEnd(b, freeModel{worker}, par.Concurrency, 2, i, nil)
		}
		b.ReportMetric(r.workers, "images/s")
		b.ReportMetric(r.cpuPerImage, "cpu-µs/image")
	})
	for _, steps := range envInts("DIDICM_BENCH_STEPS", 2, 8) {
		b.Run(fmt.Sprintf("cp-T=%d", steps), func(b *testing.B) {
			var r e2eResult
			timed := &timedModel{Model: worker}
			for i := range b.N {
				r = endToEnd(b, timed, par.Concurrency, steps, i, func(micro int) bound {
					return bound{pooled: forwardRowsPerSec(b, pooled, micro, 1) / float64(steps),
						perCore: forwardRowsPerSec(b, single, micro, runtime.GOMAXPROCS(0)) / float64(steps)}
				})
			}
			best := max(r.bound.pooled, r.bound.perCore)
			b.ReportMetric(r.workers, "images/s")
			b.ReportMetric(r.withEnqueue, "images/s-incl-enqueue")
			b.ReportMetric(best, "nfe-bound-images/s")
			b.ReportMetric(r.bound.pooled, "bound-1-call-default-threads")
			b.ReportMetric(r.bound.perCore, "bound-1-thread-per-core")
			b.ReportMetric(r.workers/best, "ratio")
			b.ReportMetric(100*r.review/r.images, "review-%")
			b.ReportMetric(r.allocPerImage/1024, "alloc-KiB/image")
			b.ReportMetric(r.cpuPerImage, "cpu-µs/image")
			// What the model alone needs per image at the bound, on all cores.
			b.ReportMetric(float64(runtime.GOMAXPROCS(0))*1e6/best, "model-cpu-µs/image")
			rss, _ := procstat.PeakRSS()
			b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MiB")
			for stage, sec := range r.stageSeconds {
				b.ReportMetric(sec*1e3/r.images, stage+"-ms/image")
			}
			// The sampler's share of scoring: what the score stage spends
			// outside model calls (the sampler's arithmetic, records).
			model := time.Duration(timed.nanos.Load()).Seconds()
			b.ReportMetric(100*(r.stageSeconds["score"]-model)/r.stageSeconds["score"], "sampler-%-of-score")
		})
	}
}

func openBench(b *testing.B, cfg ort.Config) *ort.Model {
	path := os.Getenv("DIDICM_BENCH_MODEL")
	if path == "" {
		path = "../models/didirn-mnist-7px-5pct.onnx"
	}
	cfg.Memory = os.Getenv("DIDICM_BENCH_MEMORY")
	m, err := ort.Open(path, cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

type bound struct{ pooled, perCore float64 }

type e2eResult struct {
	workers, withEnqueue, allocPerImage, cpuPerImage float64
	bound                                            bound
	images                                           float64
	review                                           float64 // images listed for review
	// stageSeconds is the worker's time in each stage (fetch and prepare
	// overlap score), summed over batches.
	stageSeconds map[string]float64
}

// timedModel adds up the time spent in model calls.
type timedModel struct {
	workers.Model
	nanos atomic.Int64
}

func (m *timedModel) LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	start := time.Now()
	err := m.Model.LogScores(ctx, images, labels, sigmas, out)
	m.nanos.Add(int64(time.Since(start)))
	return err
}

// freeModel returns zero log-scores at no cost (a uniform posterior).
type freeModel struct{ *ort.Model }

func (freeModel) LogScores(_ context.Context, _ [][]float32, _ []int64, _ []float32, out []float32) error {
	clear(out)
	return nil
}

func endToEnd(b *testing.B, m workers.Model, concurrency, steps, run int, measure func(micro int) bound) e2eResult {
	n, batch := envInt("DIDICM_BENCH_IMAGES", 16384), envInt("DIDICM_BENCH_BATCH", 256)
	b.StopTimer()
	h := newHarness(b)
	h.proc.Model = m
	h.concurrency = concurrency
	h.proc.DecodeWorkers = envInt("DIDICM_BENCH_DECODERS", 0)
	if f := os.Getenv("DIDICM_BENCH_TRACE"); f != "" {
		w, err := os.OpenFile(f, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		h.proc.Log = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	// An archive is plain files (no gocloud attribute sidecars).
	dir := b.TempDir()
	files := benchArchive(b, n)
	for k, v := range files {
		path := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, v, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	url := "file://" + dir
	spec := jobs.Spec{ID: fmt.Sprintf("bench-%d", run), InputURL: url, InputPrefix: "in", OutputURL: url,
		BatchSize: batch, Sampler: "cp", Steps: steps, ReviewThreshold: jobs.DefaultReviewThreshold}
	if v, err := strconv.ParseFloat(os.Getenv("DIDICM_BENCH_REVIEW_THRESHOLD"), 64); err == nil {
		spec.ReviewThreshold = v
	}
	if k := envInt("DIDICM_BENCH_TOP_K", 0); k > 0 {
		spec.Posterior, spec.TopK = "top-k", k
	}
	if os.Getenv("DIDICM_BENCH_VIDEO") != "" {
		spec.Sampling.Every = cmp.Or(os.Getenv("DIDICM_BENCH_EVERY"), "1s")
	}
	meta := m.Metadata()
	micro := envInt("DIDICM_BENCH_MICRO", workers.DefaultMaxImagesPerCall)
	h.proc.MaxImagesPerCall = micro
	d, err := plan.Decide(plan.Request{NumClasses: meta.NumClasses(), Images: batch, Steps: steps, Force: "cp",
		InputBytes: int64(4 * meta.InputSize()), MaxMicroBatch: micro})
	if err != nil {
		b.Fatal(err)
	}
	var before, after bound
	if measure != nil {
		before = measure(d.MicroBatch)
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	b.StartTimer()
	start := time.Now()
	h.enqueue(spec)
	queued := time.Now()
	cpu0 := processCPU(b) // the workers' share, as images/s
	perfControl(b, "enable")
	h.proc.Log.Info("queued")
	h.start()
	waitSummary(b, url, spec.ID)
	done := time.Now()
	perfControl(b, "disable")
	b.StopTimer()
	h.proc.Log.Info("summary seen")
	cpu := processCPU(b) - cpu0
	runtime.ReadMemStats(&ms1)
	if measure != nil {
		after = measure(d.MicroBatch)
	}
	sum := jobSummary(b, url, spec.ID)
	images := float64(sum.Images)
	return e2eResult{review: float64(sum.Review), workers: images / done.Sub(queued).Seconds(), withEnqueue: images / done.Sub(start).Seconds(),
		allocPerImage: float64(ms1.TotalAlloc-ms0.TotalAlloc) / images, cpuPerImage: cpu.Seconds() * 1e6 / images,
		bound:  bound{pooled: (before.pooled + after.pooled) / 2, perCore: (before.perCore + after.perCore) / 2},
		images: images, stageSeconds: stageSeconds(b, h.proc.Metrics)}
}

// jobSummary is a finished job's summary.
func jobSummary(b *testing.B, url, id string) pipeline.Summary {
	store, err := jobs.OpenStore(context.Background(), jobs.Ref{OutputURL: url, ID: id})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	var s pipeline.Summary
	if err := store.ReadSummary(context.Background(), &s); err != nil {
		b.Fatal(err)
	}
	return s
}

// benchArchive is n small PNGs (and 4 broken files), or, with
// DIDICM_BENCH_FRAMES, n files cycling through that folder's JPEGs, or
// with DIDICM_BENCH_VIDEO n copies of that video.
func benchArchive(b *testing.B, n int) map[string][]byte {
	if v := os.Getenv("DIDICM_BENCH_VIDEO"); v != "" {
		data, err := os.ReadFile(v)
		if err != nil {
			b.Fatal(err)
		}
		files := map[string][]byte{}
		for i := range n {
			files[fmt.Sprintf("in/cam-%d/drive-%04d%s", i%4, i, filepath.Ext(v))] = data
		}
		return files
	}
	dir := os.Getenv("DIDICM_BENCH_FRAMES")
	if dir == "" {
		return archiveFiles("in", n)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(paths) == 0 {
		b.Fatalf("no *.jpg in %s", dir)
	}
	files := map[string][]byte{}
	for i := range n {
		data, err := os.ReadFile(paths[i%len(paths)])
		if err != nil {
			b.Fatal(err)
		}
		files[fmt.Sprintf("in/cam-%d/frame-%06d.jpg", i%4, i)] = data
	}
	return files
}

// stageSeconds sums the worker's stage histogram.
func stageSeconds(b *testing.B, m *workers.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, stage := range []string{"fetch", "prepare", "score", "write"} {
		var pb dto.Metric
		if err := m.Stage.WithLabelValues(stage).(prometheus.Histogram).Write(&pb); err != nil {
			b.Fatal(err)
		}
		out[stage] = pb.GetHistogram().GetSampleSum()
	}
	return out
}

// perfControl tells `perf record --control fifo:CTL,ACK -D -1` (named by
// DIDICM_BENCH_PERF_FIFOS=CTL,ACK) to start or stop sampling, so that a
// profile holds the job and nothing else (scripts/profile-e2e.sh).
func perfControl(b *testing.B, cmd string) {
	fifos := os.Getenv("DIDICM_BENCH_PERF_FIFOS")
	if fifos == "" {
		return
	}
	ctl, ack, _ := strings.Cut(fifos, ",")
	if err := os.WriteFile(ctl, []byte(cmd+"\n"), 0); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(ack)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.ReadFull(f, make([]byte, 4)); err != nil { // perf answers "ack\n" and keeps the fifo open
		b.Fatal(err)
	}
}

// processCPU is this process's user and system CPU time so far (all
// threads: Go's and ONNX Runtime's; redis-server is another process).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitSummary polls for the job's summary.json: one stat every 5 ms,
// so that watching costs the worker nothing measurable.
func waitSummary(b *testing.B, url, id string) {
	bk, err := storage.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	lay, _ := jobs.NewLayout("", id)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ok, err := bk.Exists(context.Background(), lay.Summary())
		if err != nil {
			b.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("job %s: no summary after 5 minutes", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// forwardRowsPerSec runs the model on zero inputs from callers goroutines
// for 3 s and returns rows per second.
func forwardRowsPerSec(b *testing.B, m *ort.Model, micro, callers int) float64 {
	var calls atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			images := make([][]float32, micro)
			for i := range images {
				images[i] = make([]float32, m.Metadata().InputSize())
			}
			labels, sigmas, out := make([]int64, micro), make([]float32, micro), make([]float32, micro*m.NumClasses())
			for time.Since(start) < 3*time.Second {
				if err := m.LogScores(context.Background(), images, labels, sigmas, out); err != nil {
					b.Error(err)
					return
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(calls.Load()*int64(micro)) / time.Since(start).Seconds()
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envInts(name string, def ...int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if v, err := strconv.Atoi(f); err == nil && v > 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}
