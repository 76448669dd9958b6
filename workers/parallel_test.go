package workers_test

import (
	"testing"

	"github.com/didicm/didicm/workers"
)

func TestChooseParallelism(t *testing.T) {
	for _, c := range []struct {
		provider                     string
		cores, concurrency, threads  int
		wantConcurrency, wantThreads int
	}{
		{"cpu", 8, 0, 0, 8, 1},   // one single-threaded batch per core
		{"cpu", 8, 2, 0, 2, 4},   // threads from cores / concurrency
		{"cpu", 8, 0, 4, 2, 4},   // concurrency from cores / threads
		{"cpu", 8, 3, 5, 3, 5},   // both given: as given, even oversubscribed
		{"cpu", 2, 4, 0, 4, 1},   // never below one thread
		{"cpu", 2, 0, 8, 1, 8},   // never below one batch
		{"cpu", 0, 0, 0, 1, 1},   // unknown cores count as one
		{"cuda", 16, 0, 0, 2, 0}, // two batches feed a GPU; ONNX Runtime's threads
		{"cuda", 16, 4, 2, 4, 2},
	} {
		p := workers.ChooseParallelism(c.provider, c.cores, c.concurrency, c.threads)
		if p.Concurrency != c.wantConcurrency || p.IntraOpThreads != c.wantThreads || p.Reason == "" {
			t.Errorf("%s cores=%d concurrency=%d threads=%d: got %+v, want %d batches × %d threads",
				c.provider, c.cores, c.concurrency, c.threads, p, c.wantConcurrency, c.wantThreads)
		}
	}
}
