package pipeline

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/parquet-go/parquet-go"

	"github.com/didicm/didicm/jobs"
)

// MaxParquetPosteriorClasses is the largest K whose full posterior a Parquet
// results file carries (as the list column posterior, with spec posterior
// full); above it only the top-k columns are written.
const MaxParquetPosteriorClasses = 1000

// ParquetRow is one row of a Parquet results file: Record's scalar fields,
// the k most probable classes and their probabilities (most probable first,
// ties to the lower class index), and the full posterior (K values in class
// order) where the file has that column. Strings a JSON record omits are
// empty here, class_index is -1 and the lists empty for an image that
// failed, and chain_agreement is null unless the sampler was CL.
type ParquetRow struct {
	Key            string   `parquet:"key"`
	Class          string   `parquet:"class,dict"`
	ClassIndex     int64    `parquet:"class_index"`
	MaxProb        float64  `parquet:"max_prob"`
	Margin         float64  `parquet:"margin"`
	Entropy        float64  `parquet:"entropy"`
	EntropyNorm    float64  `parquet:"entropy_norm"`
	ChainAgreement *float64 `parquet:"chain_agreement,optional"`
	Sampler        string   `parquet:"sampler,dict"`
	Steps          int64    `parquet:"steps"`
	Chains         int64    `parquet:"chains"`
	NFE            int64    `parquet:"nfe"`
	Error          string   `parquet:"error"`
	ErrorReason    string   `parquet:"error_reason,dict"`
	StudyUID       string   `parquet:"study_uid"`
	SeriesUID      string   `parquet:"series_uid"`
	SOPUID         string   `parquet:"sop_uid"`
	Frame          int64    `parquet:"frame"`
	// PredictionSet and SetSize exist with a calibration: an empty set is
	// an empty list with set_size 0; without a calibration, set_size is -1.
	PredictionSet []string  `parquet:"prediction_set,list"`
	SetSize       int64     `parquet:"set_size"`
	Job           string    `parquet:"job,dict"`
	Batch         int64     `parquet:"batch"`
	ModelSHA256   string    `parquet:"model_sha256,dict"`
	ORTVersion    string    `parquet:"ort_version,dict"`
	Provider      string    `parquet:"provider,dict"`
	TopKClass     []string  `parquet:"top_k_class,list" parquet-element:",dict"`
	TopKProb      []float64 `parquet:"top_k_prob,list"`
	Posterior     []float64 `parquet:"posterior,list"`
}

// ParquetResults builds one batch's results as a Parquet file: Add each
// record as it is scored, then Encode once. Not safe for concurrent use.
type ParquetResults struct {
	classes   []string // class names in index order
	k         int      // top-k entries per row
	posterior bool     // write the posterior column
	rows      []ParquetRow
	// Backing arrays of the rows' top-k lists, allocated per batch.
	topClass []string
	topProb  []float64
	order    []int // scratch for top-k selection
}

// NewParquetResults prepares the results of a batch of images (a capacity
// hint) of the job spec, for a model with these class names. Rows carry the
// top k = spec.TopK (or jobs.DefaultTopK) classes, and the full posterior
// when the spec asks for it and K <= MaxParquetPosteriorClasses.
func NewParquetResults(spec jobs.Spec, classes []string, images int) *ParquetResults {
	k := spec.TopK
	if k <= 0 {
		k = jobs.DefaultTopK
	}
	k = min(k, len(classes))
	images = max(images, 0)
	return &ParquetResults{classes: classes, k: k,
		posterior: spec.Posterior == "full" && len(classes) <= MaxParquetPosteriorClasses,
		rows:      make([]ParquetRow, 0, images),
		topClass:  make([]string, 0, images*k), topProb: make([]float64, 0, images*k)}
}

// Add appends r's row. The row refers to r's strings and posterior, which
// must not change until Encode.
func (p *ParquetResults) Add(r Record) {
	row := ParquetRow{Key: r.Key, Class: r.Class, ClassIndex: int64(r.ClassIndex),
		MaxProb: r.MaxProb, Margin: r.Margin, Entropy: r.Entropy, EntropyNorm: r.EntropyNorm,
		ChainAgreement: r.ChainAgreement, Sampler: r.Sampler, Steps: int64(r.Steps), Chains: int64(r.Chains),
		NFE: int64(r.NFE), Error: r.Error, ErrorReason: r.ErrorReason, StudyUID: r.StudyUID,
		SeriesUID: r.SeriesUID, SOPUID: r.SOPUID, Frame: int64(r.Frame), Job: r.Job, Batch: int64(r.Batch),
		ModelSHA256: r.ModelSHA256, ORTVersion: r.ORTVersion, Provider: r.Provider, PredictionSet: r.PredictionSet, SetSize: -1}
	if r.SetSize != nil {
		row.SetSize = int64(*r.SetSize)
	}
	from := len(p.topClass)
	switch {
	case len(r.TopK) > 0: // the engine kept only the top classes
		for _, c := range r.TopK[:min(len(r.TopK), p.k)] {
			p.topClass = append(p.topClass, c.Class)
			p.topProb = append(p.topProb, c.Prob)
		}
	case len(r.Posterior) > 0:
		for _, i := range p.topK(r.Posterior) {
			name := ""
			if i < len(p.classes) {
				name = p.classes[i]
			}
			p.topClass = append(p.topClass, name)
			p.topProb = append(p.topProb, r.Posterior[i])
		}
	}
	// Capped slices: a later append to the backing array never reaches them.
	row.TopKClass = p.topClass[from:len(p.topClass):len(p.topClass)]
	row.TopKProb = p.topProb[from:len(p.topProb):len(p.topProb)]
	if p.posterior {
		row.Posterior = r.Posterior
	}
	p.rows = append(p.rows, row)
}

// topK returns the indices of the k largest probabilities, most probable
// first, ties to the lower index (as classify's top-k records).
func (p *ParquetResults) topK(post []float64) []int {
	k := min(p.k, len(post))
	top := p.order[:0]
	if k == 0 {
		return top
	}
	if k <= 32 { // insertion into a short sorted list: O(K k) without allocating
		for i, v := range post {
			if len(top) == k && v <= post[top[k-1]] {
				continue
			}
			j := len(top)
			if j < k {
				top = append(top, i)
			} else {
				j = k - 1
			}
			for ; j > 0 && v > post[top[j-1]]; j-- {
				top[j] = top[j-1]
			}
			top[j] = i
		}
	} else {
		for i := range post {
			top = append(top, i)
		}
		slices.SortStableFunc(top, func(a, b int) int {
			switch {
			case post[a] > post[b]:
				return -1
			case post[a] < post[b]:
				return 1
			}
			return 0
		})
		top = top[:k]
	}
	p.order = top
	return top
}

// withoutPosterior drops the posterior column from ParquetRow's schema.
var withoutPosterior = parquet.StructTag(`parquet:"-"`, "Posterior")

// Encode writes the rows as one Parquet file (one row group, zstd).
func (p *ParquetResults) Encode() ([]byte, error) {
	var buf bytes.Buffer
	opts := []parquet.WriterOption{parquet.Compression(&parquet.Zstd)}
	if !p.posterior {
		opts = append(opts, withoutPosterior)
	}
	w := parquet.NewGenericWriter[ParquetRow](&buf, opts...)
	_, err := w.Write(p.rows)
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("encode parquet results: %w", err)
	}
	return buf.Bytes(), nil
}
