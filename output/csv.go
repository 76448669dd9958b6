package output

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// CSV writes a job's review decisions as labels.csv, the labels file that
// `didicm calibrate --labels` and `didicm report --labels` read
// (internal/labelcsv): a header, then key,label,reviewer,decided_at, one
// row per image the agreement rule labels (labels.go), in key order.
// reviewer names everyone who agreed, joined by ';'; decided_at is the
// time of the last of their decisions. Conflicts go to conflicts.jsonl
// beside it, not into the labels.
type CSV struct {
	// Dest is where labels.csv and conflicts.jsonl go.
	Dest *Dest
	// Written counts what the last Write wrote.
	Written Counts
}

// Counts is what a decision export wrote.
type Counts struct {
	Labels    int // images written with a label
	Conflicts int // images listed in conflicts.jsonl
	Skipped   int // labelled images left out (the folder export: unreadable, or video and log frames)
}

var _ Writer = (*CSV)(nil)

// LabelsFile is the CSV writer's file.
const LabelsFile = "labels.csv"

// Name is "csv".
func (*CSV) Name() string { return "csv" }

// Write reads the job's decisions and writes labels.csv and conflicts.jsonl.
func (w *CSV) Write(ctx context.Context, job *Job) error {
	if w.Dest == nil {
		return errors.New("csv export: no destination")
	}
	ds, err := ReadDecisions(ctx, job.Store)
	if err != nil {
		return err
	}
	w.Written = Counts{}
	if w.Written.Conflicts, err = WriteConflicts(ctx, w.Dest, ds); err != nil {
		return err
	}
	return w.Dest.Write(ctx, LabelsFile, "text/csv", func(out io.Writer) error {
		cw := csv.NewWriter(out)
		if err := cw.Write([]string{"key", "label", "reviewer", "decided_at"}); err != nil {
			return err
		}
		err := ds.Each(func(l Label) error {
			w.Written.Labels++
			return cw.Write([]string{l.Key, l.Class, strings.Join(l.Reviewers(), ";"), l.DecidedAt()})
		}, func(Conflict) error { return nil })
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
}
