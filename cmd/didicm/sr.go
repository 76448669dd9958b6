package main

import (
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
