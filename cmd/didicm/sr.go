package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/output"
)

// srWriters gives a worker the DICOM structured report writer of each job
// that asks for reports in its spec (enqueue --sr), for its model.
func srWriters(m *ort.Model, path string, log *slog.Logger) func(jobs.Spec) ([]output.Writer, error) {
	sha, _, _ := m.Identity()
	model := dicomsr.ModelOf(m.Metadata(), path, sha)
	return func(spec jobs.Spec) ([]output.Writer, error) {
		if spec.SR == nil {
			return nil, nil
		}
		w, err := dicomsr.New(dicomsr.Config{Model: model, Per: spec.SR.Per, Send: spec.SR.Send, Log: log})
		if err != nil {
			return nil, err
		}
		return []output.Writer{w}, nil
	}
}

// srExporter makes the report writer of `export --to sr`: for the
// configured model, which must be the job's (checked when it runs), per
// study unless sr.per says series, sent where sr.send says.
func (a *app) srExporter() func(exportOptions, *output.Dest) (output.Writer, error) {
	return func(exportOptions, *output.Dest) (output.Writer, error) {
		path, sha, meta, err := a.inspectModel(a.cfg)
		if err != nil {
			return nil, err
		}
		per := a.cfg.SR.Per
		if per == "" {
			per = "study"
		}
		w, err := dicomsr.New(dicomsr.Config{Model: dicomsr.ModelOf(meta, path, sha), Per: per, Send: a.cfg.SR.Send, Log: a.log})
		if err != nil {
			return nil, err
		}
		return &jobModel{Writer: w, sha: sha}, nil
	}
}

// jobModel refuses a job of another model before its writer runs.
type jobModel struct {
	output.Writer
	sha string
}

func (j *jobModel) Write(ctx context.Context, job *output.Job) error {
	if job.Spec.ModelSHA256 != "" && job.Spec.ModelSHA256 != j.sha {
		return usageError{fmt.Errorf("job %s was classified with model %s, --model is %s", job.Spec.ID,
			job.Spec.ModelSHA256, j.sha)}
	}
	return j.Writer.Write(ctx, job)
}
