package pipeline

import (
	"context"
	"time"

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
	// ImagesPerSec is the done images over the time spent working (see
	// IdleGap); ETA is the pending images at that rate.
	ImagesPerSec float64
	Working      time.Duration
	ETA          time.Duration
	// Orphaned batches are held by a worker that stopped without handing
	// them back: they return to the queue when their lease expires
	// (30-90 s). Counted only when Status reaches Redis.
	Orphaned int
	// Lost batches have no results, no failure entry and no task in Redis
	// (see lost.go): nothing runs them until they are queued again
	// (Redrive). LostImages are their images, part of PendingImages.
	// Counted only when Status reaches Redis through a tracker; a producer
	// still queueing the job shows its batches here for a moment, so act on
	// batches lost in two polls in a row (StillLost).
	Lost       []int
	LostImages int
	// Summarized is true once summary.json exists.
	Summarized bool
}

// Done reports whether every batch has results.
func (p Progress) Done() bool { return p.DoneBatches == p.Batches }

// Stalled reports whether every batch still to run is lost: without a
// redrive the job will not move again.
func (p Progress) Stalled() bool { return len(p.Lost) > 0 && p.LostImages == p.PendingImages }

// Status reads a job's progress from its bucket and, where q reaches
// Redis, from the tracker's failure list and Asynq's archive.
func Status(ctx context.Context, ref jobs.Ref, q Queue) (Progress, error) {
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
	// The summary first: it is written after every batch's results, so a
	// listing taken after it sees them all (the other order can catch the
	// last batch's results missing and the summary present).
	if p.Summarized, err = store.Summarized(ctx); err != nil {
		return p, err
	}
	queue := ""
	if q.Inspector != nil || q.Tracker != nil {
		spec, err := store.ReadSpec(ctx)
		if err != nil {
			return p, err
		}
		queue = spec.Queue
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return p, err
	}
	finished := map[time.Time]int{}
	for i, t := range done {
		if i < len(man.Batches) {
			p.DoneBatches++
			p.DoneImages += man.Batches[i]
			finished[t] += man.Batches[i]
			if t.After(p.LastResult) {
				p.LastResult = t
			}
		}
	}
	all, err := failures(ctx, store, queue, q)
	if err != nil {
		return p, err
	}
	failed := map[int]bool{}
	for _, f := range all {
		if _, ok := done[f.Batch]; !ok && f.Batch < len(man.Batches) {
			p.Failures = append(p.Failures, f)
			p.FailedBatches++
			p.FailedImages += man.Batches[f.Batch]
			failed[f.Batch] = true
		}
	}
	p.PendingImages = p.Images - p.DoneImages - p.FailedImages
	p.ImagesPerSec, p.Working = workingRate(p.Started, finished)
	if p.ImagesPerSec > 0 {
		p.ETA = time.Duration(float64(p.PendingImages) / p.ImagesPerSec * float64(time.Second))
	}
	if q.Inspector != nil {
		if p.Orphaned, err = orphaned(q.Inspector, queue, ref); err != nil {
			return p, err
		}
	}
	if q.Tracker != nil {
		if p.Lost, p.LostImages, err = lostBatches(ctx, store, queue, q.Tracker, man, done, failed); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Retry re-queues every failed batch of the job that has no results (from
// the bucket's failure list, the tracker's and Asynq's archive), removing
// its old task first, and clears its failure entries. It returns the
// batches re-queued.
func Retry(ctx context.Context, ref jobs.Ref, q Queue) ([]int, error) {
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
	fs, err := failures(ctx, store, spec.Queue, q)
	if err != nil {
		return nil, err
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return nil, err
	}
	var requeued []int
	for _, f := range fs {
		if _, ok := done[f.Batch]; !ok {
			if err := redrive(ctx, q, spec, f.Batch); err != nil {
				return requeued, err
			}
			requeued = append(requeued, f.Batch)
		}
		if err := clearFailure(ctx, store, q.Tracker, f.Batch); err != nil {
			return requeued, err
		}
	}
	return requeued, nil
}

// clearFailure takes batch i off both failure lists.
func clearFailure(ctx context.Context, store *jobs.Store, t *Tracker, i int) error {
	if t != nil {
		if err := t.ClearFailure(ctx, store.Ref, i); err != nil {
			return err
		}
	}
	return store.DeleteFailure(ctx, i)
}
