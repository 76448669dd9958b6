package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/report"
)

func (a *app) reportCmd() *cobra.Command {
	var labelsFile string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write a finished job's report.html (counts, charts; accuracy and calibration with --labels)",
		Long: `Write report.html into the job's folder of the output bucket: a self-contained page
(no scripts, no network) with the job's counts, throughput, classes, uncertainty,
prediction-set sizes, errors and sampler decision. The worker writes it when a job
ends; run this to write it again, or with --labels to add accuracy, a reliability
diagram and ECE (15 bins). A labels file is CSV rows of key,class-name (a header
"key,class_index" makes them indices) or a JSON object from key to class name or
index; keys are the records' keys or relative to the job's input prefix.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			j := a.cfg.Job
			if j.ID == "" || j.OutputURL == "" {
				return usageError{errors.New("report needs --job and --output")}
			}
			var opts report.Options
			if labelsFile != "" {
				ls, err := readLabels(labelsFile)
				if err != nil {
					return usageError{err}
				}
				opts.Labels = ls
			}
			store, err := jobs.OpenStore(cmd.Context(), j.ref())
			if err != nil {
				return err
			}
			defer store.Close()
			if err := report.Write(cmd.Context(), store, opts); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "job %s: wrote %s\n", j.ID, store.Layout().Report())
			return nil
		},
	}
	addJobFlags(cmd.Flags())
	cmd.Flags().StringVar(&labelsFile, "labels", "", "true classes: a CSV (key,label) or JSON ({key: label}) file")
	return cmd
}

func readLabels(path string) (report.Labels, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	ls, err := report.ReadLabels(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ls, nil
}
