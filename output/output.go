// Package output writes what a finished job's records become beside the
// records themselves: files for people and for other tools (DICOM
// structured reports sent back to a PACS, per-study answers, exports for
// labelling tools and notebooks). Each kind is one Writer in its own file
// or package; `didicm export --to NAME` runs one on a finished job, and the
// worker may run some when a job finishes. Writers read the job through
// Job, never the bucket's layout, and write through the job's store or, for
// exports, to a destination folder (Dest).
package output

import (
	"context"
	"fmt"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// Writer turns a finished job into one kind of output.
type Writer interface {
	// Name is how `didicm export --to` names it: short, lower-case.
	Name() string
	// Write reads the job and writes its output; it may be run again on
	// the same job, and then replaces what it wrote before.
	Write(ctx context.Context, job *Job) error
}

// Job is a finished job as writers read it.
type Job struct {
	Store    *jobs.Store
	Spec     jobs.Spec
	Manifest jobs.Manifest
	Summary  pipeline.Summary
}

// Open reads a finished job's spec, manifest and summary; a job without a
// summary is not finished and is refused.
func Open(ctx context.Context, store *jobs.Store) (*Job, error) {
	j := &Job{Store: store}
	var err error
	if j.Spec, err = store.ReadSpec(ctx); err != nil {
		return nil, err
	}
	if j.Manifest, err = store.ReadManifest(ctx); err != nil {
		return nil, err
	}
	if err := store.ReadSummary(ctx, &j.Summary); err != nil {
		return nil, fmt.Errorf("job %s is not finished (no summary.json): %w", j.Spec.ID, err)
	}
	return j, nil
}

// Records calls fn with every record of the job, batch by batch, holding
// one batch at a time (pipeline.EachRecord).
func (j *Job) Records(ctx context.Context, fn func(pipeline.Record) error) error {
	return pipeline.EachRecord(ctx, j.Store, len(j.Manifest.Batches), fn)
}
