package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/jobs"
)

// Tracker keeps in Redis, per job, what must not depend on the output bucket:
//
//   - the set of finished batches, so that a worker lists the bucket (Finish)
//     at the end of a job instead of after every batch. Listing after every
//     batch makes a job quadratic: a million images in 3,907 batches list 7.6
//     million entries over the night. A set counts a batch delivered twice
//     once. A lost set (a new job, or Redis restarted empty) is seeded from
//     the bucket by the first batch that finds it empty; the bucket stays
//     the authority, and Finish checks it before writing the summary.
//   - the failure list, a hash of batch → jobs.Failure. The bucket keeps a
//     copy as the durable record, but a job whose output bucket cannot be
//     written (credentials, a full disk) can only record its failures here;
//     Asynq's own archive is capped and drops old tasks.
//
// Both expire a month after the job's last change.
type Tracker struct{ rdb redis.UniversalClient }

// trackerTTL keeps a job's keys for a month after its last batch.
const trackerTTL = 30 * 24 * time.Hour

// NewTracker connects to the queue's Redis.
func NewTracker(opt asynq.RedisConnOpt) (*Tracker, error) {
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("tracker: unexpected Redis client %T", opt.MakeRedisClient())
	}
	return &Tracker{rdb: rdb}, nil
}

// Close closes the Redis connection.
func (t *Tracker) Close() error { return t.rdb.Close() }

func trackerKey(kind string, ref jobs.Ref) string {
	sum := sha256.Sum256([]byte(ref.Key()))
	return "didicm:" + kind + ":" + hex.EncodeToString(sum[:16])
}

// Done records batch as finished for the job in store (whose results are
// already written) and reports whether all total batches may be done.
func (t *Tracker) Done(ctx context.Context, store *jobs.Store, batch, total int) (bool, error) {
	key := trackerKey("done", store.Ref)
	pipe := t.rdb.TxPipeline()
	pipe.SAdd(ctx, key, batch)
	card := pipe.SCard(ctx, key)
	pipe.Expire(ctx, key, trackerTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("tracker: %w", err)
	}
	n := card.Val()
	if n == 1 && total > 1 { // new or lost: add the batches already in the bucket
		done, err := store.DoneBatches(ctx)
		if err != nil {
			return false, err
		}
		members := make([]any, 0, len(done))
		for i := range done {
			members = append(members, i)
		}
		if len(members) > 0 {
			pipe := t.rdb.TxPipeline()
			pipe.SAdd(ctx, key, members...)
			card = pipe.SCard(ctx, key)
			if _, err := pipe.Exec(ctx); err != nil {
				return false, fmt.Errorf("tracker: %w", err)
			}
			n = card.Val()
		}
	}
	return n >= int64(total), nil
}

// Finished is how many distinct batches of the job were recorded done.
func (t *Tracker) Finished(ctx context.Context, ref jobs.Ref) (int, error) {
	n, err := t.rdb.SCard(ctx, trackerKey("done", ref)).Result()
	return int(n), err
}

// RecordFailure adds f to the job's failure list.
func (t *Tracker) RecordFailure(ctx context.Context, ref jobs.Ref, f jobs.Failure) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	key := trackerKey("failures", ref)
	pipe := t.rdb.TxPipeline()
	pipe.HSet(ctx, key, strconv.Itoa(f.Batch), data)
	pipe.Expire(ctx, key, trackerTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("tracker: record failure: %w", err)
	}
	return nil
}

// ClearFailure takes a batch off the failure list.
func (t *Tracker) ClearFailure(ctx context.Context, ref jobs.Ref, batch int) error {
	if err := t.rdb.HDel(ctx, trackerKey("failures", ref), strconv.Itoa(batch)).Err(); err != nil {
		return fmt.Errorf("tracker: clear failure: %w", err)
	}
	return nil
}

// Failures is the job's failure list, by batch.
func (t *Tracker) Failures(ctx context.Context, ref jobs.Ref) ([]jobs.Failure, error) {
	m, err := t.rdb.HGetAll(ctx, trackerKey("failures", ref)).Result()
	if err != nil {
		return nil, fmt.Errorf("tracker: failures: %w", err)
	}
	fs := make([]jobs.Failure, 0, len(m))
	for _, v := range m {
		var f jobs.Failure
		if err := json.Unmarshal([]byte(v), &f); err != nil {
			return nil, fmt.Errorf("tracker: failure entry: %w", err)
		}
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].Batch < fs[j].Batch })
	return fs, nil
}
