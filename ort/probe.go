package ort

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProbeActivation measures the model's working memory per model-call row:
// the growth of the process's peak resident memory between a batch of 4 and
// a batch of 36 rows, divided by 32. Linux only (it resets the peak through
// /proc/self/clear_refs); elsewhere it returns an error and callers use a default.
func (m *Model) ProbeActivation(ctx context.Context) (int64, error) {
	peak := func(rows int) (int64, error) {
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			return 0, fmt.Errorf("reset peak memory: %w", err)
		}
		images := make([][]float32, rows)
		for i := range images {
			images[i] = make([]float32, m.Meta.InputSize())
		}
		out := make([]float32, rows*m.NumClasses())
		var err error
		if m.Meta.Kind == "score" {
			labels, sigmas := make([]int64, rows), make([]float32, rows)
			err = m.LogScores(ctx, images, labels, sigmas, out)
		} else {
			err = m.Logits(ctx, images, out)
		}
		if err != nil {
			return 0, err
		}
		return peakRSS()
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
	return max(0, hi-lo) / 32, nil
}

func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}
