package classify

import (
	"context"
	"time"

	"github.com/didicm/didicm/sampler"
)

// Timings accumulates where a Stream spent its time.
type Timings struct {
	// Fetch and Prepare run in the background goroutine, Score in the caller's.
	Fetch, Prepare, Score time.Duration
}

// Stream classifies n items in chunks of chunk, fetching and preparing chunk
// i+1 while chunk i is being scored, and emits records in item order. fetch
// returns item i (a read failure goes in Item.Err). ctx is checked between
// chunks; an error from Score, emit or ctx stops the stream.
func (e *Engine) Stream(ctx context.Context, n, chunk int, fetch func(ctx context.Context, i int) Item,
	emit func(Record) error) (Timings, error) {
	if chunk <= 0 {
		chunk = sampler.DefaultMicroBatch
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type prepared struct {
		p              []Prepared
		fetch, prepare time.Duration
	}
	ch := make(chan prepared, 1)
	go func() {
		defer close(ch)
		for lo := 0; lo < n; lo += chunk {
			start := time.Now()
			items := make([]Item, 0, chunk)
			for i := lo; i < min(lo+chunk, n); i++ {
				items = append(items, fetch(ctx, i))
			}
			mid := time.Now()
			p := e.Prepare(items)
			select {
			case ch <- prepared{p, mid.Sub(start), time.Since(mid)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var t Timings
	for p := range ch {
		t.Fetch += p.fetch
		t.Prepare += p.prepare
		if err := ctx.Err(); err != nil {
			return t, err
		}
		start := time.Now()
		recs, err := e.Score(ctx, p.p)
		t.Score += time.Since(start)
		if err != nil {
			return t, err
		}
		for _, r := range recs {
			if err := emit(r); err != nil {
				return t, err
			}
		}
	}
	return t, ctx.Err()
}
