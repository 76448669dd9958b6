package sampler

import "context"

// Scorer is the score model s_θ(y, c, σ) as the samplers see it.
type Scorer interface {
	// NumClasses is K.
	NumClasses() int
	// LogScores fills out (len(images)·K values, row-major) with the log
	// concrete scores of images[b] conditioned on labels[b] at noise sigmas[b].
	// Each image is one model input, already preprocessed.
	LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error
}
