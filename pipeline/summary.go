package pipeline

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

// Record is one line of a results file: the classify record plus where and
// how it was produced.
type Record struct {
	classify.Record
	Job         string `json:"job"`
	Batch       int    `json:"batch"`
	ModelSHA256 string `json:"model_sha256"`
	ORTVersion  string `json:"ort_version"`
	Provider    string `json:"provider"`
}

// Summary is a job's summary.json.
type Summary struct {
	JobID string `json:"job"`
	// Images counts records: still images, and each frame of a multi-frame
	// file (Classified + Errors); Files counts what was listed.
	Images          int            `json:"images"`
	Files           int            `json:"files"`
	Classified      int            `json:"classified"`
	Errors          int            `json:"errors"`
	ErrorReasons    map[string]int `json:"error_reasons"`
	Classes         map[string]int `json:"classes"`
	Review          int            `json:"review"`
	ReviewThreshold float64        `json:"review_threshold"`
	// EntropyNormHistogram counts classified images by normalised entropy in
	// ten bins of 0.1: bin i holds [edge i, edge i+1), the last one [0.9, 1].
	EntropyNormHistogram [10]int            `json:"entropy_norm_histogram"`
	EntropyNormBinEdges  [11]float64        `json:"entropy_norm_bin_edges"`
	MaxProbQuantiles     map[string]float64 `json:"max_prob_quantiles"`
	MeanEntropyNorm      float64            `json:"mean_entropy_norm"`
	Samplers             map[string]int     `json:"samplers"`
	Models               map[string]int     `json:"models"`
	Providers            map[string]int     `json:"providers"`
	NFE                  int                `json:"nfe"`
	// Grouped counts the images of DICOM studies, videos and logs: without
	// any, package grouping has nothing to do (batches whose stats were
	// written before it was counted add none).
	Grouped  int             `json:"grouped"`
	Plan     json.RawMessage `json:"plan,omitempty"`
	Started  string          `json:"started"`
	Finished string          `json:"finished"`
	// ImagesPerSec is over WorkingSeconds, the time spent working (pauses
	// longer than IdleGap, such as a night before a re-drive, left out).
	ImagesPerSec   float64 `json:"images_per_s"`
	WorkingSeconds float64 `json:"working_seconds"`
}

// ReviewRule says which classified images go to review.jsonl (failed ones
// always do): those whose prediction set does not hold exactly one class
// (several, or none), or those whose normalised entropy is above Threshold.
type ReviewRule struct {
	BySetSize bool
	Threshold float64
}

// RuleOf is a job's rule: by set size when the job is calibrated, unless
// its review_rule says entropy.
func RuleOf(spec jobs.Spec) ReviewRule {
	bySet := spec.Calibration != nil && spec.ReviewRule != jobs.ReviewByEntropy
	return ReviewRule{BySetSize: bySet, Threshold: spec.ReviewThreshold}
}

// Wants reports whether a classified record goes to review. By set size,
// a set of exactly one class is accepted; sets of more than one class (the
// model is unsure between them) and empty ones (the set names no class to
// accept; calibrate.Calibration.Set says when that happens) go to review.
func (r ReviewRule) Wants(rec Record) bool {
	if r.BySetSize {
		return rec.SetSize != nil && *rec.SetSize != 1
	}
	return rec.EntropyNorm > r.Threshold
}

// BatchStats is one batch's share of the job summary. The worker writes it
// just before the batch's results, so that the summary merges a small
// object per batch instead of re-reading every record (for a million
// images with K=1000 full posteriors, gigabytes) at the end of the night.
// Stored as JSON Lines (Encode): the stats object, then the batch's review
// lines verbatim, so that neither writing nor merging re-encodes records.
type BatchStats struct {
	Images               int            `json:"images"`
	Classified           int            `json:"classified"`
	Errors               int            `json:"errors"`
	ErrorReasons         map[string]int `json:"error_reasons"`
	Classes              map[string]int `json:"classes"`
	Samplers             map[string]int `json:"samplers"`
	Models               map[string]int `json:"models"`
	Providers            map[string]int `json:"providers"`
	EntropyNormHistogram [10]int        `json:"entropy_norm_histogram"`
	EntropyNormSum       float64        `json:"entropy_norm_sum"`
	MaxProbs             []float64      `json:"max_probs"` // per classified image, in order
	NFE                  int            `json:"nfe"`
	ReviewCount          int            `json:"review"`
	// Grouped counts the records that belong to a group (a DICOM study, a
	// video or log): without any, a job has no studies or events.
	Grouped int `json:"grouped"`
	// Review holds the result lines of the images to review, in order, each
	// ending in a newline.
	Review []byte `json:"-"`
}

// Encode returns the stats as stored: one JSON line, then the review lines.
func (s *BatchStats) Encode() ([]byte, error) {
	head, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(append(head, '\n'), s.Review...), nil
}

// DecodeBatchStats reads what Encode wrote.
func DecodeBatchStats(data []byte) (*BatchStats, error) {
	head, review, _ := bytes.Cut(data, []byte("\n"))
	s := NewBatchStats()
	if err := json.Unmarshal(head, s); err != nil {
		return nil, err
	}
	s.Review = review
	if n := bytes.Count(review, []byte("\n")); n != s.ReviewCount {
		return nil, fmt.Errorf("%d review lines, the stats say %d", n, s.ReviewCount)
	}
	return s, nil
}

// NewBatchStats returns empty stats.
func NewBatchStats() *BatchStats {
	return &BatchStats{ErrorReasons: map[string]int{}, Classes: map[string]int{}, Samplers: map[string]int{},
		Models: map[string]int{}, Providers: map[string]int{}}
}

// Add counts one record; line is its JSON line in the results. Failed
// images and those the rule flags go to review.
func (s *BatchStats) Add(r Record, line []byte, rule ReviewRule) {
	s.Images++
	if r.StudyUID != "" || r.T != nil {
		s.Grouped++
	}
	s.NFE += r.NFE
	s.Models[r.ModelSHA256]++
	s.Providers[r.Provider]++
	if r.Error != "" || rule.Wants(r) {
		s.ReviewCount++
		s.Review = append(append(s.Review, bytes.TrimSpace(line)...), '\n')
	}
	if r.Error != "" {
		s.Errors++
		s.ErrorReasons[r.ErrorReason]++
		return
	}
	s.Classified++
	s.Classes[r.Class]++
	name := fmt.Sprintf("%s T=%d", r.Sampler, r.Steps)
	if r.Chains > 0 {
		name += fmt.Sprintf(" N=%d", r.Chains)
	}
	s.Samplers[name]++
	s.EntropyNormHistogram[min(9, max(0, int(r.EntropyNorm*10)))]++
	s.MaxProbs = append(s.MaxProbs, r.MaxProb)
	s.EntropyNormSum += r.EntropyNorm
}

// statsFromResults recomputes a batch's stats from its results, for a batch
// whose stats object is missing (written by an older worker).
func statsFromResults(ctx context.Context, store *jobs.Store, i int, rule ReviewRule) (*BatchStats, error) {
	data, err := store.ReadResults(ctx, i)
	if err != nil {
		return nil, err
	}
	st := NewBatchStats()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("parse %s: %w", store.Layout().Results(i), err)
		}
		st.Add(r, sc.Bytes(), rule)
	}
	return st, sc.Err()
}

// batchStats reads batch i's stats, or recounts them from its results.
func batchStats(ctx context.Context, store *jobs.Store, i int, rule ReviewRule) (*BatchStats, error) {
	data, err := store.ReadStats(ctx, i)
	if errors.Is(err, storage.ErrNotFound) {
		return statsFromResults(ctx, store, i, rule)
	}
	if err != nil {
		return nil, err
	}
	st, err := DecodeBatchStats(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", store.Layout().Stats(i), err)
	}
	return st, nil
}

// Finish writes summary.json and review.jsonl if every batch of the job has
// results; it reports whether it did. Writing twice (two workers finishing
// the last batches together) gives the same content. The worker then writes
// report.html (package report) from the summary.
func Finish(ctx context.Context, store *jobs.Store, spec jobs.Spec) (bool, error) {
	man, err := store.ReadManifest(ctx)
	if err != nil {
		return false, err
	}
	done, err := store.DoneBatches(ctx)
	if err != nil {
		return false, err
	}
	if len(done) < len(man.Batches) {
		return false, nil
	}
	s := Summary{JobID: spec.ID, Files: cmp.Or(man.Files, man.Images), ErrorReasons: map[string]int{}, Classes: map[string]int{},
		Samplers: map[string]int{}, Models: map[string]int{}, Providers: map[string]int{},
		ReviewThreshold: spec.ReviewThreshold, Started: man.Created}
	for i := range s.EntropyNormBinEdges {
		s.EntropyNormBinEdges[i] = float64(i) / 10
	}
	err = store.StreamSummary(ctx, func(review io.Writer) (any, error) {
		if err := s.mergeBatches(ctx, store, len(man.Batches), RuleOf(spec), review); err != nil {
			return nil, err
		}
		s.finishTimes(man, done)
		if plan, err := store.ReadPlan(ctx); err == nil {
			s.Plan = plan
		}
		return s, nil
	})
	return err == nil, err
}

// finishTimes sets when the job finished and its working rate, from the
// times its batches' results were written.
func (s *Summary) finishTimes(man jobs.Manifest, done map[int]time.Time) {
	var last time.Time
	finished := map[time.Time]int{}
	for i, t := range done {
		if i < len(man.Batches) {
			finished[t] += man.Batches[i]
		}
		if t.After(last) {
			last = t
		}
	}
	s.Finished = last.UTC().Format(time.RFC3339)
	if start, err := time.Parse(time.RFC3339, man.Created); err == nil {
		var working time.Duration
		s.ImagesPerSec, working = workingRate(start, finished)
		s.WorkingSeconds = working.Seconds()
	}
}

// mergeBatches adds every batch's stats to s and writes their review lines
// to review. It holds one batch's stats at a time: max_prob quantiles come
// from a fixed histogram (probBins), not from every record's value.
func (s *Summary) mergeBatches(ctx context.Context, store *jobs.Store, batches int, rule ReviewRule, review io.Writer) error {
	var hist probHistogram
	var entSum float64
	for i := range batches {
		st, err := batchStats(ctx, store, i, rule)
		if err != nil {
			return fmt.Errorf("batch %d stats: %w", i, err)
		}
		s.merge(st)
		hist.add(st.MaxProbs)
		entSum += st.EntropyNormSum
		s.Review += st.ReviewCount
		if _, err := review.Write(st.Review); err != nil {
			return err
		}
	}
	if s.Classified > 0 {
		s.MeanEntropyNorm = entSum / float64(s.Classified)
		s.MaxProbQuantiles = map[string]float64{"p10": hist.quantile(0.1), "p50": hist.quantile(0.5), "p90": hist.quantile(0.9)}
	}
	return nil
}

// probBins is the resolution of the summary's max_prob quantiles.
const probBins = 10_000

// probHistogram counts probabilities in probBins equal bins of [0, 1].
type probHistogram struct {
	n    int
	bins [probBins + 1]int
}

func (h *probHistogram) add(ps []float64) {
	for _, p := range ps {
		h.bins[min(probBins, max(0, int(p*probBins)))]++
	}
	h.n += len(ps)
}

// quantile is the q-quantile as the order statistic at q×(n−1), reported
// as its bin's lower edge: within 1/probBins below the exact value.
func (h *probHistogram) quantile(q float64) float64 {
	rank := int(q * float64(h.n-1))
	seen := 0
	for b, c := range h.bins {
		if seen += c; seen > rank {
			return float64(b) / probBins
		}
	}
	return 1
}

func (s *Summary) merge(b *BatchStats) {
	s.Images += b.Images
	s.Grouped += b.Grouped
	s.Classified += b.Classified
	s.Errors += b.Errors
	s.NFE += b.NFE
	for i, n := range b.EntropyNormHistogram {
		s.EntropyNormHistogram[i] += n
	}
	for dst, src := range map[*map[string]int]map[string]int{&s.ErrorReasons: b.ErrorReasons, &s.Classes: b.Classes,
		&s.Samplers: b.Samplers, &s.Models: b.Models, &s.Providers: b.Providers} {
		for k, n := range src {
			(*dst)[k] += n
		}
	}
}
