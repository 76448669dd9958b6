package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/jobs"
)

// Progress is a job's state as the output bucket shows it.
type Progress struct {
	JobID                       string
	Images, Batches             int
	DoneImages, DoneBatches     int
	FailedImages, FailedBatches int // in the failure list, no results yet
	PendingImages               int
	Failures                    []jobs.Failure
	Started, LastResult         time.Time
	// ImagesPerSec is the done images over the time since the manifest was written.
	ImagesPerSec float64
	ETA          time.Duration
	// Summarized is true once summary.json exists.
	Summarized bool
}

// Done reports whether every batch has results.
func (p Progress) Done() bool { return p.DoneBatches == p.Batches }

// Status reads a job's progress.
func Status(ctx context.Context, ref jobs.Ref) (Progress, error) {
	p := Progress{JobID: ref.ID}
	store, err := jobs.OpenStore(ctx, ref)
	if err != nil {
		return p, err
	}
	defer store.Close()
	man, err := store.ReadManifest(ctx)
	if err != nil {
		return p, err
	}
	p.Images, p.Batches = man.Images, len(man.Batches)
	p.Started, _ = time.Parse(time.RFC3339, man.Created)
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return p, err
	}
	for i, t := range done {
		if i < len(man.Batches) {
			p.DoneBatches++
			p.DoneImages += man.Batches[i]
			if t.After(p.LastResult) {
				p.LastResult = t
			}
		}
	}
	p.Failures, err = store.Failures(ctx)
	if err != nil {
		return p, err
	}
	for _, f := range p.Failures {
		if _, ok := done[f.Batch]; !ok && f.Batch < len(man.Batches) {
			p.FailedBatches++
			p.FailedImages += man.Batches[f.Batch]
		}
	}
	p.PendingImages = p.Images - p.DoneImages - p.FailedImages
	if el := p.LastResult.Sub(p.Started).Seconds(); p.DoneImages > 0 && el > 0 {
		p.ImagesPerSec = float64(p.DoneImages) / el
		p.ETA = time.Duration(float64(p.PendingImages) / p.ImagesPerSec * float64(time.Second))
	}
	p.Summarized, err = store.Summarized(ctx)
	return p, err
}

// Retry re-queues every batch in the job's failure list that has no results,
// removing its old task from Asynq first (an archived task keeps its ID), and
// clears its failure entry. It returns the batches re-queued.
func Retry(ctx context.Context, ref jobs.Ref, client *asynq.Client, insp *asynq.Inspector) ([]int, error) {
	store, err := jobs.OpenStore(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	spec, err := store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	spec.OutputURL, spec.OutputPrefix = ref.OutputURL, ref.Prefix // as the operator reaches the bucket
	fs, err := store.Failures(ctx)
	if err != nil {
		return nil, err
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return nil, err
	}
	var requeued []int
	for _, f := range fs {
		if _, ok := done[f.Batch]; ok {
			if err := store.DeleteFailure(ctx, f.Batch); err != nil {
				return requeued, err
			}
			continue
		}
		tid := jobs.TaskID(spec.ID, f.Batch)
		if err := insp.DeleteTask(spec.Queue, tid); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			return requeued, err // an active task cannot be deleted: it is being worked on
		}
		if err := enqueueBatch(ctx, client, spec, f.Batch); err != nil {
			return requeued, err
		}
		if err := store.DeleteFailure(ctx, f.Batch); err != nil {
			return requeued, err
		}
		requeued = append(requeued, f.Batch)
	}
	return requeued, nil
}
