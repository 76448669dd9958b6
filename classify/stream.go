package classify

import (
	"context"
	"sync"
	"time"

	"github.com/didicm/didicm/sampler"
)

// Timings accumulates where a Stream spent its time.
type Timings struct {
	// Fetch and Prepare are summed over the goroutines that read and decode
	// (waiting for the scorer left out); Score is the caller's.
	Fetch, Prepare, Score time.Duration
}

// Stream classifies n items and emits their records in item order (the
// images of a file in their order). Up to DecodeWorkers items are fetched
// (fetch returns item i; a read failure goes in Item.Err) and expanded into
// images at once, while the model scores the previous chunk of chunk
// images. A file holding many images (a multi-frame DICOM file, a video, a
// log) is expanded as it is scored: memory holds at most DecodeWorkers+2
// chunks of model inputs, whatever the files hold. ctx is checked between
// chunks; an error from Score, emit, ctx or a video's storage (imaging.ErrRead)
// stops the stream.
func (e *Engine) Stream(ctx context.Context, n, chunk int, fetch func(ctx context.Context, i int) Item,
	emit func(Record) error) (Timings, error) {
	if chunk <= 0 {
		chunk = sampler.DefaultMicroBatch
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type expanded struct {
		t   Timings
		err error
	}
	chunks := make(chan []Prepared, 1)
	done := make(chan expanded, 1)
	go func() {
		t, err := e.expandAll(ctx, n, chunk, fetch, func(c []Prepared) error {
			select {
			case chunks <- c:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		close(chunks)
		done <- expanded{t, err}
	}()
	var t Timings
	var err error
	for c := range chunks {
		if err != nil {
			continue // drain, so that expansion can end
		}
		if err = ctx.Err(); err != nil {
			continue
		}
		start := time.Now()
		var recs []Record
		recs, err = e.Score(ctx, c)
		t.Score += time.Since(start)
		for _, r := range recs {
			if err == nil {
				err = emit(r)
			}
		}
		if err != nil {
			cancel(err)
		}
	}
	x := <-done
	t.Fetch, t.Prepare = x.t.Fetch, x.t.Prepare
	if err == nil {
		err = x.err
	}
	return t, err
}

// slot carries one item's images, in order, from the goroutine expanding
// it to the one that cuts chunks; err is set before out is closed.
type slot struct {
	out chan Prepared
	err error
}

// expandAll fetches and expands n items, DecodeWorkers at a time, and
// gives their images to emit in item order, chunk at a time (the last
// chunk may be shorter). Each item holds at most chunk images ahead of
// emit, so a long file waits for emit instead of filling memory.
func (e *Engine) expandAll(ctx context.Context, n, chunk int, fetch func(ctx context.Context, i int) Item,
	emit func([]Prepared) error) (Timings, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := max(1, min(e.opts.DecodeWorkers, n))
	order := make(chan *slot, workers)
	type job struct {
		i int
		s *slot
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // hands out items in order
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for i := range n {
			s := &slot{out: make(chan Prepared, chunk)}
			select {
			case order <- s:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, s}:
			case <-ctx.Done():
				s.err = context.Cause(ctx)
				close(s.out)
				return
			}
		}
	}()
	var mu sync.Mutex
	var t Timings
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				f, p := e.fill(ctx, fetch, j.i, j.s)
				mu.Lock()
				t.Fetch, t.Prepare = t.Fetch+f, t.Prepare+p
				mu.Unlock()
			}
		}()
	}
	err := cutChunks(order, chunk, emit)
	if err != nil {
		cancel(err)
		for s := range order { // let the goroutines finish
			for range s.out {
			}
		}
	}
	wg.Wait()
	return t, err
}

// fill fetches item i and expands it into s, returning the time spent
// fetching and expanding (time waiting for room in s left out).
func (e *Engine) fill(ctx context.Context, fetch func(ctx context.Context, i int) Item, i int, s *slot) (time.Duration, time.Duration) {
	defer close(s.out)
	start := time.Now()
	it := fetch(ctx, i)
	fetched := time.Now()
	var waited time.Duration
	s.err = e.expand(ctx, it, func(p Prepared) error {
		select {
		case s.out <- p:
			return nil
		default:
		}
		w := time.Now()
		defer func() { waited += time.Since(w) }()
		select {
		case s.out <- p:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	return fetched.Sub(start), time.Since(fetched) - waited
}

// cutChunks reads the slots in order and gives their images to emit in
// chunks; it stops at the first slot that failed or emit's error.
func cutChunks(order <-chan *slot, chunk int, emit func([]Prepared) error) error {
	buf := make([]Prepared, 0, chunk)
	for s := range order {
		for p := range s.out {
			if buf = append(buf, p); len(buf) == chunk {
				if err := emit(buf); err != nil {
					return err
				}
				buf = make([]Prepared, 0, chunk)
			}
		}
		if s.err != nil {
			return s.err
		}
	}
	if len(buf) > 0 {
		return emit(buf)
	}
	return nil
}
