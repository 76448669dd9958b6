package ort

import (
	"context"

	"github.com/didicm/didicm/internal/procstat"
	"github.com/didicm/didicm/modelmeta"
)

// ProbeActivation measures the model's working memory per model-call row:
// the growth of the process's peak resident memory between a batch of 4 and
// a batch of 36 rows, divided by 32. Linux only (it resets the peak through
// /proc/self/clear_refs); elsewhere it returns an error and callers use a default.
func (m *Model) ProbeActivation(ctx context.Context) (int64, error) {
	peak := func(rows int) (int64, error) {
		if err := procstat.ResetPeak(); err != nil {
			return 0, err
		}
		images := make([][]float32, rows)
		for i := range images {
			images[i] = make([]float32, m.meta.InputSize())
		}
		out := make([]float32, rows*m.NumClasses())
		var err error
		if m.meta.Kind == modelmeta.Score {
			labels, sigmas := make([]int64, rows), make([]float32, rows)
			err = m.LogScores(ctx, images, labels, sigmas, out)
		} else {
			err = m.Logits(ctx, images, out)
		}
		if err != nil {
			return 0, err
		}
		return procstat.PeakRSS()
	}
	if _, err := peak(1); err != nil { // warm-up: lazy initialisation is not activation memory
		return 0, err
	}
	lo, err := peak(4)
	if err != nil {
		return 0, err
	}
	hi, err := peak(36)
	if err != nil {
		return 0, err
	}
	return roundUp(max(0, hi-lo)/32, probeQuantum), nil
}

// probeQuantum rounds the probe up: the resident-memory growth it measures
// moves by a few pages from run to run, and the planner's decisions should
// not (the same model and budget give the same plan).
const probeQuantum = 64 << 10

func roundUp(v, q int64) int64 { return (v + q - 1) / q * q }
