package pipeline

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/jobs"
)

// Queue is what the producer-side commands reach in Redis. Any field may be
// nil: Status then reads the bucket alone.
type Queue struct {
	Client    *asynq.Client
	Inspector *asynq.Inspector
	Tracker   *Tracker
}

// failures merges the job's failure list from the three places that may
// hold it: the bucket (the durable copy), the tracker in Redis (which holds
// it when the bucket cannot be written) and Asynq's archive (tasks whose
// failure neither could record). One entry per batch, the latest first seen.
func failures(ctx context.Context, store *jobs.Store, queue string, q Queue) ([]jobs.Failure, error) {
	byBatch := map[int]jobs.Failure{}
	add := func(fs []jobs.Failure) {
		for _, f := range fs {
			if old, ok := byBatch[f.Batch]; !ok || f.Time > old.Time {
				byBatch[f.Batch] = f
			}
		}
	}
	fs, err := store.Failures(ctx)
	if err != nil {
		return nil, err
	}
	add(fs)
	if q.Tracker != nil {
		fs, err := q.Tracker.Failures(ctx, store.Ref)
		if err != nil {
			return nil, err
		}
		add(fs)
	}
	if q.Inspector != nil {
		fs, err := archived(q.Inspector, queue, store.Ref)
		if err != nil {
			return nil, err
		}
		add(fs)
	}
	out := make([]jobs.Failure, 0, len(byBatch))
	for _, f := range byBatch {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Batch < out[j].Batch })
	return out, nil
}

// archived lists the job's batches in Asynq's archive of queue.
func archived(insp *asynq.Inspector, queue string, ref jobs.Ref) ([]jobs.Failure, error) {
	var out []jobs.Failure
	for page := 1; ; page++ {
		tasks, err := insp.ListArchivedTasks(queue, asynq.PageSize(500), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, ti := range tasks {
			if !strings.HasPrefix(ti.ID, ref.ID+":") {
				continue
			}
			b, err := jobs.ParseTask(asynq.NewTask(ti.Type, ti.Payload))
			if err != nil || jobs.RefOf(b).Key() != ref.Key() {
				continue
			}
			out = append(out, jobs.Failure{Batch: b.Index, Error: ti.LastErr, Attempts: ti.Retried + 1, Final: true,
				Time: ti.LastFailedAt.UTC().Format("2006-01-02T15:04:05Z07:00"), Worker: "asynq archive"})
		}
		if len(tasks) < 500 {
			return out, nil
		}
	}
}

// orphaned counts the job's active tasks whose worker is gone.
func orphaned(insp *asynq.Inspector, queue string, ref jobs.Ref) (int, error) {
	n := 0
	for page := 1; ; page++ {
		tasks, err := insp.ListActiveTasks(queue, asynq.PageSize(500), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		for _, ti := range tasks {
			if ti.IsOrphaned && strings.HasPrefix(ti.ID, ref.ID+":") {
				n++
			}
		}
		if len(tasks) < 500 {
			return n, nil
		}
	}
}

// redrive queues batch i of the job again: an archived or finished task
// with its ID is removed first (Asynq keeps IDs of archived tasks). An active
// task is left alone: it is being worked on.
func redrive(ctx context.Context, q Queue, spec jobs.Spec, i int) error {
	if q.Inspector != nil {
		err := q.Inspector.DeleteTask(spec.Queue, jobs.TaskID(spec.ID, i))
		if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			return err
		}
	}
	return enqueueBatch(ctx, q.Client, spec, i)
}
