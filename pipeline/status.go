package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
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
func Status(ctx context.Context, outURL, prefix, id string) (Progress, error) {
	p := Progress{JobID: id}
	out, lay, err := openJob(ctx, outURL, prefix, id)
	if err != nil {
		return p, err
	}
	defer out.Close()
	man, err := readManifest(ctx, out, lay)
	if err != nil {
		return p, err
	}
	p.Images, p.Batches = man.Images, len(man.Batches)
	p.Started, _ = time.Parse(time.RFC3339, man.Created)
	results, err := out.List(ctx, lay.ResultsDir(), storage.Filter{})
	if err != nil {
		return p, err
	}
	done := map[int]bool{}
	for _, o := range results {
		if i, ok := jobs.BatchIndex(o.Key); ok && i < len(man.Batches) {
			done[i] = true
			p.DoneBatches++
			p.DoneImages += man.Batches[i]
			if o.ModTime.After(p.LastResult) {
				p.LastResult = o.ModTime
			}
		}
	}
	p.Failures, err = failures(ctx, out, lay)
	if err != nil {
		return p, err
	}
	for _, f := range p.Failures {
		if !done[f.Batch] && f.Batch < len(man.Batches) {
			p.FailedBatches++
			p.FailedImages += man.Batches[f.Batch]
		}
	}
	p.PendingImages = p.Images - p.DoneImages - p.FailedImages
	if el := p.LastResult.Sub(p.Started).Seconds(); p.DoneImages > 0 && el > 0 {
		p.ImagesPerSec = float64(p.DoneImages) / el
		p.ETA = time.Duration(float64(p.PendingImages) / p.ImagesPerSec * float64(time.Second))
	}
	p.Summarized, err = out.Exists(ctx, lay.Summary())
	return p, err
}

func failures(ctx context.Context, out *storage.Bucket, lay jobs.Layout) ([]jobs.Failure, error) {
	objs, err := out.List(ctx, lay.FailuresDir(), storage.Filter{})
	if err != nil {
		return nil, err
	}
	var fs []jobs.Failure
	for _, o := range objs {
		var f jobs.Failure
		if err := readJSON(ctx, out, o.Key, &f); err != nil {
			if errors.Is(err, storage.ErrNotFound) { // removed since the listing
				continue
			}
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Retry re-queues every batch in the job's failure list that has no results,
// removing its old task from Asynq first (an archived task keeps its ID), and
// clears its failure entry. It returns the batches re-queued.
func Retry(ctx context.Context, outURL, prefix, id string, client *asynq.Client, insp *asynq.Inspector) ([]int, error) {
	out, lay, err := openJob(ctx, outURL, prefix, id)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	var spec jobs.Spec
	if err := readJSON(ctx, out, lay.Spec(), &spec); err != nil {
		return nil, err
	}
	fs, err := failures(ctx, out, lay)
	if err != nil {
		return nil, err
	}
	done, err := doneBatches(ctx, out, lay)
	if err != nil {
		return nil, err
	}
	var requeued []int
	for _, f := range fs {
		if done[f.Batch] {
			if err := out.Delete(ctx, lay.Failure(f.Batch)); err != nil {
				return requeued, err
			}
			continue
		}
		tid := jobs.TaskID(id, f.Batch)
		if err := insp.DeleteTask(spec.Queue, tid); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			return requeued, err // an active task cannot be deleted: it is being worked on
		}
		task, err := jobs.NewTask(jobs.Batch{JobID: id, Index: f.Batch, OutputURL: outURL, OutputPrefix: prefix})
		if err != nil {
			return requeued, err
		}
		if _, err := client.EnqueueContext(ctx, task, asynq.TaskID(tid), asynq.Queue(spec.Queue),
			asynq.MaxRetry(spec.MaxRetry), asynq.Timeout(TaskTimeout)); err != nil {
			return requeued, err
		}
		if err := out.Delete(ctx, lay.Failure(f.Batch)); err != nil {
			return requeued, err
		}
		requeued = append(requeued, f.Batch)
	}
	return requeued, nil
}

// openJob opens a job's output bucket and its layout; the caller closes the bucket.
func openJob(ctx context.Context, outURL, prefix, id string) (*storage.Bucket, jobs.Layout, error) {
	lay, err := jobs.NewLayout(prefix, id)
	if err != nil {
		return nil, lay, err
	}
	out, err := storage.Open(ctx, outURL)
	return out, lay, err
}
