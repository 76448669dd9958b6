// Package workers runs batches: an Asynq server whose handler reads a batch's
// manifest, fetches and decodes its images while the model scores the
// previous micro-batch, writes one result record per image, keeps the job's
// failure list, and writes the job summary after the last batch.
package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/storage"
)

// Model is the loaded model a processor runs (ort.Model satisfies it).
type Model interface {
	classify.Model
	Identity() (sha256, ortVersion, provider string)
}

// Processor handles TypeBatch tasks. One model, loaded once per process.
type Processor struct {
	Model Model
	// MemoryBudget feeds the planner for sampler "auto". Zero means 2 GiB.
	MemoryBudget int64
	// ActivationBytes is the model's probed memory per row (0: planner default).
	ActivationBytes int64
	// MaxMicroBatch caps the images per model call (CP), which is also the
	// chunk fetched and decoded while the previous one is scored. Zero means
	// 64: on this CPU model throughput is flat from 32 to 256 rows, and
	// smaller chunks overlap better; GPUs want larger calls.
	MaxMicroBatch int
	// DecodeWorkers bounds concurrent decoding. Zero means GOMAXPROCS.
	DecodeWorkers int
	// OpenBucket opens storage by URL. Nil means storage.Open.
	OpenBucket func(ctx context.Context, url string) (*storage.Bucket, error)
	// Counter says when a job may be complete (Serve sets it). Nil means
	// list the output bucket after every batch.
	Counter *pipeline.BatchCounter
	// Name identifies this worker in failure records.
	Name    string
	Log     *slog.Logger
	Metrics *Metrics

	mu      sync.Mutex
	buckets map[string]*storage.Bucket
	specs   map[string]jobs.Spec // by jobKey
	batches map[string]int       // by jobKey: batches in the manifest
}

var _ asynq.Handler = (*Processor)(nil)

// ProcessTask runs one batch. See jobs.TypeBatch for the retry contract.
func (p *Processor) ProcessTask(ctx context.Context, t *asynq.Task) error {
	b, err := jobs.ParseTask(t)
	if err != nil {
		p.Metrics.Batches.WithLabelValues("failed").Inc()
		return err // cannot even say which job: Asynq archives it
	}
	err = p.run(ctx, b)
	if err == nil {
		p.Metrics.Batches.WithLabelValues("ok").Inc()
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := errors.Is(err, asynq.SkipRetry) || retried >= maxRetry
	if final {
		p.Metrics.Batches.WithLabelValues("failed").Inc()
		if ferr := p.recordFailure(b, err, retried+1); ferr != nil {
			err = errors.Join(err, ferr)
		}
	} else {
		p.Metrics.Batches.WithLabelValues("retry").Inc()
	}
	return fmt.Errorf("job %s batch %d (attempt %d of %d): %w", b.JobID, b.Index, retried+1, maxRetry+1, err)
}

func (p *Processor) run(ctx context.Context, b jobs.Batch) error {
	p.Log.Debug("batch start", "job", b.JobID, "batch", b.Index, "worker", p.Name)
	out, err := p.bucket(ctx, b.OutputURL)
	if err != nil {
		return err
	}
	lay, err := jobs.NewLayout(b.OutputPrefix, b.JobID)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	spec, err := p.spec(ctx, b.OutputURL, out, lay)
	if err != nil {
		return err
	}
	sha, ver, provider := p.Model.Identity()
	if spec.ModelSHA256 != "" && spec.ModelSHA256 != sha {
		return fmt.Errorf("job wants model %s, this worker has %s: %w", spec.ModelSHA256, sha, asynq.SkipRetry)
	}
	var keys []string
	if err := readJSON(ctx, out, lay.ManifestBatch(b.Index), &keys); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			err = fmt.Errorf("%v: %w", err, asynq.SkipRetry)
		}
		return err
	}
	in, err := p.bucket(ctx, spec.InputURL)
	if err != nil {
		return err
	}
	eng, decision, err := p.engine(spec, len(keys))
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	stats := pipeline.NewBatchStats()
	var fetchErr error
	var fetchMu sync.Mutex
	chunk := eng.Options().MicroBatch // images per model call (CP, softmax)
	if eng.Options().Sampler == "cl" {
		chunk = max(1, chunk/spec.Chains) // CL's micro-batch counts chain rows
	}
	timings, err := eng.Stream(ctx, len(keys), chunk, func(ctx context.Context, i int) classify.Item {
		data, err := in.Read(ctx, keys[i], spec.MaxBytes)
		if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrTooLarge) {
			fetchMu.Lock() // a storage fault, not a property of the image: retry the batch
			fetchErr = errors.Join(fetchErr, err)
			fetchMu.Unlock()
		}
		return classify.Item{Key: keys[i], Data: data, Err: err}
	}, func(r classify.Record) error {
		if r.Error == "" {
			p.Metrics.Images.WithLabelValues("ok").Inc()
		} else {
			p.Metrics.Images.WithLabelValues("error").Inc()
		}
		p.Metrics.NFE.Add(float64(r.NFE))
		rec := pipeline.Record{Record: r, Job: b.JobID, Batch: b.Index, ModelSHA256: sha, ORTVersion: ver, Provider: provider}
		from := buf.Len()
		if err := enc.Encode(rec); err != nil {
			return err
		}
		stats.Add(rec, buf.Bytes()[from:], spec.ReviewThreshold)
		return nil
	})
	if err == nil {
		err = fetchErr
	}
	if err != nil {
		return err
	}
	p.Metrics.Stage.WithLabelValues("fetch").Observe(timings.Fetch.Seconds())
	p.Metrics.Stage.WithLabelValues("prepare").Observe(timings.Prepare.Seconds())
	p.Metrics.Stage.WithLabelValues("score").Observe(timings.Score.Seconds())
	start := time.Now()
	// Stats first: results are what marks the batch done.
	statsData, err := stats.Encode()
	if err != nil {
		return err
	}
	if err := out.Write(ctx, lay.Stats(b.Index), statsData, "application/x-ndjson"); err != nil {
		return err
	}
	if err := out.Write(ctx, lay.Results(b.Index), buf.Bytes(), "application/x-ndjson"); err != nil {
		return err
	}
	p.Metrics.Stage.WithLabelValues("write").Observe(time.Since(start).Seconds())
	if err := out.Delete(ctx, lay.Failure(b.Index)); err != nil {
		p.Log.Warn("remove stale failure entry", "job", b.JobID, "batch", b.Index, "err", err)
	}
	p.Log.Debug("batch done", "job", b.JobID, "batch", b.Index, "images", len(keys), "worker", p.Name,
		"fetch", timings.Fetch, "prepare", timings.Prepare, "score", timings.Score)
	p.writePlanOnce(ctx, out, lay, decision)
	if !p.mayBeComplete(ctx, b, out, lay) {
		return nil
	}
	wrote, err := pipeline.Finish(ctx, out, lay, spec)
	if err != nil {
		p.Log.Warn("job summary", "job", b.JobID, "err", err) // the batch itself is done
	} else if wrote {
		p.Log.Info("job finished", "job", b.JobID, "summary", lay.Summary())
	}
	return nil
}

// mayBeComplete counts the batch and says whether the job may be complete;
// when the count cannot be had, it says yes and Finish lists the bucket.
func (p *Processor) mayBeComplete(ctx context.Context, b jobs.Batch, out *storage.Bucket, lay jobs.Layout) bool {
	if p.Counter == nil {
		return true
	}
	key := jobKey(b.OutputURL, lay)
	p.mu.Lock()
	total, ok := p.batches[key]
	p.mu.Unlock()
	if !ok {
		var man jobs.Manifest
		if err := readJSON(ctx, out, lay.Manifest(), &man); err != nil {
			p.Log.Warn("read manifest for the batch count", "job", b.JobID, "err", err)
			return true
		}
		total = len(man.Batches)
		p.mu.Lock()
		if p.batches == nil {
			p.batches = map[string]int{}
		}
		p.batches[key] = total
		p.mu.Unlock()
	}
	all, err := p.Counter.Done(ctx, b.OutputURL, out, lay, total)
	if err != nil {
		p.Log.Warn("count finished batches; listing the bucket instead", "job", b.JobID, "err", err)
		return true
	}
	return all
}

// engine builds the classify engine for a job: the spec's sampler, or the
// planner's choice for "auto".
func (p *Processor) engine(spec jobs.Spec, images int) (*classify.Engine, *plan.Plan, error) {
	opts := classify.Options{Sampler: spec.Sampler, Steps: spec.Steps, Chains: spec.Chains, Seed: spec.Seed,
		DecodeWorkers: p.DecodeWorkers}
	if spec.Posterior == "top-k" {
		opts.TopK = spec.TopK
	}
	meta := p.Model.Metadata()
	var decision *plan.Plan
	if meta.Kind == "score" {
		d, err := plan.Decide(plan.Request{NumClasses: meta.NumClasses(), Images: images, Steps: spec.Steps,
			Chains: spec.Chains, Budget: p.MemoryBudget, ActivationBytes: p.ActivationBytes,
			InputBytes: int64(4 * meta.InputSize()), Force: spec.Sampler, MaxMicroBatch: p.maxMicroBatch(spec)})
		if err != nil {
			return nil, nil, err
		}
		opts.Sampler, opts.MicroBatch, decision = d.Sampler, d.MicroBatch, &d
	}
	eng, err := classify.New(p.Model, opts)
	return eng, decision, err
}

func (p *Processor) maxMicroBatch(spec jobs.Spec) int {
	m := p.MaxMicroBatch
	if m <= 0 {
		m = 64
	}
	if spec.Sampler == "cl" {
		m *= spec.Chains // CL's micro-batch counts chain rows
	}
	return m
}

func (p *Processor) writePlanOnce(ctx context.Context, out *storage.Bucket, lay jobs.Layout, d *plan.Plan) {
	if d == nil {
		return
	}
	if ok, err := out.Exists(ctx, lay.Plan()); err != nil || ok {
		return
	}
	data, _ := json.MarshalIndent(map[string]any{"worker": p.Name, "sampler": d.Sampler, "micro_batch": d.MicroBatch,
		"steps": d.Steps, "chains": d.Chains, "nfe_per_image": d.NFE, "reasons": d.Reasons, "costs": d.Costs,
		"budget_bytes": d.Request.Budget, "activation_bytes": d.Request.ActivationBytes}, "", " ")
	if err := out.Write(ctx, lay.Plan(), data, "application/json"); err != nil {
		p.Log.Warn("write plan", "err", err)
	}
}

func (p *Processor) recordFailure(b jobs.Batch, cause error, attempts int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // the task's ctx may be done
	defer cancel()
	out, err := p.bucket(ctx, b.OutputURL)
	if err != nil {
		return err
	}
	lay, err := jobs.NewLayout(b.OutputPrefix, b.JobID)
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(jobs.Failure{Batch: b.Index, Error: cause.Error(), Attempts: attempts, Final: true,
		Time: time.Now().UTC().Format(time.RFC3339), Worker: p.Name}, "", " ")
	return out.Write(ctx, lay.Failure(b.Index), data, "application/json")
}

func (p *Processor) bucket(ctx context.Context, url string) (*storage.Bucket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.buckets[url]; ok {
		return b, nil
	}
	open := p.OpenBucket
	if open == nil {
		open = storage.Open
	}
	b, err := open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, asynq.SkipRetry) // a malformed URL stays malformed
	}
	if p.buckets == nil {
		p.buckets = map[string]*storage.Bucket{}
	}
	p.buckets[url] = b
	return b, nil
}

func (p *Processor) spec(ctx context.Context, url string, out *storage.Bucket, lay jobs.Layout) (jobs.Spec, error) {
	key := jobKey(url, lay)
	p.mu.Lock()
	s, ok := p.specs[key]
	p.mu.Unlock()
	if ok {
		return s, nil
	}
	if err := readJSON(ctx, out, lay.Spec(), &s); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			err = fmt.Errorf("%v: %w", err, asynq.SkipRetry)
		}
		return s, err
	}
	if err := s.Validate(); err != nil { // validated on both ends: the bucket may hold anything
		return s, fmt.Errorf("%s: %v: %w", lay.Spec(), err, asynq.SkipRetry)
	}
	p.mu.Lock()
	if p.specs == nil {
		p.specs = map[string]jobs.Spec{}
	}
	p.specs[key] = s
	p.mu.Unlock()
	return s, nil
}

// jobKey names a job across buckets: two buckets may hold the same prefix and ID.
func jobKey(outputURL string, lay jobs.Layout) string { return outputURL + "\x00" + lay.Root }

// Close releases the buckets.
func (p *Processor) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.buckets {
		b.Close()
	}
}

func readJSON(ctx context.Context, b *storage.Bucket, key string, v any) error {
	data, err := b.Read(ctx, key, 0)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// DefaultName is host-pid.
func DefaultName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

var _ Model = (*ort.Model)(nil)
