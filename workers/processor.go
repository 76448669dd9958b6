// Package workers runs batches: an Asynq server whose handler reads a batch's
// manifest, fetches and decodes its images while the model scores the
// previous micro-batch, writes one result record per image, keeps the job's
// failure list, and writes the job summary after the last batch.
package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/report"
	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/source"
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
	// MaxImagesPerCall caps the images per model call, which is also the
	// chunk fetched and decoded while the previous one is scored (CL calls
	// hold this many images times the chains). Zero means
	// DefaultMaxImagesPerCall.
	MaxImagesPerCall int
	// DecodeWorkers bounds concurrent decoding. Zero means GOMAXPROCS.
	DecodeWorkers int
	// Limits bound decoding; share one Budget between all batches. Each
	// job's max_bytes replaces MaxBytes. Zero values are imaging's defaults.
	Limits imaging.Limits
	// MaxFrames is the most images one file (or part of a video or log)
	// gives (imaging.Sampling). Zero means imaging.DefaultMaxFrames.
	MaxFrames int
	// OpenBucket opens storage by URL. Nil means storage.Open.
	OpenBucket func(ctx context.Context, url string) (*storage.Bucket, error)
	// Tracker keeps each job's finished batches and failure list in Redis.
	// Nil means list the output bucket after every batch, and keep failures
	// in the bucket only.
	Tracker *pipeline.Tracker
	// Outputs are written when a job finishes, after its report (for
	// instance dicomsr's structured reports). Nil means none.
	Outputs []output.Writer
	// OutputsFor gives the writers a job asks for in its spec (its DICOM
	// structured reports), run after Outputs; nil means none.
	OutputsFor func(jobs.Spec) ([]output.Writer, error)
	// Name identifies this worker in failure records.
	Name    string
	Log     *slog.Logger
	Metrics *Metrics

	mu      sync.Mutex
	buckets map[string]*storage.Bucket
	sources map[string]source.Source // inputs, by URL
	jobs    map[string]*openJob      // by jobs.Ref.Key
}

// DefaultMaxImagesPerCall is the images per model call when
// Processor.MaxImagesPerCall is zero: on the shipped model's CPU runs
// throughput is flat from 32 to 256 rows and smaller chunks overlap decoding
// better (docs/benchmarks.md); GPUs want larger calls.
const DefaultMaxImagesPerCall = sampler.DefaultMicroBatch

// openJob is what a worker keeps of a job between its batches.
type openJob struct {
	store    *jobs.Store
	spec     jobs.Spec
	producer string // what this worker's results of the job are stamped with
	batches  int    // in the manifest; 0 until read
	started  int64  // batches of the job this worker started, for the lost-batch watch
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
	p.Log.Warn("batch attempt failed", "job", b.JobID, "batch", b.Index, "attempt", retried+1, "of", maxRetry+1,
		"final", final, "worker", p.Name, "err", err)
	return fmt.Errorf("job %s batch %d (attempt %d of %d): %w", b.JobID, b.Index, retried+1, maxRetry+1, err)
}

// run is one batch: load it, score it, store it, and finish the job if it
// was the last.
func (p *Processor) run(ctx context.Context, b jobs.Batch) error {
	p.Log.Debug("batch start", "job", b.JobID, "batch", b.Index, "worker", p.Name)
	job, err := p.job(ctx, jobs.RefOf(b))
	if err != nil {
		return err
	}
	if prod, err := job.store.ResultsProducerAs(ctx, b.Index, job.spec.Format); err == nil && prod == job.producer {
		// Delivered again (lease recovery after a crash, or Asynq redoing a
		// batch it could not mark done during a Redis outage): the results
		// are there, from this spec and model. Acknowledge without scoring.
		p.Log.Info("batch already done; acknowledged", "job", b.JobID, "batch", b.Index, "worker", p.Name)
		p.Metrics.Batches.WithLabelValues("duplicate").Inc()
		p.maybeFinish(ctx, job, b.Index)
		return nil
	}
	keys, err := job.store.ReadBatchKeys(ctx, b.Index)
	if errors.Is(err, storage.ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	res, err := p.score(ctx, job.spec, b, keys)
	if err != nil {
		return err
	}
	if err := p.store(ctx, job, b.Index, res); err != nil {
		return err
	}
	p.Log.Debug("batch done", "job", b.JobID, "batch", b.Index, "images", len(keys), "worker", p.Name,
		"fetch", res.timings.Fetch, "prepare", res.timings.Prepare, "score", res.timings.Score)
	p.maybeFinish(ctx, job, b.Index)
	return nil
}

// scored is one batch's output before it is stored.
type scored struct {
	results []byte // one record per image: JSON Lines, or Parquet (spec format)
	stats   *pipeline.BatchStats
	timings classify.Timings
	plan    *plan.Plan // nil unless the planner chose
}

// score classifies the batch's images. An unreadable image is an error
// record; a storage fault fails the batch (it is retried).
func (p *Processor) score(ctx context.Context, spec jobs.Spec, b jobs.Batch, keys []string) (scored, error) {
	in, err := p.input(ctx, spec.InputURL)
	if err != nil {
		return scored{}, err
	}
	eng, decision, err := p.engine(spec, len(keys))
	if err != nil {
		return scored{}, jobs.Permanent(err)
	}
	sha, ver, provider := p.Model.Identity()
	buf := lines{total: len(keys)}
	var pq *pipeline.ParquetResults // Parquet results: buf holds only the record being added
	if spec.Format == jobs.FormatParquet {
		pq = pipeline.NewParquetResults(spec, p.Model.Metadata().ClassNames, len(keys))
		buf.total = 1
	}
	out := scored{stats: pipeline.NewBatchStats(), plan: decision}
	rule := pipeline.RuleOf(spec)
	var fetchErr error
	var fetchMu sync.Mutex
	chunk := eng.Options().MicroBatch // images per model call (CP, softmax)
	if eng.Options().Sampler == "cl" {
		chunk = max(1, chunk/spec.Chains) // CL's micro-batch counts chain rows
	}
	out.timings, err = eng.Stream(ctx, len(keys), chunk, func(ctx context.Context, i int) classify.Item {
		it := fetch(ctx, in, spec, keys[i])
		if err := it.Err; err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrTooLarge) {
			fetchMu.Lock() // a storage fault, not a property of the image: retry the batch
			fetchErr = errors.Join(fetchErr, err)
			fetchMu.Unlock()
		}
		return it
	}, func(r classify.Record) error {
		rec := pipeline.Record{Record: r, Job: b.JobID, Batch: b.Index, ModelSHA256: sha, ORTVersion: ver, Provider: provider}
		if pq != nil {
			pq.Add(rec)
			buf.b = buf.b[:0] // the JSON line is only the review line's source, copied by Add
		}
		line, err := buf.add(&rec)
		if err != nil {
			return err
		}
		out.stats.Add(rec, line, rule)
		return nil
	})
	if err == nil {
		err = fetchErr
	}
	out.results = buf.b
	if pq != nil && err == nil {
		out.results, err = pq.Encode()
	}
	return out, err
}

// lines is a batch's results as JSON Lines, in one buffer that is sized
// after the first line for all total: at K=10⁵ a line is over a megabyte,
// and growing the buffer by doubling would allocate and copy the batch's
// results twice more.
type lines struct {
	b     []byte
	total int // lines expected
	n     int // lines added
}

// add appends rec's line and returns it, newline included.
func (l *lines) add(rec *pipeline.Record) ([]byte, error) {
	from := len(l.b)
	b, err := rec.AppendJSON(l.b)
	if err != nil {
		return nil, err
	}
	l.b = append(b, '\n')
	if l.n++; l.n == 1 && l.total > 1 {
		l.b = slices.Grow(l.b, (l.total-1)*(len(l.b)-from)*9/8)
	}
	return l.b[from:], nil
}

// fetch reads a manifest entry: a file whole, up to the job's read limit;
// a part of a video or log, or a file above the limit, through range reads
// when the input is a bucket (imaging recognises videos and logs by content
// and refuses to read anything else in parts).
func fetch(ctx context.Context, in source.Source, spec jobs.Spec, entry string) classify.Item {
	k := recordkey.Of(entry) // jobs enqueued before entries had a form: object keys as listed
	if spec.EntryKeys {
		var err error
		if k, err = recordkey.Parse(entry); err != nil {
			return classify.Item{Key: entry, Err: jobs.Permanent(fmt.Errorf("manifest entry %q: %w", entry, err))}
		}
	}
	it := classify.Item{Key: k.String()}
	b, ranged := in.(*storage.Bucket)
	if ranged && k.Spanned {
		src, err := b.OpenRange(ctx, k.Object)
		it.Src, it.Err = src, err
		return it
	}
	it.Data, it.Err = in.Read(ctx, k.Object, spec.MaxBytes)
	if ranged && errors.Is(it.Err, storage.ErrTooLarge) {
		if src, err := b.OpenRange(ctx, k.Object); err == nil {
			it.Src, it.Err = src, nil
		}
	}
	return it
}

// store writes the batch's stats and then its results (which mark it done),
// takes it off the failure lists and records the plan of the job's first
// batch. Images count in the metrics once their results are stored.
func (p *Processor) store(ctx context.Context, job *openJob, i int, res scored) error {
	store := job.store
	p.Metrics.Stage.WithLabelValues("fetch").Observe(res.timings.Fetch.Seconds())
	p.Metrics.Stage.WithLabelValues("prepare").Observe(res.timings.Prepare.Seconds())
	p.Metrics.Stage.WithLabelValues("score").Observe(res.timings.Score.Seconds())
	start := time.Now()
	stats, err := res.stats.Encode()
	if err != nil {
		return err
	}
	if err := store.WriteStats(ctx, i, stats); err != nil {
		return err
	}
	if err := store.WriteResultsAs(ctx, i, job.spec.Format, res.results, job.producer); err != nil {
		return err
	}
	p.Metrics.Stage.WithLabelValues("write").Observe(time.Since(start).Seconds())
	p.Metrics.Images.WithLabelValues("ok").Add(float64(res.stats.Classified))
	p.Metrics.Images.WithLabelValues("error").Add(float64(res.stats.Errors))
	p.Metrics.NFE.Add(float64(res.stats.NFE))
	if p.Tracker != nil {
		if err := p.Tracker.ClearFailure(ctx, store.Ref, i); err != nil {
			p.Log.Warn("remove stale failure entry", "job", store.Ref.ID, "batch", i, "err", err)
		}
	}
	if err := store.DeleteFailure(ctx, i); err != nil {
		p.Log.Warn("remove stale failure entry", "job", store.Ref.ID, "batch", i, "err", err)
	}
	if res.plan != nil {
		if _, err := store.WritePlanOnce(ctx, planRecord(p.Name, res.plan)); err != nil {
			p.Log.Warn("write plan", "job", store.Ref.ID, "err", err)
		}
	}
	return nil
}

// maybeFinish writes the job's summary and report if this was its last
// batch. The batch itself is done whatever happens here.
func (p *Processor) maybeFinish(ctx context.Context, job *openJob, batch int) {
	if !p.mayBeComplete(ctx, job, batch) {
		return
	}
	p.finish(ctx, job)
}

// finish writes the job's summary and report if every batch has results.
func (p *Processor) finish(ctx context.Context, job *openJob) {
	wrote, err := pipeline.Finish(ctx, job.store, job.spec)
	if err != nil {
		p.Log.Warn("job summary", "job", job.spec.ID, "err", err)
		return
	}
	if !wrote {
		return
	}
	p.Log.Info("job finished", "job", job.spec.ID, "summary", job.store.Layout().Summary())
	p.writeGroups(ctx, job)
	if err := report.Write(ctx, job.store, report.Options{}); err != nil {
		p.Log.Warn("job report", "job", job.spec.ID, "err", err) // the summary stands
	}
	p.writeOutputs(ctx, job)
}

// mayBeComplete counts the batch and says whether the job may be complete;
// when the count cannot be had, it says yes and Finish lists the bucket.
func (p *Processor) mayBeComplete(ctx context.Context, job *openJob, batch int) bool {
	if p.Tracker == nil {
		return true
	}
	p.mu.Lock()
	total := job.batches
	p.mu.Unlock()
	if total == 0 {
		man, err := job.store.ReadManifest(ctx)
		if err != nil {
			p.Log.Warn("read manifest for the batch count", "job", job.spec.ID, "err", err)
			return true
		}
		total = len(man.Batches)
		p.mu.Lock()
		job.batches = total
		p.mu.Unlock()
	}
	all, err := p.Tracker.Done(ctx, job.store, batch, total)
	if err != nil {
		p.Log.Warn("count finished batches; listing the bucket instead", "job", job.spec.ID, "err", err)
		return true
	}
	return all
}

// engine builds the classify engine for a job: the spec's sampler, or the
// planner's choice for "auto".
func (p *Processor) engine(spec jobs.Spec, images int) (*classify.Engine, *plan.Plan, error) {
	lim := p.Limits
	lim.MaxBytes = spec.MaxBytes
	opts := classify.Options{Sampler: spec.Sampler, Steps: spec.Steps, Chains: spec.Chains, Seed: spec.Seed,
		Clamp: sampler.Clamp(spec.Clamp), Settle: spec.Settle, Calibration: spec.Calibration, DecodeWorkers: p.DecodeWorkers,
		Limits: lim, Sampling: imaging.Sampling{MaxFrames: p.MaxFrames, Every: spec.Sampling.Step(),
			KeyframesOnly: spec.Sampling.KeyframesOnly, Topics: spec.Sampling.Topics}}
	if spec.Posterior == "top-k" {
		opts.TopK = spec.TopK
	}
	meta := p.Model.Metadata()
	var decision *plan.Plan
	if meta.Kind == modelmeta.Score {
		d, err := plan.Decide(plan.Request{NumClasses: meta.NumClasses(), Images: images, Steps: spec.Steps,
			Chains: spec.Chains, Budget: p.MemoryBudget, ActivationBytes: p.ActivationBytes,
			InputBytes: int64(4 * meta.InputSize()), Force: spec.Sampler, MaxMicroBatch: p.maxRowsPerCall(spec)})
		if err != nil {
			return nil, nil, err
		}
		opts.Sampler, opts.MicroBatch, decision = d.Sampler, d.MicroBatch, &d
	}
	eng, err := classify.New(p.Model, opts)
	return eng, decision, err
}

// maxRowsPerCall is the planner's cap on rows per model call.
func (p *Processor) maxRowsPerCall(spec jobs.Spec) int {
	m := p.MaxImagesPerCall
	if m <= 0 {
		m = DefaultMaxImagesPerCall
	}
	if spec.Sampler == "cl" {
		m *= spec.Chains // CL's micro-batch counts chain rows
	}
	return m
}

// planRecord is plan.json: the sampler decision and who made it.
func planRecord(worker string, d *plan.Plan) map[string]any {
	return map[string]any{"worker": worker, "sampler": d.Sampler, "micro_batch": d.MicroBatch,
		"steps": d.Steps, "chains": d.Chains, "nfe_per_image": d.NFE, "reasons": d.Reasons, "costs": d.Costs,
		"budget_bytes": d.Request.Budget, "activation_bytes": d.Request.ActivationBytes}
}

func (p *Processor) recordFailure(b jobs.Batch, cause error, attempts int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // the task's ctx may be done
	defer cancel()
	out, err := p.bucket(ctx, b.OutputURL)
	if err != nil {
		return err
	}
	store, err := jobs.NewStore(out, jobs.RefOf(b))
	if err != nil {
		return err
	}
	f := jobs.Failure{Batch: b.Index, Error: cause.Error(), Attempts: attempts, Final: true,
		Time: time.Now().UTC().Format(time.RFC3339), Worker: p.Name}
	var terr error
	if p.Tracker != nil { // first: it survives a bucket that cannot be written
		terr = p.Tracker.RecordFailure(ctx, store.Ref, f)
	}
	return errors.Join(terr, store.WriteFailure(ctx, f))
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
		return nil, jobs.Permanent(err) // a malformed URL stays malformed
	}
	if p.buckets == nil {
		p.buckets = map[string]*storage.Bucket{}
	}
	p.buckets[url] = b
	return b, nil
}

// input opens a job's input once per worker: through OpenBucket when it is
// set (tests), else source.Open (a bucket or a registered service).
func (p *Processor) input(ctx context.Context, url string) (source.Source, error) {
	if p.OpenBucket != nil {
		return p.bucket(ctx, url)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.sources[url]; ok {
		return s, nil
	}
	s, err := source.Open(ctx, url)
	if err != nil {
		return nil, jobs.Permanent(err) // a malformed URL stays malformed
	}
	if p.sources == nil {
		p.sources = map[string]source.Source{}
	}
	p.sources[url] = s
	return s, nil
}

// job returns the job's store and spec, read once per worker, and checks
// that the job wants this worker's model.
func (p *Processor) job(ctx context.Context, ref jobs.Ref) (*openJob, error) {
	p.mu.Lock()
	j, ok := p.jobs[ref.Key()]
	p.mu.Unlock()
	if !ok {
		out, err := p.bucket(ctx, ref.OutputURL)
		if err != nil {
			return nil, err
		}
		store, err := jobs.NewStore(out, ref)
		if err != nil {
			return nil, jobs.Permanent(err)
		}
		spec, err := store.ReadSpec(ctx)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, jobs.ErrMalformed) {
			return nil, jobs.Permanent(err)
		}
		if err != nil {
			return nil, err
		}
		j = &openJob{store: store, spec: spec, producer: producer(spec, p.Model)}
		p.mu.Lock()
		if p.jobs == nil {
			p.jobs = map[string]*openJob{}
		}
		p.jobs[ref.Key()] = j
		p.mu.Unlock()
	}
	if sha, _, _ := p.Model.Identity(); j.spec.ModelSHA256 != "" && j.spec.ModelSHA256 != sha {
		return nil, jobs.Permanent(fmt.Errorf("job wants model %s, this worker has %s", j.spec.ModelSHA256, sha))
	}
	p.mu.Lock()
	j.started++
	p.mu.Unlock()
	return j, nil
}

// servedJob is a job this worker ran batches of (lostWatch).
type servedJob struct {
	ref     jobs.Ref
	queue   string
	started int64
	job     *openJob
}

// served lists the jobs this worker ran batches of.
func (p *Processor) served() []servedJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]servedJob, 0, len(p.jobs))
	for _, j := range p.jobs {
		if j.started > 0 {
			out = append(out, servedJob{ref: j.store.Ref, queue: j.spec.Queue, started: j.started, job: j})
		}
	}
	return out
}

// producer names what made a batch's results: the spec (hashed) and the
// model. Results stamped with the same producer need not be made again.
func producer(spec jobs.Spec, m Model) string {
	data, _ := json.Marshal(spec)
	sum := sha256.Sum256(data)
	model, _, _ := m.Identity()
	return "spec:" + hex.EncodeToString(sum[:8]) + " model:" + model
}

// Close releases the buckets and sources.
func (p *Processor) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.buckets {
		_ = b.Close() // read handles: nothing is lost if one fails to close
	}
	for _, s := range p.sources {
		_ = s.Close()
	}
}

// DefaultName is host-pid.
func DefaultName() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}
