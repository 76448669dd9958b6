package grouping

import "github.com/didicm/didicm/pipeline"

// Records calls fn with every record of a job, in the job's order (as
// output.Job.Records does), stopping at fn's first error.
type Records func(fn func(pipeline.Record) error) error

// Result is a job's records grouped: studies, series, and the timelines
// and events of its videos and logs.
type Result struct {
	cfg     Config
	names   *names
	studies *groups
	series  *groups
	streams *streams
}

// Run groups the records that records gives. It reads them once, and a
// second time when any has a study (to find each group's drivers, once its
// class is known); the records must come the same both times.
func Run(cfg Config, records Records) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Result{cfg: cfg, names: newNames(cfg.Classes)}
	r.studies, r.series = newGroups(Study, r), newGroups(Series, r)
	r.streams = newStreams(r)
	if err := records(func(rec pipeline.Record) error { r.add(&rec); return nil }); err != nil {
		return nil, err
	}
	if r.studies.len() == 0 {
		return r, nil
	}
	r.studies.settle()
	r.series.settle()
	err = records(func(rec pipeline.Record) error {
		r.studies.drive(&rec)
		r.series.drive(&rec)
		return nil
	})
	return r, err
}

// add folds one record into its groups and stream.
func (r *Result) add(rec *pipeline.Record) {
	r.names.note(rec)
	if rec.StudyUID != "" {
		r.studies.add(rec)
		if rec.SeriesUID != "" {
			r.series.add(rec)
		}
	}
	r.streams.add(rec)
}

// Studies are the job's studies, in the order their first images came.
func (r *Result) Studies() []Group { return r.studies.results(r.series) }

// Series are the job's series, in the order their first images came.
func (r *Result) Series() []Group { return r.series.results(nil) }

// Timelines are the job's videos and log topics, in the order their first
// frames came.
func (r *Result) Timelines() []Timeline { return r.streams.timelines() }

// Events calls fn with each event, stream by stream (in Timelines'
// order), in time order; each event's keys are built only for the call.
func (r *Result) Events(fn func(Event) error) error {
	return r.streams.events(fn)
}
