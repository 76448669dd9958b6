package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// Options change what a report holds; the zero value is the report the
// worker writes when a job ends.
type Options struct {
	// Labels, when given, add accuracy, the reliability diagram and ECE
	// (and, on a calibrated job, the prediction sets' coverage).
	Labels Labels
}

// Write renders the job's report and stores it as the job's report.html.
func Write(ctx context.Context, store *jobs.Store, opts Options) error {
	html, err := Render(ctx, store, opts)
	if err != nil {
		return err
	}
	return store.WriteReport(ctx, html)
}

// Render builds the report of a summarised job from its summary.json,
// spec, manifest and results' times. It reads the records themselves only
// when labels are given or the job makes prediction sets; a job without
// summary.json yet is an error wrapping storage.ErrNotFound.
func Render(ctx context.Context, store *jobs.Store, opts Options) ([]byte, error) {
	j, err := gather(ctx, store, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "report.html", j.page()); err != nil {
		return nil, fmt.Errorf("render report: %w", err)
	}
	return buf.Bytes(), nil
}

// maxRateBins bounds the bars of the throughput chart.
const maxRateBins = 120

// job is everything a report shows.
type job struct {
	sum   pipeline.Summary
	spec  jobs.Spec
	width time.Duration // of a throughput bin
	rates []rateBin
	tally *tally // nil when the records were not read
	note  string // why the records were not read, when they were wanted
	// groups is what the group files hold (package grouping), if any;
	// groupsNote says why they could not be read.
	groups     *groupsRead
	groupsNote string
}

func gather(ctx context.Context, store *jobs.Store, opts Options) (*job, error) {
	j := &job{}
	if err := store.ReadSummary(ctx, &j.sum); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("job %s has no summary.json yet (written when every batch has results): %w", store.Ref.ID, err)
		}
		return nil, err
	}
	spec, err := store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	j.spec = spec
	man, err := store.ReadManifest(ctx)
	if err != nil {
		return nil, err
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return nil, err
	}
	// About two batches a bar at least: a small job's minutes would be mostly empty.
	j.width, j.rates = throughput(done, man.Batches, min(maxRateBins, max(1, len(done)/2)))
	if j.groups, err = readGroups(ctx, store); err != nil {
		j.groups, j.groupsNote = nil, "The answers per study and the events could not be read: "+err.Error()
	}
	t := newTally(spec, opts.Labels)
	if t.setSizes == nil && t.labels == nil {
		return j, nil
	}
	err = t.readAll(ctx, store, len(man.Batches))
	switch {
	case errors.Is(err, jobs.ErrParquetResults) && t.labels == nil:
		j.note = "The results are Parquet; the report reads prediction sets from JSON Lines results only."
	case errors.Is(err, jobs.ErrParquetResults):
		return nil, fmt.Errorf("labels need JSON Lines results: %w", err)
	case err != nil:
		return nil, err
	default:
		j.tally = t
	}
	return j, nil
}
