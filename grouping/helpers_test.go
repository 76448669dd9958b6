package grouping_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// from gives recs, in order, each time it is called.
func from(recs []pipeline.Record) grouping.Records {
	return func(fn func(pipeline.Record) error) error {
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// run groups recs or fails the test.
func run(t testing.TB, cfg grouping.Config, recs []pipeline.Record) *grouping.Result {
	t.Helper()
	res, err := grouping.Run(cfg, from(recs))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// classified is a record of key with posterior p (its class, max_prob,
// margin and entropies computed as classify does).
func classified(key string, p []float64, names []string) pipeline.Record {
	r := pipeline.Record{Record: classify.Record{Key: key, Posterior: p}}
	top, second := 0, -1
	for c, v := range p {
		if v > p[top] {
			top = c
		}
	}
	for c, v := range p {
		if c != top && (second < 0 || v > p[second]) {
			second = c
		}
		if v > 0 {
			r.Entropy -= v * math.Log(v)
		}
	}
	r.ClassIndex, r.MaxProb = top, p[top]
	if names != nil {
		r.Class = names[top]
	}
	if second >= 0 {
		r.Margin = p[top] - p[second]
	}
	r.EntropyNorm = r.Entropy / math.Log(float64(len(p)))
	return r
}

// failed is an error record of key.
func failed(key string) pipeline.Record {
	return pipeline.Record{Record: classify.Record{Key: key, ClassIndex: -1, Error: "corrupt: test", ErrorReason: "corrupt"}}
}

// randomPosterior is k probabilities, peaked on one class about as often
// as a trained model's.
func randomPosterior(r *rand.Rand, k int) []float64 {
	p := make([]float64, k)
	sum := 0.0
	for c := range p {
		p[c] = math.Pow(r.Float64(), 4)
	}
	p[r.IntN(k)] += 3 * r.Float64()
	for _, v := range p {
		sum += v
	}
	for c := range p {
		p[c] /= sum
	}
	return p
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }
