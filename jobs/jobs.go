// Package jobs defines what travels through the queue: the job spec (what to
// classify, where to write, how), the batch task that references one batch of
// a job's manifest, and the layout of a job's objects in the output bucket.
//
// Tasks carry small references, never image bytes: the producer snapshots the
// listing into per-batch manifest objects, so retries and resumes read the
// same keys whatever happened to the input prefix since.
package jobs

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/storage"
)

// TypeBatch is the task type of one batch: classify its images, write its results.
//
// Retry contract: a payload that does not parse or validate returns an error
// wrapping asynq.SkipRetry (it would fail the same way again) and is recorded
// in the job's failure list; storage and model faults return plain errors and
// are retried with backoff; after the last retry the batch is recorded in the
// failure list, from which `didicm retry` re-drives it.
const TypeBatch = "classify:batch"

// Spec is a classification job.
type Spec struct {
	// ID names the job: 1-64 of [a-z0-9_-]. It is the output folder and the
	// task ID prefix, so enqueueing the same ID again resumes that job.
	ID string `json:"id" mapstructure:"id"`
	// InputURL is a bucket URL; InputPrefix the folder of images in it.
	InputURL    string   `json:"input_url" mapstructure:"input_url"`
	InputPrefix string   `json:"input_prefix" mapstructure:"input_prefix"`
	Include     []string `json:"include,omitempty" mapstructure:"include"`
	Exclude     []string `json:"exclude,omitempty" mapstructure:"exclude"`
	// OutputURL and OutputPrefix: results go under OutputPrefix/ID/.
	OutputURL    string `json:"output_url" mapstructure:"output_url"`
	OutputPrefix string `json:"output_prefix" mapstructure:"output_prefix"`
	// Model is informational (workers load their own); ModelSHA256, when
	// set, must match the worker's model or the batch fails permanently.
	Model       string `json:"model,omitempty" mapstructure:"model"`
	ModelSHA256 string `json:"model_sha256,omitempty" mapstructure:"model_sha256"`
	// ClassNames are the model's classes in index order, as enqueued: what
	// readers of the job (the review page, exports) name classes by
	// without loading the model. Empty in jobs enqueued before it existed.
	ClassNames []string `json:"class_names,omitempty" mapstructure:"-"`
	// Sampler is auto (the worker's planner; empty means auto), cp or cl.
	Sampler string `json:"sampler" mapstructure:"sampler"`
	// Steps is T (zero: sampler.DefaultSteps; T=0 is not a sampler).
	Steps int `json:"steps" mapstructure:"steps"`
	// Clamp is CP's clamp: paper (empty) or negatives (docs/sampler.md).
	Clamp string `json:"clamp,omitempty" mapstructure:"clamp"`
	// Settle stops CP for an image once a step moves its posterior by no
	// more than this (adaptive steps); 0 runs all steps.
	Settle float64 `json:"settle,omitempty" mapstructure:"settle"`
	// Chains is CL's N (zero: sampler.DefaultChains); Seed its random
	// seed, zero being a seed like any other.
	Chains int    `json:"chains" mapstructure:"chains"`
	Seed   uint64 `json:"seed" mapstructure:"seed"`
	// BatchSize is images per task (zero: DefaultBatchSize).
	BatchSize int `json:"batch_size" mapstructure:"batch_size"`
	// Posterior is "full" (K values per record; empty means full) or
	// "top-k" (TopK entries; zero: DefaultTopK).
	Posterior string `json:"posterior" mapstructure:"posterior"`
	TopK      int    `json:"top_k,omitempty" mapstructure:"top_k"`
	// Format is the results' format: jsonl (empty means jsonl) or parquet
	// (one file per batch with top_k_class/top_k_prob columns, k = TopK or
	// 5, and the full posterior only with posterior full and K <= 1000).
	Format string `json:"format,omitempty" mapstructure:"format"`
	// ReviewThreshold: with the entropy review rule, images whose
	// normalised entropy is above it, or that failed, are listed in
	// review.jsonl. Zero is a value, not "unset": every image with any doubt
	// goes to review (Defaults keeps it; the CLI's default is
	// DefaultReviewThreshold).
	ReviewThreshold float64 `json:"review_threshold" mapstructure:"review_threshold"`
	// Calibration, when set, gives each record a prediction set (the file
	// `didicm calibrate` writes, embedded at enqueue).
	Calibration *calibrate.Calibration `json:"calibration,omitempty" mapstructure:"-"`
	// StudyCalibration, when set, gives each study of studies.jsonl a
	// prediction set with its own coverage (`didicm calibrate --by study`,
	// embedded at enqueue); its study rule must be the job's groups rule.
	StudyCalibration *calibrate.Calibration `json:"study_calibration,omitempty" mapstructure:"-"`
	// ReviewRule picks review.jsonl's images: "set_size" (more than one
	// class in the set; the default when calibrated) or "entropy" (above
	// ReviewThreshold; the default otherwise).
	ReviewRule string `json:"review_rule,omitempty" mapstructure:"review_rule"`
	// MaxBytes is the largest image file read; larger ones become error
	// records (zero: imaging.DefaultMaxBytes).
	MaxBytes int64 `json:"max_bytes" mapstructure:"max_bytes"`
	// SR, when set, writes a DICOM structured report per study (or series)
	// when the job finishes (package dicomsr).
	SR *SRSpec `json:"sr,omitempty" mapstructure:"-"`
	// Groups is how the finished job's images are grouped into studies,
	// series and events (zero: the defaults).
	Groups GroupsSpec `json:"groups,omitzero" mapstructure:"-"`
	// Sampling is how videos and logs are read and cut into parts.
	Sampling Sampling `json:"sampling,omitzero" mapstructure:"sampling"`
	// SeriesRules choose, for a DICOMweb input, the series a job reads: a
	// series is read when one rule matches it (dicomweb.SeriesRule: by
	// modality, body part, description, image type, instance count). Empty
	// means every series the input URL's search matches.
	SeriesRules []dicomweb.SeriesRule `json:"series_rules,omitempty" mapstructure:"series_rules"`
	// EntryKeys says that the manifest's entries are in recordkey's form
	// (an object key escaped where it holds '#' or '%', a part of a video
	// as #span=); false in jobs enqueued before, whose entries are object
	// keys as listed. The producer sets it.
	EntryKeys bool `json:"entry_keys,omitempty" mapstructure:"-"`
	// Queue is the Asynq queue (empty: DefaultQueue).
	Queue string `json:"queue" mapstructure:"queue"`
	// MaxRetry is the automatic attempts after the first; zero means none, a
	// failing batch goes to the failure list at once (Defaults keeps it; the
	// CLI's default is DefaultMaxRetry).
	MaxRetry int `json:"max_retry" mapstructure:"max_retry"`
}

// ModelQueue is the Asynq queue of jobs for the model with this sha256:
// workers listen on their own model's queue, so a fleet with several models
// never hands a job to a worker that cannot run it.
func ModelQueue(sha256 string) string {
	if len(sha256) > 16 {
		sha256 = sha256[:16]
	}
	return "model-" + sha256
}

// Ref locates the job's objects.
func (s Spec) Ref() Ref { return Ref{OutputURL: s.OutputURL, Prefix: s.OutputPrefix, ID: s.ID} }

var idRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// The review rules (Spec.ReviewRule).
const (
	ReviewBySetSize = "set_size"
	ReviewByEntropy = "entropy"
)

// A job's defaults; the sampler's and the decoding limits' are owned by
// their packages. DefaultReviewThreshold and DefaultMaxRetry are applied at
// the edge (the CLI's configuration), not by Defaults: zero is a legal value
// of both.
const (
	DefaultBatchSize       = 256
	DefaultPosterior       = "full"
	DefaultTopK            = 5 // with posterior top-k
	DefaultReviewThreshold = 0.5
	DefaultQueue           = "default"
	DefaultMaxRetry        = 5
)

// Defaults fills the fields whose zero value is not a legal setting (steps,
// chains, batch size, ...), each with its default. Fields whose zero means
// something (ReviewThreshold, MaxRetry, Settle, Seed) are kept as they are.
func (s *Spec) Defaults() {
	if s.Sampler == "" {
		s.Sampler = "auto"
	}
	if s.Steps == 0 {
		s.Steps = sampler.DefaultSteps
	}
	if s.Chains == 0 {
		s.Chains = sampler.DefaultChains
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultBatchSize
	}
	if s.Posterior == "" {
		s.Posterior = DefaultPosterior
	}
	if s.Posterior == "top-k" && s.TopK == 0 {
		s.TopK = DefaultTopK
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = imaging.DefaultMaxBytes
	}
	if s.Queue == "" {
		s.Queue = DefaultQueue
	}
}

// Validate names the first wrong field.
func (s *Spec) Validate() error {
	bad := func(field, why string) error { return fmt.Errorf("job spec %s: %s", field, why) }
	switch {
	case !idRE.MatchString(s.ID):
		return bad("id", fmt.Sprintf("%q: want 1-64 of a-z, 0-9, _ and -", s.ID))
	case s.InputURL == "":
		return bad("input_url", "missing")
	case s.OutputURL == "":
		return bad("output_url", "missing")
	case s.Sampler != "auto" && s.Sampler != "cp" && s.Sampler != "cl":
		return bad("sampler", fmt.Sprintf("%q: want auto, cp or cl", s.Sampler))
	case s.Clamp != "" && s.Clamp != string(sampler.ClampPaper) && s.Clamp != string(sampler.ClampNegatives):
		return bad("clamp", fmt.Sprintf("%q: want paper or negatives", s.Clamp))
	case s.ReviewRule != "" && s.ReviewRule != ReviewBySetSize && s.ReviewRule != ReviewByEntropy:
		return bad("review_rule", fmt.Sprintf("%q: want set_size or entropy", s.ReviewRule))
	case s.ReviewRule == ReviewBySetSize && s.Calibration == nil:
		return bad("review_rule", "set_size needs a calibration")
	case s.Settle < 0 || s.Settle >= 1:
		return bad("settle", fmt.Sprintf("%g: want 0 (off) or a change below 1", s.Settle))
	case s.Steps < 1 || s.Steps > 1000:
		return bad("steps", fmt.Sprintf("%d: want 1 to 1000", s.Steps))
	case s.Chains < 1 || s.Chains > 1<<16:
		return bad("chains", fmt.Sprintf("%d: want 1 to 65536", s.Chains))
	case s.BatchSize < 1 || s.BatchSize > 100_000:
		return bad("batch_size", fmt.Sprintf("%d: want 1 to 100000", s.BatchSize))
	case s.Posterior != "full" && s.Posterior != "top-k":
		return bad("posterior", fmt.Sprintf("%q: want full or top-k", s.Posterior))
	case s.Posterior == "top-k" && s.TopK < 1:
		return bad("top_k", "want at least 1 with posterior top-k")
	case s.Format != "" && s.Format != FormatJSONL && s.Format != FormatParquet:
		return bad("format", fmt.Sprintf("%q: want jsonl or parquet", s.Format))
	case s.ReviewThreshold < 0 || s.ReviewThreshold > 1:
		return bad("review_threshold", "want 0 to 1 (normalised entropy)")
	case s.MaxRetry < 0 || s.MaxRetry > 100:
		return bad("max_retry", "want 0 to 100")
	}
	if err := s.validateCalibration(); err != nil {
		return bad("calibration", err.Error())
	}
	if err := s.Sampling.validate(); err != nil {
		return bad("sampling", err.Error())
	}
	if err := s.Groups.validate(); err != nil {
		return bad("groups", err.Error())
	}
	if err := s.validateStudyCalibration(); err != nil {
		return bad("study_calibration", err.Error())
	}
	if s.SR != nil {
		if err := s.SR.validate(s.InputURL); err != nil {
			return bad("sr", err.Error())
		}
	}
	if len(s.SeriesRules) > 0 {
		if !strings.HasPrefix(s.InputURL, "dicomweb+") {
			return bad("series_rules", "apply to a DICOMweb input only (input_url dicomweb+http:// or dicomweb+https://)")
		}
		if err := dicomweb.ValidateRules(s.SeriesRules); err != nil {
			return bad("series_rules", err.Error())
		}
	}
	if s.InputPrefix != "" {
		if err := storage.CheckKey(s.InputPrefix); err != nil {
			return bad("input_prefix", err.Error())
		}
	}
	if s.OutputPrefix != "" {
		if err := storage.CheckKey(s.OutputPrefix); err != nil {
			return bad("output_prefix", err.Error())
		}
	}
	if err := (storage.Filter{Include: s.Include, Exclude: s.Exclude}).Validate(); err != nil {
		return bad("include/exclude", err.Error())
	}
	return nil
}

// validateCalibration checks the embedded calibration as a calibration
// file is checked, and that it was fitted for the job's model and K where
// the spec names them (spec.json may hold anything).
func (s *Spec) validateCalibration() error {
	c := s.Calibration
	if c == nil {
		return nil
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return c.ForModel(cmp.Or(s.ModelSHA256, c.ModelSHA256), cmp.Or(len(s.ClassNames), c.Classes))
}

// Batch is the payload of a TypeBatch task: a reference to one batch.
type Batch struct {
	JobID string `json:"job"`
	// Index is the batch number, 0-based.
	Index int `json:"batch"`
	// OutputURL and OutputPrefix locate the job's folder (spec, manifest).
	OutputURL    string `json:"out"`
	OutputPrefix string `json:"prefix,omitempty"`
}

// TaskID is deterministic per (job, batch): a batch is queued at most once.
func TaskID(job string, batch int) string { return fmt.Sprintf("%s:%06d", job, batch) }

// NewTask builds the task for b.
func NewTask(b Batch) (*asynq.Task, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeBatch, payload), nil
}

// Permanent marks err as one that would fail the same way again: Asynq does
// not retry it. The cause stays in the chain (errors.Is sees both).
func Permanent(err error) error {
	if err == nil || errors.Is(err, asynq.SkipRetry) {
		return err
	}
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// ParseTask decodes and validates a task payload. Errors wrap asynq.SkipRetry.
func ParseTask(t *asynq.Task) (Batch, error) {
	var b Batch
	if t.Type() != TypeBatch {
		return b, Permanent(fmt.Errorf("task type %q, want %q", t.Type(), TypeBatch))
	}
	if err := json.Unmarshal(t.Payload(), &b); err != nil {
		return b, Permanent(fmt.Errorf("batch payload: %w", err))
	}
	if err := b.validate(); err != nil {
		return b, Permanent(err)
	}
	return b, nil
}

func (b Batch) validate() error {
	switch {
	case !idRE.MatchString(b.JobID):
		return fmt.Errorf("batch payload job %q: not a job id", b.JobID)
	case b.Index < 0:
		return fmt.Errorf("batch payload batch %d: negative", b.Index)
	case b.OutputURL == "":
		return errors.New("batch payload: no output url")
	}
	if b.OutputPrefix != "" {
		return storage.CheckKey(b.OutputPrefix)
	}
	return nil
}
