package output

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// Studies writes a job's answers per group (package grouping): per DICOM
// study and series (studies.jsonl, series.jsonl) and, for its videos and
// logs, events of uncertain frames and uncertainty over time
// (events.jsonl, timelines.jsonl). It reads the records twice when the job
// has studies (JSON Lines results only: Parquet ones are an error wrapping
// jobs.ErrParquetResults). A file the job has nothing for is removed.
type Studies struct {
	// Rule makes a group's posterior; empty means the job's (spec
	// groups.rule), else grouping.Mean.
	Rule grouping.Rule
	// Drivers is how many images each group lists; zero means
	// grouping.DefaultDrivers.
	Drivers int
	// Gap is the most time between uncertain frames of one event; zero
	// means the job's (spec groups.gap), else twice its sampling step
	// (video.every), or the stream's mean spacing when it has none.
	Gap time.Duration
}

var _ Writer = Studies{}

// Name is "studies".
func (Studies) Name() string { return "studies" }

// Write groups the job's records and writes the group files.
func (w Studies) Write(ctx context.Context, job *Job) error {
	rule, gap := w.Rule, w.Gap
	if rule == "" {
		rule = grouping.Rule(job.Spec.Groups.Rule)
	}
	if gap == 0 {
		gap = job.Spec.Groups.GapDuration()
	}
	cfg := grouping.Config{Rule: rule, Drivers: w.Drivers, Gap: gap, Review: pipeline.RuleOf(job.Spec),
		Classes: job.Spec.ClassNames, Step: job.Spec.Sampling.Step()}
	res, err := grouping.Run(cfg, func(fn func(pipeline.Record) error) error { return job.Records(ctx, fn) })
	if err != nil {
		return err
	}
	files := []struct {
		f     jobs.GroupFile
		write func(*json.Encoder) error
	}{
		{jobs.StudiesFile, func(e *json.Encoder) error { return encodeAll(e, studySets(res.Studies(), job.Spec)) }},
		{jobs.SeriesFile, func(e *json.Encoder) error { return encodeAll(e, res.Series()) }},
		{jobs.EventsFile, func(e *json.Encoder) error {
			return res.Events(func(ev grouping.Event) error { return e.Encode(ev) })
		}},
		{jobs.TimelinesFile, func(e *json.Encoder) error { return encodeAll(e, res.Timelines()) }},
	}
	for _, f := range files {
		if err := job.Store.WriteGroupFile(ctx, f.f, func(out io.Writer) error {
			e := json.NewEncoder(out)
			e.SetEscapeHTML(false) // keys as they are
			return f.write(e)
		}); err != nil {
			return err
		}
	}
	return nil
}

// studySets gives each classified study its prediction set when the job
// has a study calibration (calibrate --by study), with u from its UID as
// the calibration was fitted; review then follows the set's size.
func studySets(studies []grouping.Group, spec jobs.Spec) []grouping.Group {
	cal := spec.StudyCalibration
	if cal == nil {
		return studies
	}
	for i := range studies {
		g := &studies[i]
		if len(g.Posterior) == 0 {
			continue
		}
		set := []string{}
		for _, k := range cal.Set(g.Posterior, calibrate.U(g.StudyUID)) {
			name := strconv.Itoa(k)
			if k < len(spec.ClassNames) {
				name = spec.ClassNames[k]
			}
			set = append(set, name)
		}
		n := len(set)
		g.PredictionSet, g.SetSize, g.Review = set, &n, n != 1
	}
	return studies
}

// encodeAll writes each value as one JSON line.
func encodeAll[T any](e *json.Encoder, vs []T) error {
	for _, v := range vs {
		if err := e.Encode(v); err != nil {
			return err
		}
	}
	return nil
}
