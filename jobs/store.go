package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/didicm/didicm/storage"
)

// ErrMalformed marks a job object that is there but does not parse or
// validate: reading it again gives the same answer.
var ErrMalformed = errors.New("malformed job object")

// ErrParquetResults marks a batch whose results are Parquet where JSON Lines
// were wanted (such as recounting a batch's stats from its records).
var ErrParquetResults = errors.New("results are in Parquet")

// Ref locates a job: its output bucket, the folder in it, and its ID. It is
// everything a command needs to find a job's objects.
type Ref struct {
	OutputURL string
	Prefix    string
	ID        string
}

// Key names the job across buckets: two buckets may hold the same prefix and
// ID, so the bucket URL is part of it. Use it for caches and Redis keys.
func (r Ref) Key() string {
	root, _ := storage.Join(r.Prefix, r.ID)
	return r.OutputURL + "\x00" + root
}

// RefOf returns the job of a batch task.
func RefOf(b Batch) Ref { return Ref{OutputURL: b.OutputURL, Prefix: b.OutputPrefix, ID: b.JobID} }

// Store owns a job's objects in its output bucket. Producer, worker, status
// and retry read and write a job only through it, so the layout (Layout) is
// known in one place.
type Store struct {
	Ref    Ref
	bucket *storage.Bucket
	lay    Layout
	owned  bool
}

// OpenStore opens the job's output bucket; Close closes it.
func OpenStore(ctx context.Context, ref Ref) (*Store, error) {
	lay, err := NewLayout(ref.Prefix, ref.ID)
	if err != nil {
		return nil, err
	}
	b, err := storage.Open(ctx, ref.OutputURL)
	if err != nil {
		return nil, err
	}
	return &Store{Ref: ref, bucket: b, lay: lay, owned: true}, nil
}

// NewStore is a store on a bucket the caller keeps open (a worker shares one
// bucket between the jobs in it); Close leaves the bucket open.
func NewStore(b *storage.Bucket, ref Ref) (*Store, error) {
	lay, err := NewLayout(ref.Prefix, ref.ID)
	if err != nil {
		return nil, err
	}
	return &Store{Ref: ref, bucket: b, lay: lay}, nil
}

// Close closes the bucket if the store opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.bucket.Close()
	}
	return nil
}

// Layout is where the store keeps each object.
func (s *Store) Layout() Layout { return s.lay }

// ReadSpec reads and validates spec.json (the bucket may hold anything).
func (s *Store) ReadSpec(ctx context.Context) (Spec, error) {
	var spec Spec
	if err := s.readJSON(ctx, s.lay.Spec(), &spec); err != nil {
		return spec, err
	}
	if err := spec.Validate(); err != nil {
		return spec, fmt.Errorf("%s: %w (%w)", s.lay.Spec(), err, ErrMalformed)
	}
	return spec, nil
}

// WriteSpec writes spec.json.
func (s *Store) WriteSpec(ctx context.Context, spec Spec) error {
	return s.writeJSON(ctx, s.lay.Spec(), spec)
}

// ReadManifest reads manifest.json; storage.ErrNotFound means no snapshot yet.
func (s *Store) ReadManifest(ctx context.Context) (Manifest, error) {
	var m Manifest
	return m, s.readJSON(ctx, s.lay.Manifest(), &m)
}

// WriteManifest writes manifest.json: its presence marks the snapshot complete.
func (s *Store) WriteManifest(ctx context.Context, m Manifest) error {
	return s.writeJSON(ctx, s.lay.Manifest(), m)
}

// ReadBatchKeys reads the input keys of batch i.
func (s *Store) ReadBatchKeys(ctx context.Context, i int) ([]string, error) {
	var keys []string
	return keys, s.readJSON(ctx, s.lay.ManifestBatch(i), &keys)
}

// WriteBatchKeys writes the input keys of batch i.
func (s *Store) WriteBatchKeys(ctx context.Context, i int, keys []string) error {
	return s.writeJSON(ctx, s.lay.ManifestBatch(i), keys)
}

// DeleteBatchKeysFrom removes the batch manifests numbered n and up: what
// an interrupted snapshot left beyond a complete snapshot of n batches
// (whose index says n, so they were never read).
func (s *Store) DeleteBatchKeysFrom(ctx context.Context, n int) error {
	objs, err := s.bucket.List(ctx, s.lay.ManifestDir(), storage.Filter{})
	if err != nil {
		return err
	}
	for _, o := range objs {
		if i, ok := BatchIndex(o.Key); ok && i >= n && o.Key == s.lay.ManifestBatch(i) {
			if err := s.bucket.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// producerKey is the metadata entry of a results object naming what made it.
const producerKey = "didicm-producer"

// WriteResults writes batch i's records (JSON Lines), the mark that it is
// done, stamped with their producer (see ResultsProducer).
func (s *Store) WriteResults(ctx context.Context, i int, data []byte, producer string) error {
	return s.WriteResultsAs(ctx, i, FormatJSONL, data, producer)
}

// resultsContentType is the content type of each results format.
var resultsContentType = map[string]string{
	"":            "application/x-ndjson",
	FormatJSONL:   "application/x-ndjson",
	FormatParquet: "application/vnd.apache.parquet",
}

// WriteResultsAs writes batch i's results encoded in format (a Spec.Format:
// jsonl, empty or parquet) under the key the layout gives that format,
// stamped with their producer (see ResultsProducerAs).
func (s *Store) WriteResultsAs(ctx context.Context, i int, format string, data []byte, producer string) error {
	ct, ok := resultsContentType[format]
	if !ok {
		return fmt.Errorf("results format %q: want jsonl or parquet", format)
	}
	return s.bucket.WriteWithMetadata(ctx, s.lay.ResultsAs(i, format), data, ct, map[string]string{producerKey: producer})
}

// ResultsProducer reads, in one metadata request, what made batch i's
// JSON Lines results; storage.ErrNotFound means the batch has none.
func (s *Store) ResultsProducer(ctx context.Context, i int) (string, error) {
	return s.ResultsProducerAs(ctx, i, FormatJSONL)
}

// ResultsProducerAs reads, in one metadata request, what made batch i's
// results in format; storage.ErrNotFound means the batch has none in it.
func (s *Store) ResultsProducerAs(ctx context.Context, i int, format string) (string, error) {
	md, err := s.bucket.Metadata(ctx, s.lay.ResultsAs(i, format))
	return md[producerKey], err
}

// ReadResults reads batch i's JSON Lines records. A batch whose results are
// Parquet is an error saying so (callers that parse records want JSON Lines;
// ReadResultsAs reads the Parquet file).
func (s *Store) ReadResults(ctx context.Context, i int) ([]byte, error) {
	data, err := s.bucket.Read(ctx, s.lay.Results(i), 0)
	if errors.Is(err, storage.ErrNotFound) {
		if ok, _ := s.bucket.Exists(ctx, s.lay.ResultsAs(i, FormatParquet)); ok {
			return nil, fmt.Errorf("batch %d: results are Parquet (%s), not JSON Lines: %w",
				i, s.lay.ResultsAs(i, FormatParquet), ErrParquetResults)
		}
	}
	return data, err
}

// ReadResultsAs reads batch i's results in format as stored.
func (s *Store) ReadResultsAs(ctx context.Context, i int, format string) ([]byte, error) {
	return s.bucket.Read(ctx, s.lay.ResultsAs(i, format), 0)
}

// DoneBatches lists the batches with results (JSON Lines or Parquet), each
// with its results' time.
func (s *Store) DoneBatches(ctx context.Context) (map[int]time.Time, error) {
	objs, err := s.bucket.List(ctx, s.lay.ResultsDir(), storage.Filter{})
	if err != nil {
		return nil, err
	}
	done := make(map[int]time.Time, len(objs))
	for _, o := range objs {
		if i, ok := BatchIndex(o.Key); ok {
			done[i] = o.ModTime
		}
	}
	return done, nil
}

// WriteStats writes batch i's share of the summary; the worker writes it
// just before the batch's results.
func (s *Store) WriteStats(ctx context.Context, i int, data []byte) error {
	return s.bucket.Write(ctx, s.lay.Stats(i), data, "application/x-ndjson")
}

// ReadStats reads batch i's share of the summary.
func (s *Store) ReadStats(ctx context.Context, i int) ([]byte, error) {
	return s.bucket.Read(ctx, s.lay.Stats(i), 0)
}

// WriteFailure adds a batch to the job's failure list.
func (s *Store) WriteFailure(ctx context.Context, f Failure) error {
	return s.writeJSON(ctx, s.lay.Failure(f.Batch), f)
}

// DeleteFailure takes batch i off the failure list (absent is fine).
func (s *Store) DeleteFailure(ctx context.Context, i int) error {
	return s.bucket.Delete(ctx, s.lay.Failure(i))
}

// Failures reads the job's failure list.
func (s *Store) Failures(ctx context.Context) ([]Failure, error) {
	objs, err := s.bucket.List(ctx, s.lay.FailuresDir(), storage.Filter{})
	if err != nil {
		return nil, err
	}
	var fs []Failure
	for _, o := range objs {
		var f Failure
		if err := s.readJSON(ctx, o.Key, &f); err != nil {
			if errors.Is(err, storage.ErrNotFound) { // removed since the listing
				continue
			}
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// WritePlanOnce writes plan.json unless it exists; it reports whether it wrote.
func (s *Store) WritePlanOnce(ctx context.Context, plan any) (bool, error) {
	if ok, err := s.bucket.Exists(ctx, s.lay.Plan()); err != nil || ok {
		return false, err
	}
	return true, s.writeJSON(ctx, s.lay.Plan(), plan)
}

// ReadPlan returns plan.json as stored.
func (s *Store) ReadPlan(ctx context.Context) ([]byte, error) {
	return s.bucket.Read(ctx, s.lay.Plan(), 0)
}

// WriteSummary writes review.jsonl and then summary.json (whose presence
// marks the job summarised).
func (s *Store) WriteSummary(ctx context.Context, summary any, review []byte) error {
	return s.StreamSummary(ctx, func(w io.Writer) (any, error) {
		_, err := w.Write(review)
		return summary, err
	})
}

// StreamSummary writes review.jsonl as write produces it (the lines of a
// large job never sit in memory together), then the summary that write
// returns as summary.json, whose presence marks the job summarised.
func (s *Store) StreamSummary(ctx context.Context, write func(review io.Writer) (summary any, err error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // an unfinished review.jsonl is never published
	w, err := s.bucket.NewWriter(ctx, s.lay.Review(), "application/x-ndjson")
	if err != nil {
		return err
	}
	summary, err := write(w)
	if err != nil {
		cancel()
		_ = w.Close() // discards the partial object: its error says only that
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return s.writeJSON(ctx, s.lay.Summary(), summary)
}

// ReadSummary decodes summary.json into v.
func (s *Store) ReadSummary(ctx context.Context, v any) error {
	return s.readJSON(ctx, s.lay.Summary(), v)
}

// Summarized reports whether summary.json exists.
func (s *Store) Summarized(ctx context.Context) (bool, error) {
	return s.bucket.Exists(ctx, s.lay.Summary())
}

// WriteReport writes report.html, a self-contained page for people.
func (s *Store) WriteReport(ctx context.Context, html []byte) error {
	return s.bucket.Write(ctx, s.lay.Report(), html, "text/html; charset=utf-8")
}

// ReadReport reads report.html; storage.ErrNotFound means none was written.
func (s *Store) ReadReport(ctx context.Context) ([]byte, error) {
	return s.bucket.Read(ctx, s.lay.Report(), 0)
}

func (s *Store) writeJSON(ctx context.Context, key string, v any) error {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return s.bucket.Write(ctx, key, data, "application/json")
}

func (s *Store) readJSON(ctx context.Context, key string, v any) error {
	data, err := s.bucket.Read(ctx, key, 0)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w (%w)", key, err, ErrMalformed)
	}
	return nil
}
