package ort

import (
	"context"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/modelmeta"
)

// ProbeActivation measures ONNX Runtime's working memory per model-call
// row: the growth of the process's peak resident memory between a call of 4
// and a call of 36 rows, divided by 32; without an arena, the median of
// three such pairs (one pair moves by ±15% at K=10⁵, docs/benchmarks.md).
// The Go side of a call (its images, its scores, the pooled input copy) is
// allocated before either, so only ONNX Runtime's part is measured: the
// planner counts the Go side itself (plan.Costs). Linux only (it resets the peak through /proc/self/clear_refs);
// elsewhere it returns an error and callers use a default.
func (m *Model) ProbeActivation(ctx context.Context) (int64, error) {
	const lo, hi = 4, 36
	size := m.meta.InputSize()
	image := make([]float32, size)
	images := make([][]float32, hi)
	for i := range images {
		images[i] = image
	}
	out := make([]float32, hi*m.NumClasses())
	labels, sigmas := make([]int64, hi), make([]float32, hi)
	call := func(rows int) error {
		if m.meta.Kind == modelmeta.Score {
			return m.LogScores(ctx, images[:rows], labels[:rows], sigmas[:rows], out)
		}
		return m.Logits(ctx, images[:rows], out)
	}
	peak := func(rows int) (int64, error) {
		// Go's heap settled and returned first: the runtime giving pages
		// back during the call would hide part of ONNX Runtime's growth.
		runtime.GC()
		debug.FreeOSMemory()
		// The pooled input copy, sized and touched now (a collection empties
		// the pool, so it is made again for each call).
		bp := inputs.Get().(*[]float32)
		if cap(*bp) < hi*size {
			*bp = make([]float32, hi*size)
		}
		clear((*bp)[:hi*size])
		inputs.Put(bp)
		if err := procstat.ResetPeak(); err != nil {
			return 0, err
		}
		if err := call(rows); err != nil {
			return 0, err
		}
		return procstat.PeakRSS()
	}
	if err := call(1); err != nil { // warm-up: lazy initialisation is not activation memory
		return 0, err
	}
	// The smaller call first: an arena (Config.Memory "arena") keeps what it
	// grew to, and would hide the smaller call's growth; so would a second
	// pair.
	pairs := 3
	if m.memory != "malloc" {
		pairs = 1
	}
	var growth []int64
	for range pairs {
		p0, err := peak(lo)
		if err != nil {
			return 0, err
		}
		p1, err := peak(hi)
		if err != nil {
			return 0, err
		}
		growth = append(growth, max(0, p1-p0))
	}
	slices.Sort(growth)
	return roundUp(growth[len(growth)/2]/(hi-lo), probeQuantum), nil
}

// probeQuantum rounds the probe up: the resident-memory growth it measures
// moves by a few pages from run to run, and the planner's decisions should
// not (the same model and budget give the same plan).
const probeQuantum = 64 << 10

func roundUp(v, q int64) int64 { return (v + q - 1) / q * q }
