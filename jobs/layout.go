package jobs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/didicm/didicm/storage"
)

// Layout names a job's objects in the output bucket, all under Root:
//
//	spec.json                 the job spec, as enqueued
//	manifest.json             Manifest: batch count and sizes
//	manifest/batch-NNNNNN.json the input keys of one batch
//	results/batch-NNNNNN.jsonl one record per image of the batch (spec format jsonl, the default)
//	results/batch-NNNNNN.parquet the same as one Parquet file (spec format parquet)
//	stats/batch-NNNNNN.jsonl  the batch's share of the summary and its review lines, written just before its results
//	failures/batch-NNNNNN.json why the batch failed (removed when it succeeds)
//	plan.json                 the sampler decision of the worker that took the first batch
//	summary.json, review.jsonl written when the last batch ends
//	report.html               the job's report for people, written after summary.json
//	reviews/NAME.jsonl        one reviewer's decisions on review.jsonl, a JSON line each, appended by `didicm review`
type Layout struct{ Root string }

// NewLayout returns the layout of job id under prefix.
func NewLayout(prefix, id string) (Layout, error) {
	root, err := storage.Join(prefix, id)
	if err != nil {
		return Layout{}, err
	}
	return Layout{Root: root}, nil
}

func (l Layout) key(rel string) string { return l.Root + "/" + rel }

func (l Layout) Spec() string               { return l.key("spec.json") }
func (l Layout) Manifest() string           { return l.key("manifest.json") }
func (l Layout) ManifestBatch(i int) string { return l.key(fmt.Sprintf("manifest/batch-%06d.json", i)) }
func (l Layout) ManifestDir() string        { return l.key("manifest/") }
func (l Layout) ResultsDir() string         { return l.key("results/") }
func (l Layout) Results(i int) string       { return l.ResultsAs(i, FormatJSONL) }
func (l Layout) Stats(i int) string         { return l.key(fmt.Sprintf("stats/batch-%06d.jsonl", i)) }
func (l Layout) FailuresDir() string        { return l.key("failures/") }
func (l Layout) Failure(i int) string       { return l.key(fmt.Sprintf("failures/batch-%06d.json", i)) }
func (l Layout) Plan() string               { return l.key("plan.json") }
func (l Layout) Summary() string            { return l.key("summary.json") }
func (l Layout) Review() string             { return l.key("review.jsonl") }
func (l Layout) Report() string             { return l.key("report.html") }
func (l Layout) ReviewsDir() string         { return l.key("reviews/") }

// Reviews is reviewer's decisions, reviews/NAME.jsonl; the name must pass
// ValidReviewer.
func (l Layout) Reviews(reviewer string) string { return l.key("reviews/" + reviewer + ".jsonl") }

var reviewerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidReviewer says whether name can name a reviewer's file: 1-64 of
// A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit.
func ValidReviewer(name string) error {
	if !reviewerRE.MatchString(name) {
		return fmt.Errorf("reviewer %q: want 1-64 of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit", name)
	}
	return nil
}

// ReviewerOf returns the reviewer whose decisions key holds, if key is a
// reviews/NAME.jsonl object of this layout.
func (l Layout) ReviewerOf(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, l.ReviewsDir())
	if !ok {
		return "", false
	}
	name, ok = strings.CutSuffix(name, ".jsonl")
	return name, ok && ValidReviewer(name) == nil
}

// The formats of a batch's results (Spec.Format); empty means FormatJSONL.
const (
	FormatJSONL   = "jsonl"
	FormatParquet = "parquet"
)

// ResultsAs is batch i's results in format: results/batch-NNNNNN.parquet for
// FormatParquet, else (FormatJSONL or empty) results/batch-NNNNNN.jsonl.
func (l Layout) ResultsAs(i int, format string) string {
	ext := FormatJSONL
	if format == FormatParquet {
		ext = FormatParquet
	}
	return l.key(fmt.Sprintf("results/batch-%06d.%s", i, ext))
}

var batchRE = regexp.MustCompile(`batch-(\d{6})\.(?:jsonl?|parquet)$`)

// MaxBatches is how many batches a job can have: batch numbers have six digits.
const MaxBatches = 1_000_000

// BatchIndex parses the batch number from a results (either format), manifest or failures key.
func BatchIndex(key string) (int, bool) {
	m := batchRE.FindStringSubmatch(key)
	if m == nil {
		return 0, false
	}
	i, err := strconv.Atoi(m[1])
	return i, err == nil
}

// Manifest is the snapshot of a job's listing.
type Manifest struct {
	JobID string `json:"job"`
	// Images is the images the job is expected to give: one per listed
	// file, or per image a video's or log's parts are expected to hold.
	Images int `json:"images"`
	// Files is how many files were listed (0 in manifests written before).
	Files   int    `json:"files,omitempty"`
	Batches []int  `json:"batches"` // images expected of each batch
	Created string `json:"created"`
}

// Failure is one entry of a job's failure list.
type Failure struct {
	Batch    int    `json:"batch"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
	Final    bool   `json:"final"` // no automatic retry is left
	Time     string `json:"time"`
	Worker   string `json:"worker"`
}
