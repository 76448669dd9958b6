package imaging

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Budget is a process-wide allowance of decoding memory in bytes (see
// Limits.Budget): each image holds DecodedBytes of it from decoding until its
// tensor is made. An image larger than the whole budget is refused by
// Limits.MaxDecodedBytes first, which must not exceed it.
type Budget struct {
	size int64
	sem  *semaphore.Weighted

	mu         sync.Mutex
	held, peak int64
}

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) *Budget {
	return &Budget{size: size, sem: semaphore.NewWeighted(size)}
}

// Size is the budget in bytes.
func (b *Budget) Size() int64 { return b.size }

// Peak is the most bytes held at once so far.
func (b *Budget) Peak() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Reserve waits until n bytes of the budget are free and holds them until
// release is called (once; later calls do nothing), or returns ctx's error
// without holding anything. Any package that decodes may charge its
// working memory this way (the review server does), so that every decode
// in the process shares one budget. A nil budget holds nothing; n above
// the size is cut to the size (it then decodes alone); n ≤ 0 holds nothing.
func (b *Budget) Reserve(ctx context.Context, n int64) (release func(), err error) {
	if b == nil || n <= 0 {
		return func() {}, nil
	}
	n = min(n, b.size)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return func() {}, err
	}
	b.mu.Lock()
	b.held += n
	b.peak = max(b.peak, b.held)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.held -= n
			b.mu.Unlock()
			b.sem.Release(n)
		})
	}, nil
}

// acquire is Reserve without a deadline.
func (b *Budget) acquire(n int64) func() {
	release, _ := b.Reserve(context.Background(), n) // cannot fail without a deadline
	return release
}
