package output

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"

	"github.com/didicm/didicm/pipeline"
)

// PredProbs writes a job's posteriors as pred_probs.parquet, the matrix
// cleanlab and pandas take: one row per classified image, in the job's
// record order, with
//
//	key          the record's key
//	label        the class the review decisions give it (the agreement
//	             rule, labels.go); "" when none
//	label_index  that class's index in the job's classes; -1 when none
//	pred_probs   LIST<FLOAT>: the posterior, K float32 in class order
//
// pred_probs is one list column rather than K columns: K can be in the
// thousands, and np.stack of the column is the N×K array
// cleanlab.filter.find_label_issues takes. The file's key-value metadata
// holds didicm.format (pred_probs/1), didicm.job and didicm.classes (the
// class names as a JSON array). Failed images have no row. Records are
// read one batch at a time and rows written in row groups of about 2²²
// values, so memory does not grow with the job. The job's records must
// hold the full posterior (posterior: full, the default) as JSON Lines.
type PredProbs struct {
	Dest *Dest
	// RowGroupRows is the rows of a row group; zero means as many as hold
	// about 2²² posterior values (at least 256).
	RowGroupRows int
	// Written counts what the last Write wrote.
	Written RowCounts
}

// RowCounts is what the pred_probs export wrote.
type RowCounts struct {
	Rows     int // classified images
	Labelled int // of them, with a label
}

var _ Writer = (*PredProbs)(nil)

// PredProbsFile is the pred_probs export's file.
const PredProbsFile = "pred_probs.parquet"

// predProbsFormat versions the file (its didicm.format metadata).
const predProbsFormat = "pred_probs/1"

// rowGroupValues bounds a row group's posterior values (16 MB of float32).
const rowGroupValues = 1 << 22

// predProbsRow is one row of pred_probs.parquet.
type predProbsRow struct {
	Key        string    `parquet:"key"`
	Label      string    `parquet:"label,dict"`
	LabelIndex int64     `parquet:"label_index"`
	PredProbs  []float32 `parquet:"pred_probs,list"`
}

// Name is "predprobs".
func (*PredProbs) Name() string { return "predprobs" }

// Write reads the job's decisions, then streams its records into the file.
func (w *PredProbs) Write(ctx context.Context, job *Job) error {
	if w.Dest == nil {
		return errors.New("predprobs export: no destination")
	}
	k := len(job.Spec.ClassNames)
	if k == 0 {
		return fmt.Errorf("predprobs export: job %s does not name its classes (enqueued before class_names)", job.Spec.ID)
	}
	labels, err := labelIndex(ctx, job)
	if err != nil {
		return err
	}
	classes, _ := json.Marshal(job.Spec.ClassNames)
	w.Written = RowCounts{}
	return w.Dest.Write(ctx, PredProbsFile, "application/vnd.apache.parquet", func(out io.Writer) error {
		pw := parquet.NewGenericWriter[predProbsRow](out, parquet.Compression(&parquet.Zstd),
			parquet.MaxRowsPerRowGroup(int64(cmp.Or(w.RowGroupRows, max(256, rowGroupValues/k)))),
			parquet.KeyValueMetadata("didicm.format", predProbsFormat),
			parquet.KeyValueMetadata("didicm.job", job.Spec.ID),
			parquet.KeyValueMetadata("didicm.classes", string(classes)))
		b := newRowBatch(k, labels, job.Spec.ClassNames)
		err := job.Records(ctx, func(r pipeline.Record) error {
			if err := b.add(r); err != nil {
				return err
			}
			if b.full() {
				return b.flush(pw, &w.Written)
			}
			return nil
		})
		if err == nil {
			err = b.flush(pw, &w.Written)
		}
		if err != nil {
			return err
		}
		return pw.Close()
	})
}

// labelIndex maps each labelled key to its class.
func labelIndex(ctx context.Context, job *Job) (map[string]string, error) {
	ds, err := ReadDecisions(ctx, job.Store)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	err = ds.Each(func(l Label) error { out[l.Key] = l.Class; return nil }, func(Conflict) error { return nil })
	return out, err
}

// rowBatch holds up to 1024 rows whose posteriors share one array.
type rowBatch struct {
	k      int
	labels map[string]string
	index  map[string]int
	rows   []predProbsRow
	probs  []float32
}

const batchRows = 1024

func newRowBatch(k int, labels map[string]string, classes []string) *rowBatch {
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	return &rowBatch{k: k, labels: labels, index: index, rows: make([]predProbsRow, 0, batchRows),
		probs: make([]float32, 0, batchRows*k)}
}

// add takes a record's row; a failed image has none.
func (b *rowBatch) add(r pipeline.Record) error {
	if r.Error != "" {
		return nil
	}
	if len(r.Posterior) != b.k {
		return fmt.Errorf("predprobs export: %s has %d posterior values, want %d (the job's records need posterior: full)",
			r.Key, len(r.Posterior), b.k)
	}
	at := len(b.probs)
	for _, p := range r.Posterior {
		b.probs = append(b.probs, float32(p))
	}
	row := predProbsRow{Key: r.Key, LabelIndex: -1, PredProbs: b.probs[at:len(b.probs):len(b.probs)]}
	if l, ok := b.labels[r.Key]; ok {
		if i, known := b.index[l]; known {
			row.Label, row.LabelIndex = l, int64(i)
		}
	}
	b.rows = append(b.rows, row)
	return nil
}

func (b *rowBatch) full() bool { return len(b.rows) == batchRows }

// flush writes the rows and empties the batch (the writer copies them).
func (b *rowBatch) flush(pw *parquet.GenericWriter[predProbsRow], n *RowCounts) error {
	if _, err := pw.Write(b.rows); err != nil {
		return err
	}
	for _, r := range b.rows {
		n.Rows++
		if r.LabelIndex >= 0 {
			n.Labelled++
		}
	}
	b.rows, b.probs = b.rows[:0], b.probs[:0]
	return nil
}
