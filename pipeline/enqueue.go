// Package pipeline runs jobs through the queue: Enqueue snapshots an archive
// into a manifest and queues its batches (re-running it resumes), Status
// reports progress from the output bucket, Retry re-drives the failure list,
// and Finish writes the job summary when the last batch is done.
//
// The output bucket is the source of truth: a batch is done when its results
// object exists, so counts survive Redis restarts and Asynq's capped archive.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

// TaskTimeout bounds one batch; the worker honours it between micro-batches.
const TaskTimeout = 30 * time.Minute

// EnqueueReport says what Enqueue did.
type EnqueueReport struct {
	Images, Batches int
	// Queued were sent to Redis now; Done already have results; InQueue were
	// already queued (same task ID).
	Queued, Done, InQueue int
	// Redriven were archived by Asynq after their last attempt (a fault
	// since fixed) and are queued again.
	Redriven int
	// Resumed is true when an existing manifest was reused.
	Resumed bool
}

// Enqueue lists the job's input (or reuses the manifest of an earlier run of
// the same job ID), writes spec and manifest to the output bucket, and queues
// every batch without results. It is Producer{Queue: q}.Enqueue.
func Enqueue(ctx context.Context, spec jobs.Spec, q Queue) (EnqueueReport, error) {
	return Producer{Queue: q}.Enqueue(ctx, spec)
}

// Producer enqueues jobs on a queue, saying how far it is as it goes.
type Producer struct {
	Queue Queue
	// Progress, when set, is told how far the listing and the queueing
	// are, at most once per ProgressEvery and once at the end of each.
	Progress func(EnqueueProgress)
	// ProgressEvery is the time between two reports; zero means a second.
	ProgressEvery time.Duration
	// ListWorkers is how many key ranges of the input are listed at once
	// (storage.Bucket.ListWorkers); zero means storage's default.
	ListWorkers int
}

// Enqueue lists the job's input as it streams in, writing a batch manifest
// per BatchSize keys (or reuses the manifest of an earlier run of the same
// job ID), writes spec and, last, the manifest index, and queues every batch
// without results. Cancelling ctx stops the listing at once; a snapshot
// without its index is never trusted, so the next run lists again.
func (p Producer) Enqueue(ctx context.Context, spec jobs.Spec) (rep EnqueueReport, err error) {
	q := p.Queue
	spec.Defaults()
	if err := spec.Validate(); err != nil {
		return rep, err
	}
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		return rep, err
	}
	defer store.Close()
	man, err := store.ReadManifest(ctx)
	switch {
	case err == nil:
		rep.Resumed = true
	case errors.Is(err, storage.ErrNotFound):
		man, err = snapshot(ctx, spec, store, p.ListWorkers, p.reporter(StageList, 0))
		if err != nil {
			return rep, err
		}
	default:
		return rep, err
	}
	rep.Images, rep.Batches = man.Images, len(man.Batches)
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return rep, err
	}
	queued := p.reporter(StageQueue, len(man.Batches))
	defer queued.finish(&err)
	for i := range man.Batches {
		queued.add(1)
		if _, ok := done[i]; ok {
			rep.Done++
			continue
		}
		err := enqueueBatch(ctx, q.Client, spec, i)
		if errors.Is(err, asynq.ErrTaskIDConflict) && q.Inspector != nil && isArchived(q.Inspector, spec, i) {
			if err = redrive(ctx, q, spec, i); err == nil {
				rep.Redriven++
				if err := clearFailure(ctx, store, q.Tracker, i); err != nil {
					return rep, err
				}
				continue
			}
		}
		switch {
		case errors.Is(err, asynq.ErrTaskIDConflict):
			rep.InQueue++
		case err != nil:
			return rep, fmt.Errorf("enqueue batch %d: %w", i, err)
		default:
			rep.Queued++
		}
	}
	return rep, nil
}

// isArchived says whether batch i's task sits in Asynq's archive.
func isArchived(insp *asynq.Inspector, spec jobs.Spec, i int) bool {
	ti, err := insp.GetTaskInfo(spec.Queue, jobs.TaskID(spec.ID, i))
	return err == nil && ti.State == asynq.TaskStateArchived
}

// enqueueBatch queues batch i of the job under its deterministic task ID.
func enqueueBatch(ctx context.Context, client *asynq.Client, spec jobs.Spec, i int) error {
	task, err := jobs.NewTask(jobs.Batch{JobID: spec.ID, Index: i, OutputURL: spec.OutputURL, OutputPrefix: spec.OutputPrefix})
	if err != nil {
		return err
	}
	_, err = client.EnqueueContext(ctx, task, asynq.TaskID(jobs.TaskID(spec.ID, i)), asynq.Queue(spec.Queue),
		asynq.MaxRetry(spec.MaxRetry), asynq.Timeout(TaskTimeout))
	return err
}
