package workers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/didicm/didicm/pipeline"
)

// lostWatch looks, while a job's queue has nothing pending, at each
// unfinished job this worker served (pipeline.Status), for two things that
// would otherwise leave the night stalled with every worker idle:
//
//   - lost batches: no results, no failure entry, no task in Redis. Redis
//     loses them in a failover to a replica that had not synced, a restore
//     or a FLUSHALL, and nothing would run them again. Batches lost in two
//     checks in a row are logged as a warning and counted in
//     didicm_lost_batches; with redrive on, they are queued again
//     (pipeline.Redrive, safe from any number of workers).
//   - a missing summary: every batch has results, but the tracker's count
//     of finished batches is short (a batch ended while Redis was
//     unreachable or failing over), so no worker wrote summary.json. Seen in
//     two checks in a row, the watch writes it (pipeline.Finish checks the
//     bucket; writing twice gives the same bytes).
type lostWatch struct {
	proc    *Processor
	q       pipeline.Queue
	every   time.Duration
	redrive bool
	log     *slog.Logger
	lost    map[string][]int // by job key: lost at the last check
	unsumm  map[string]bool  // by job key: every batch done, no summary, at the last check
	settled map[string]int64 // by job key: batches started when the job had nothing left to run
	failing bool             // the last check failed (logged once until one succeeds)
	stop    chan struct{}
	done    chan struct{}
}

func newLostWatch(proc *Processor, q pipeline.Queue, every time.Duration, redrive bool, log *slog.Logger) *lostWatch {
	return &lostWatch{proc: proc, q: q, every: every, redrive: redrive, log: log, lost: map[string][]int{},
		unsumm: map[string]bool{}, settled: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *lostWatch) Start(ctx context.Context) {
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.stop:
				return
			case <-t.C:
			}
			err := w.runOnce(ctx)
			if err != nil && !w.failing && ctx.Err() == nil {
				w.log.Warn("lost-batch check failed (again at every check until it works)", "err", err)
			}
			w.failing = err != nil
		}
	}()
}

func (w *lostWatch) Stop() {
	close(w.stop)
	<-w.done
}

// runOnce checks every job this worker served whose queue has nothing pending.
func (w *lostWatch) runOnce(ctx context.Context) error {
	if w.q.Tracker == nil {
		return nil // without Redis's tracker connection, Status counts no lost batches
	}
	var errs []error
	for _, j := range w.proc.served() {
		key := j.ref.Key()
		if w.settled[key] == j.started {
			continue
		}
		if pending, err := w.pending(j.queue); err != nil || pending {
			delete(w.lost, key) // two quiet checks in a row, or none
			delete(w.unsumm, key)
			errs = append(errs, err)
			continue
		}
		errs = append(errs, w.check(ctx, j))
	}
	return errors.Join(errs...)
}

// pending says whether queue has tasks waiting for a worker.
func (w *lostWatch) pending(queue string) (bool, error) {
	queues, err := w.q.Inspector.Queues()
	if err != nil || !slices.Contains(queues, queue) {
		return false, err // Redis lost the queue itself (GetQueueInfo's error then is not ErrQueueNotFound)
	}
	info, err := w.q.Inspector.GetQueueInfo(queue)
	if err != nil {
		return false, err
	}
	return info.Pending > 0, nil
}

// check looks at one job whose queue has nothing pending.
func (w *lostWatch) check(ctx context.Context, j servedJob) error {
	key := j.ref.Key()
	p, err := pipeline.Status(ctx, j.ref, w.q)
	if err != nil {
		return err
	}
	w.proc.Metrics.LostBatches.WithLabelValues(j.ref.ID).Set(float64(len(p.Lost)))
	switch {
	case p.Summarized || p.PendingImages == 0 && p.FailedBatches > 0: // nothing left that could stall
		w.settled[key] = j.started
		delete(w.lost, key)
		delete(w.unsumm, key)
		return nil
	case p.PendingImages == 0:
		if w.unsumm[key] {
			w.log.Warn("every batch has results but no summary was written (a batch ended while Redis was unreachable); writing it",
				"job", j.ref.ID)
			w.proc.finish(ctx, j.job)
		}
		w.unsumm[key] = true
		return nil
	}
	still := pipeline.StillLost(w.lost[key], p.Lost)
	w.lost[key] = p.Lost
	if len(still) == 0 {
		return nil
	}
	return w.reportLost(ctx, j, p, still)
}

// reportLost warns of batches lost in two checks and, with redrive on,
// queues them again.
func (w *lostWatch) reportLost(ctx context.Context, j servedJob, p pipeline.Progress, still []int) error {
	action := "re-queue them: didicm status --wait --redrive, or didicm enqueue for the job again"
	if w.redrive {
		action = "re-queueing them (worker.redrive_lost)"
	}
	w.log.Warn("a job this worker served is unfinished and nothing is queued: batches lost from Redis (no results, no task)",
		"job", j.ref.ID, "queue", j.queue, "lost_batches", len(still), "lost_images", p.LostImages,
		"pending_images", p.PendingImages, "action", action)
	if !w.redrive {
		return nil
	}
	queued, err := pipeline.Redrive(ctx, j.ref, w.q, still)
	w.proc.Metrics.Redriven.Add(float64(len(queued)))
	if len(queued) > 0 {
		w.log.Info("re-queued lost batches", "job", j.ref.ID, "queue", j.queue, "batches", queued)
	}
	delete(w.lost, j.ref.Key())
	return err
}
