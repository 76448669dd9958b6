package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/jobs"
)

// BatchCounter tells a worker, in one Redis round trip, whether a job may
// be complete, so that the output bucket is listed (Finish) at the end of a
// job instead of after every batch. Listing after every batch makes a job
// quadratic: a million images in 3,907 batches list 7.6 million entries over
// the night, and gocloud's fileblob opens an attribute file for each.
//
// The count is of finished batches, with duplicates (a batch re-run after a
// crash counts twice), so it may run ahead of the truth but never behind:
// the bucket stays the authority, and Finish checks it before writing the
// summary. A lost count (a new job, or Redis restarted empty) is seeded from
// the bucket by the first batch that finds it missing.
type BatchCounter struct{ rdb redis.UniversalClient }

// counterTTL keeps a job's count for a month after its last batch.
const counterTTL = 30 * 24 * time.Hour

// NewBatchCounter connects to the queue's Redis.
func NewBatchCounter(opt asynq.RedisConnOpt) (*BatchCounter, error) {
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("batch counter: unexpected Redis client %T", opt.MakeRedisClient())
	}
	return &BatchCounter{rdb: rdb}, nil
}

// Close closes the Redis connection.
func (c *BatchCounter) Close() error { return c.rdb.Close() }

// Done counts one finished batch of the job in store (whose results are
// already written) and reports whether all total batches may be done.
func (c *BatchCounter) Done(ctx context.Context, store *jobs.Store, total int) (bool, error) {
	sum := sha256.Sum256([]byte(store.Ref.Key()))
	key := "didicm:done:" + hex.EncodeToString(sum[:16])
	pipe := c.rdb.TxPipeline()
	incr := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, counterTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("batch counter: %w", err)
	}
	n := incr.Val()
	if n == 1 { // new or lost: add the batches already in the bucket, ours excepted
		done, err := store.DoneBatches(ctx)
		if err != nil {
			return false, err
		}
		if len(done) > 1 {
			if n, err = c.rdb.IncrBy(ctx, key, int64(len(done)-1)).Result(); err != nil {
				return false, fmt.Errorf("batch counter: %w", err)
			}
		}
	}
	return n >= int64(total), nil
}
