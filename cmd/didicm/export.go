package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
)

// exportOptions are export's flags.
type exportOptions struct {
	to, dest, imageURL, intensity string
	expiry                        time.Duration
	limits                        imaging.Limits
}

// exporters make each writer `didicm export --to` runs, by name.
var exporters = map[string]func(o exportOptions, dest *output.Dest) (output.Writer, error){
	"folder": func(o exportOptions, dest *output.Dest) (output.Writer, error) {
		var t imaging.Intensity
		if o.intensity != "" {
			if err := json.Unmarshal([]byte(o.intensity), &t); err != nil {
				return nil, fmt.Errorf("--intensity %q: %w", o.intensity, err)
			}
			if err := t.Validate(); err != nil {
				return nil, fmt.Errorf("--intensity: %w", err)
			}
		}
		return &output.Folder{Dest: dest, Intensity: t, Limits: o.limits}, nil
	},
	"csv": func(_ exportOptions, dest *output.Dest) (output.Writer, error) { return &output.CSV{Dest: dest}, nil },
	"labelstudio": func(o exportOptions, dest *output.Dest) (output.Writer, error) {
		return &output.LabelStudio{Dest: dest, ImageURL: o.imageURL, Expiry: o.expiry}, nil
	},
	"predprobs": func(_ exportOptions, dest *output.Dest) (output.Writer, error) {
		return &output.PredProbs{Dest: dest}, nil
	},
	"studies": func(exportOptions, *output.Dest) (output.Writer, error) { return output.Studies{}, nil },
}

// exporterNames lists the writers, sorted.
func exporterNames() string {
	var names []string
	for n := range exporters {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func (a *app) exportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --to NAME [--dest PATH_OR_URL]",
		Short: "Turn a finished job's review decisions and records into files for training, calibration and labelling tools",
		Long: `Runs one writer (--to) on a finished job (--job, --output):

  folder       a labelled folder the training toolkit trains on (python3 -m didicm_train
               train --data DEST): a subfolder per class, hard links to a file:// archive
               or copies, DICOM kept as DICOM, a frame of a multi-frame DICOM file as a PNG
               (--intensity, as training's), manifest.jsonl of where each came from and who
               decided, conflicts.jsonl
  csv          labels.csv (key,label,reviewer,decided_at: calibrate --labels reads it) and
               conflicts.jsonl
  labelstudio  labelstudio-tasks.json and labelstudio-config.xml: the review list as a
               Label Studio project with our class as a pre-annotation (didicm import
               labelstudio reads its JSON export back as decisions)
  predprobs    pred_probs.parquet: key, label, label_index and pred_probs (K float32 per
               classified image) for cleanlab and pandas
  studies      studies.jsonl, series.jsonl, events.jsonl, timelines.jsonl in the job's folder
  sr           a DICOM structured report per study (or series: --sr series) in the job's
               folder, sent with STOW-RS when --sr-send says where; --model must be the
               job's model

Labels follow the agreement rule: each reviewer's last decision counts, an image is
labelled when every reviewer who decided it chose the same class, and any disagreement
or unsure decision lists it in conflicts.jsonl for a second review (docs/export.md).
--dest is a local folder, or a folder in a bucket (s3://bucket/folder?region=…) for
csv, labelstudio and predprobs; the folder export needs a local one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.export(cmd.Context(), o)
		},
	}
	addJobFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "the writer: "+exporterNames())
	f.StringVar(&o.dest, "dest", "", "where the files go: a folder, or a bucket URL with a folder")
	f.StringVar(&o.imageURL, "image-url", "", "labelstudio: image URL template with {key} for the object key "+
		"(e.g. '/data/local-files/?d=archive/{key}'); default: URLs presigned by an s3, gs or azblob input")
	f.DurationVar(&o.expiry, "url-expiry", output.DefaultURLExpiry, "labelstudio: how long presigned URLs are valid")
	configFlag(f, "model", "model", "sr: the job's model (default "+DefaultModel+")")
	configFlag(f, "sr.per", "sr", "sr: study or series (default study)")
	configFlag(f, "sr.send", "sr-send", "sr: also send with STOW-RS: source or a dicomweb+https:// URL")
	f.StringVar(&o.intensity, "intensity", "", `folder: the DICOM intensity transform frames are rendered with, JSON as `+
		`training's --intensity, e.g. {"kind":"window","center":40,"width":400} (default bits)`)
	return cmd
}

// export opens the job and the destination and runs the writer.
func (a *app) export(ctx context.Context, o exportOptions) error {
	j := a.cfg.Job
	if j.ID == "" || j.OutputURL == "" {
		return usageError{errors.New("export needs --job and --output")}
	}
	mk, ok := exporters[o.to]
	if o.to == "sr" {
		mk, ok = a.srExporter(), true
	}
	if !ok {
		return usageError{fmt.Errorf("--to %q: want one of %s, sr", o.to, exporterNames())}
	}
	var dest *output.Dest
	if o.to != "studies" && o.to != "sr" {
		if o.dest == "" {
			return usageError{fmt.Errorf("export --to %s needs --dest", o.to)}
		}
		var err error
		if dest, err = output.OpenDest(ctx, o.dest); err != nil {
			return err
		}
		defer dest.Close()
	}
	o.limits = a.cfg.limits()
	o.limits.MaxBytes = 0 // the job's max_bytes
	w, err := mk(o, dest)
	if err != nil {
		return usageError{err}
	}
	store, err := jobs.OpenStore(ctx, j.ref())
	if err != nil {
		return err
	}
	defer store.Close()
	job, err := output.Open(ctx, store)
	if err != nil {
		return err
	}
	if err := w.Write(ctx, job); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "job %s: %s\n", j.ID, exported(w, dest))
	return nil
}

// exported says what a writer wrote.
func exported(w output.Writer, dest *output.Dest) string {
	switch w := w.(type) {
	case *output.Folder:
		return fmt.Sprintf("%d images in %s (%d skipped: see %s), %d conflicts in %s", w.Written.Labels, dest,
			w.Written.Skipped, output.ManifestFile, w.Written.Conflicts, output.ConflictsFile)
	case *output.CSV:
		return fmt.Sprintf("%d labels in %s/%s, %d conflicts in %s", w.Written.Labels, dest, output.LabelsFile,
			w.Written.Conflicts, output.ConflictsFile)
	case *output.LabelStudio:
		return fmt.Sprintf("%d tasks in %s/%s with %s (%d images a browser cannot show left out)", w.Written.Tasks, dest,
			output.LabelStudioTasksFile, output.LabelStudioConfigFile, w.Written.Skipped)
	case *output.PredProbs:
		return fmt.Sprintf("%d rows (%d labelled) in %s/%s", w.Written.Rows, w.Written.Labelled, dest, output.PredProbsFile)
	}
	return "wrote " + w.Name()
}
