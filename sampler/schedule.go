package sampler

import "math"

const (
	// ScheduleEps is the log-linear schedule's ε.
	ScheduleEps = 1e-3
	// SampleEps is the last sampling time ε_s.
	SampleEps = 1e-5
)

// Sigma is the total noise σ(t) = −log(1 − (1−ε)t).
func Sigma(t float64) float64 { return -math.Log1p(-(1 - ScheduleEps) * t) }

// SigmaRate is σ'(t) = (1−ε) / (1 − (1−ε)t).
func SigmaRate(t float64) float64 { return (1 - ScheduleEps) / (1 - (1-ScheduleEps)*t) }

// Times returns t_n = linspace(1, ε_s, steps) and the step Δt = (1−ε_s)/steps.
func Times(steps int) (ts []float64, dt float64) {
	ts = make([]float64, steps)
	for n := range ts {
		if steps == 1 {
			ts[n] = 1
			continue
		}
		ts[n] = 1 + float64(n)*(SampleEps-1)/float64(steps-1)
	}
	return ts, (1 - SampleEps) / float64(steps)
}
