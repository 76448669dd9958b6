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
	"encoding/json"
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
	// Resumed is true when an existing manifest was reused.
	Resumed bool
}

// Enqueue lists the job's input (or reuses the manifest of an earlier run of
// the same job ID), writes spec and manifest to the output bucket, and queues
// every batch without results.
func Enqueue(ctx context.Context, spec jobs.Spec, client *asynq.Client) (EnqueueReport, error) {
	var rep EnqueueReport
	spec.Defaults()
	if err := spec.Validate(); err != nil {
		return rep, err
	}
	out, err := storage.Open(ctx, spec.OutputURL)
	if err != nil {
		return rep, err
	}
	defer out.Close()
	lay, err := jobs.NewLayout(spec.OutputPrefix, spec.ID)
	if err != nil {
		return rep, err
	}
	man, err := readManifest(ctx, out, lay)
	switch {
	case err == nil:
		rep.Resumed = true
	case errors.Is(err, storage.ErrNotFound):
		man, err = snapshot(ctx, spec, out, lay)
		if err != nil {
			return rep, err
		}
	default:
		return rep, err
	}
	rep.Images, rep.Batches = man.Images, len(man.Batches)
	done, err := doneBatches(ctx, out, lay)
	if err != nil {
		return rep, err
	}
	for i := range man.Batches {
		if done[i] {
			rep.Done++
			continue
		}
		task, err := jobs.NewTask(jobs.Batch{JobID: spec.ID, Index: i, OutputURL: spec.OutputURL, OutputPrefix: spec.OutputPrefix})
		if err != nil {
			return rep, err
		}
		_, err = client.EnqueueContext(ctx, task, asynq.TaskID(jobs.TaskID(spec.ID, i)), asynq.Queue(spec.Queue),
			asynq.MaxRetry(spec.MaxRetry), asynq.Timeout(TaskTimeout))
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

// snapshot lists the input and writes spec, batch manifests and, last, the
// manifest index (its presence means the snapshot is complete).
func snapshot(ctx context.Context, spec jobs.Spec, out *storage.Bucket, lay jobs.Layout) (jobs.Manifest, error) {
	in, err := storage.Open(ctx, spec.InputURL)
	if err != nil {
		return jobs.Manifest{}, err
	}
	defer in.Close()
	prefix := spec.InputPrefix
	if prefix != "" && prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	objs, err := in.List(ctx, prefix, storage.Filter{Include: spec.Include, Exclude: spec.Exclude})
	if err != nil {
		return jobs.Manifest{}, err
	}
	if len(objs) == 0 {
		return jobs.Manifest{}, fmt.Errorf("job %s: no objects under %s%s match", spec.ID, spec.InputURL, prefix)
	}
	if err := writeJSON(ctx, out, lay.Spec(), spec); err != nil {
		return jobs.Manifest{}, err
	}
	man := jobs.Manifest{JobID: spec.ID, Images: len(objs), Created: time.Now().UTC().Format(time.RFC3339)}
	for lo, i := 0, 0; lo < len(objs); lo, i = lo+spec.BatchSize, i+1 {
		batch := objs[lo:min(lo+spec.BatchSize, len(objs))]
		keys := make([]string, len(batch))
		for j, o := range batch {
			keys[j] = o.Key
		}
		if err := writeJSON(ctx, out, lay.ManifestBatch(i), keys); err != nil {
			return jobs.Manifest{}, err
		}
		man.Batches = append(man.Batches, len(keys))
	}
	return man, writeJSON(ctx, out, lay.Manifest(), man)
}

func readManifest(ctx context.Context, out *storage.Bucket, lay jobs.Layout) (jobs.Manifest, error) {
	var m jobs.Manifest
	return m, readJSON(ctx, out, lay.Manifest(), &m)
}

// doneBatches lists the results folder.
func doneBatches(ctx context.Context, out *storage.Bucket, lay jobs.Layout) (map[int]bool, error) {
	objs, err := out.List(ctx, lay.ResultsDir(), storage.Filter{})
	if err != nil {
		return nil, err
	}
	done := make(map[int]bool, len(objs))
	for _, o := range objs {
		if i, ok := jobs.BatchIndex(o.Key); ok {
			done[i] = true
		}
	}
	return done, nil
}

func writeJSON(ctx context.Context, b *storage.Bucket, key string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return b.Write(ctx, key, data, "application/json")
}

func readJSON(ctx context.Context, b *storage.Bucket, key string, v any) error {
	data, err := b.Read(ctx, key, 0)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", key, err)
	}
	return nil
}
