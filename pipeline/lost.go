package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/jobs"
)

// A batch is lost when it has no results, no entry in the failure list and
// no task in Redis in any state (pending, active, scheduled, retry,
// archived). Redis lost it: a failover to a replica that had not synced, a
// restore of an older backup, FLUSHALL, an evicting Redis, or a producer
// that stopped between writing the manifest and queueing. Nothing runs a
// lost batch until it is queued again (Redrive); the manifest in the bucket
// still names its images, and its task ID is the same as before, so queueing
// it again is safe whatever else happens to it.

// taskKey is the hash Asynq keeps for a task in every state,
// asynq/internal/base.TaskKey: "asynq:{QUEUE}:t:ID". Reading it directly is
// one pipelined EXISTS per batch, where the Inspector would make a round
// trip per batch; TestStatusFindsTheBatchesRedisLost fails if Asynq renames
// it (every queued batch would read as lost).
func taskKey(queue, id string) string { return "asynq:{" + queue + "}:t:" + id }

// existsChunk bounds one pipeline of EXISTS.
const existsChunk = 1000

// lostBatches returns the batches of the job that have neither results
// (done) nor a failure entry (failed) nor a task in queue, and their images.
func lostBatches(ctx context.Context, store *jobs.Store, queue string, t *Tracker, man jobs.Manifest,
	done map[int]time.Time, failed map[int]bool) ([]int, int, error) {
	var candidates []int
	for i := range man.Batches {
		if _, ok := done[i]; !ok && !failed[i] {
			candidates = append(candidates, i)
		}
	}
	absent, err := absentTasks(ctx, t.rdb, queue, store.Ref.ID, candidates)
	if err != nil || len(absent) == 0 {
		return nil, 0, err
	}
	// A batch that finished after the listing has no task any more; its
	// results were written before its task was acknowledged, so a second
	// listing, taken after the tasks were looked up, has them.
	now, err := store.DoneBatches(ctx)
	if err != nil {
		return nil, 0, err
	}
	var lost []int
	images := 0
	for _, i := range absent {
		if _, ok := now[i]; !ok {
			lost = append(lost, i)
			images += man.Batches[i]
		}
	}
	return lost, images, nil
}

// absentTasks returns the batches whose task is not in queue.
func absentTasks(ctx context.Context, rdb redis.UniversalClient, queue, jobID string, batches []int) ([]int, error) {
	var absent []int
	for from := 0; from < len(batches); from += existsChunk {
		chunk := batches[from:min(len(batches), from+existsChunk)]
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(chunk))
		for k, i := range chunk {
			cmds[k] = pipe.Exists(ctx, taskKey(queue, jobs.TaskID(jobID, i)))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("look up tasks: %w", err)
		}
		for k, c := range cmds {
			if c.Val() == 0 {
				absent = append(absent, chunk[k])
			}
		}
	}
	return absent, nil
}

// StillLost is the batches lost in both of two observations in a row: a
// batch in one observation only may have been between two states (a
// producer still queueing the job, a retry re-queueing it).
func StillLost(before, now []int) []int {
	seen := make(map[int]bool, len(before))
	for _, i := range before {
		seen[i] = true
	}
	var both []int
	for _, i := range now {
		if seen[i] {
			both = append(both, i)
		}
	}
	return both
}

// Redrive queues the job's given batches again under their usual task IDs,
// on the job's queue, and returns those it queued. A batch whose task is
// back already (queued by another redrive or a producer) is left alone; a
// batch that finished meanwhile is acknowledged by the worker after one
// metadata read, without scoring. Callers pass batches lost in two
// observations (StillLost).
func Redrive(ctx context.Context, ref jobs.Ref, q Queue, batches []int) ([]int, error) {
	if q.Client == nil {
		return nil, errors.New("redrive needs Redis")
	}
	store, err := jobs.OpenStore(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	spec, err := store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	spec.OutputURL, spec.OutputPrefix = ref.OutputURL, ref.Prefix // the job as the caller reaches it, as Retry does
	var queued []int
	for _, i := range batches {
		err := enqueueBatch(ctx, q.Client, spec, i)
		switch {
		case errors.Is(err, asynq.ErrTaskIDConflict):
		case err != nil:
			return queued, fmt.Errorf("redrive batch %d: %w", i, err)
		default:
			queued = append(queued, i)
		}
	}
	return queued, nil
}
