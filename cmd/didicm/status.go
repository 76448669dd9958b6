package main

import (
	"context"
	"fmt"
	"io"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// lostFollower acts on lost batches (no results, no task in Redis) while
// `status --wait` follows a job: with redrive it queues again those lost in
// two polls in a row; without, it stops the wait once nothing but lost
// batches is left, which would otherwise wait forever.
type lostFollower struct {
	ref     jobs.Ref
	q       pipeline.Queue
	redrive bool
	w       io.Writer
	before  []int // lost at the previous poll
}

func (f *lostFollower) observe(ctx context.Context, p pipeline.Progress) error {
	still := pipeline.StillLost(f.before, p.Lost)
	f.before = p.Lost
	if len(still) == 0 {
		return nil
	}
	if !f.redrive {
		if p.Stalled() && len(still) == len(p.Lost) {
			return fmt.Errorf("job %s stalled: %s (%s) have no results and no task in Redis, which lost them; "+
				"queue them again with `didicm status --wait --redrive` or by running `didicm enqueue` for the job again",
				p.JobID, plural(len(p.Lost), "batch"), plural(p.LostImages, "image"))
		}
		return nil
	}
	queued, err := pipeline.Redrive(ctx, f.ref, f.q, still)
	if len(queued) > 0 {
		fmt.Fprintf(f.w, "\nre-queued %s that Redis lost: %v\n", plural(len(queued), "batch"), queued)
	}
	f.before = nil
	return err
}

// printLost says loudly that batches will not run until queued again.
func printLost(w io.Writer, p pipeline.Progress) {
	if len(p.Lost) == 0 {
		return
	}
	fmt.Fprintf(w, "  LOST    %s (%s): no results and no task in Redis (Redis lost data: a failover to a replica that had "+
		"not synced, a restore, FLUSHALL); nothing will run them until they are queued again: "+
		"`didicm status --wait --redrive`, or `didicm enqueue` for the job again\n",
		plural(len(p.Lost), "batch"), plural(p.LostImages, "image"))
}
