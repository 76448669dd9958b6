package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/didicm/didicm/internal/redisurl"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/workers"
)

func addJobFlags(f *pflag.FlagSet) {
	configFlag(f, "job.id", "job", "job id (a-z, 0-9, _ and -); re-using it resumes the job")
	configFlag(f, "job.output_url", "output", "output bucket URL, e.g. file:///data/results or s3://bucket?region=…")
	configFlag(f, "job.output_prefix", "output-prefix", "folder in the output bucket (results go to PREFIX/JOB/)")
}

func addRedisFlag(f *pflag.FlagSet) {
	configFlag(f, "redis.url", "redis", "Redis URL, redis://[:password@]host:port[/db], or through Sentinels "+
		"redis-sentinel://[:password@]host1:port1,host2:port2,…[/db]?master=NAME")
}

// openQueue connects to the configured Redis: the client, the inspector and
// the job tracker. Without redis.url it returns an empty Queue unless
// required (status reads the bucket alone then).
func (a *app) openQueue(cfg *Config, required bool) (pipeline.Queue, func(), error) {
	if cfg.Redis.URL == "" && !required {
		return pipeline.Queue{}, func() {}, nil
	}
	opt, err := cfg.redis()
	if err != nil {
		return pipeline.Queue{}, nil, usageError{err}
	}
	routeRedisLogs(a.log)
	if err := pingRedis(opt); err != nil {
		return pipeline.Queue{}, nil, err
	}
	tr, err := pipeline.NewTracker(opt)
	if err != nil {
		return pipeline.Queue{}, nil, err
	}
	q := pipeline.Queue{Client: asynq.NewClient(opt), Inspector: asynq.NewInspector(opt), Tracker: tr}
	return q, func() { _ = errors.Join(q.Client.Close(), q.Inspector.Close(), tr.Close()) }, nil
}

// pingRedis fails at start-up, naming the server without its password,
// when Redis cannot be reached or refuses the credentials.
func pingRedis(opt asynq.RedisConnOpt) error {
	c := asynq.NewClient(opt)
	defer c.Close()
	if err := c.Ping(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (c *Config) redis() (asynq.RedisConnOpt, error) {
	if c.Redis.URL == "" {
		return nil, &ConfigError{"redis.url", "missing (set --redis, DIDICM_REDIS_URL or redis.url)"}
	}
	return redisurl.Parse(c.Redis.URL)
}

// ref locates the configured job.
func (j JobConfig) ref() jobs.Ref {
	return jobs.Ref{OutputURL: j.OutputURL, Prefix: j.OutputPrefix, ID: j.ID}
}

// jobSpec is the configured job for the configured model: the model must
// exist and load (its sha256 is recorded, so workers with another model
// never run the job), its steps follow the model's advice, and the job goes
// to its model's queue unless job.queue names one.
func (a *app) jobSpec(c *Config) (jobs.Spec, error) {
	path, sha, meta, err := a.inspectModel(c)
	if err != nil {
		return jobs.Spec{}, err
	}
	steps, err := c.steps(meta)
	if err != nil {
		return jobs.Spec{}, err
	}
	j, sc := c.Job, c.Sampler
	s := jobs.Spec{ID: j.ID, InputURL: j.InputURL, InputPrefix: j.InputPrefix, Include: j.Include, Exclude: j.Exclude,
		OutputURL: j.OutputURL, OutputPrefix: j.OutputPrefix, Model: path, ModelSHA256: sha, ClassNames: meta.ClassNames, Sampling: c.sampling(), SR: c.srSpec(), Groups: c.Groups, Sampler: sc.Name, Steps: steps, Clamp: sc.Clamp, Settle: sc.Settle,
		Chains: sc.Chains, Seed: sc.Seed, BatchSize: j.BatchSize, Posterior: j.Posterior, TopK: j.TopK,
		ReviewThreshold: j.ReviewThreshold, ReviewRule: j.ReviewRule, Format: j.Format, MaxBytes: size(c.Limits.MaxBytes), Queue: j.Queue, MaxRetry: j.MaxRetry}
	if s.Queue == "" {
		s.Queue = jobs.ModelQueue(sha)
	}
	if s.Calibration, err = c.loadCalibration(sha, meta.NumClasses()); err != nil {
		return jobs.Spec{}, err
	}
	if s.StudyCalibration, err = c.loadStudyCalibration(sha, meta.NumClasses()); err != nil {
		return jobs.Spec{}, err
	}
	if s.SeriesRules, err = c.Job.seriesRules(); err != nil {
		return jobs.Spec{}, err
	}
	s.Defaults()
	return s, s.Validate()
}

func (a *app) enqueueCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "enqueue",
		Short: "List an archive, snapshot it into a manifest and queue its batches (re-run: resume)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := a.jobSpec(a.cfg)
			if err != nil {
				return usageError{err}
			}
			q, closeQ, err := a.openQueue(a.cfg, true)
			if err != nil {
				return err
			}
			defer closeQ()
			prod := pipeline.Producer{Queue: q, Progress: printEnqueueProgress(a.stderr), ListWorkers: a.cfg.Job.ListWorkers}
			rep, err := prod.Enqueue(cmd.Context(), spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "job %s: %s in %s on queue %s; queued %d, re-driven %d, already done %d, already queued %d (resumed: %v)\n",
				spec.ID, plural(rep.Images, "image"), plural(rep.Batches, "batch"), spec.Queue, rep.Queued, rep.Redriven, rep.Done,
				rep.InQueue, rep.Resumed)
			return nil
		},
	}
	f := cmd.Flags()
	addJobFlags(f)
	addRedisFlag(f)
	addSamplerFlags(f)
	configFlag(f, "job.input_url", "input", "input bucket URL, e.g. file:///data/archive")
	configFlag(f, "job.series_rules", "series-rules", `DICOMweb input: JSON list of series rules, e.g. '[{"modality": ["CT"], "min_instances": 20}]'`)
	configFlag(f, "job.input_prefix", "input-prefix", "folder of images in the input bucket")
	configFlag(f, "job.include", "include", `patterns of keys to take, relative to the prefix ("**/*.png")`)
	configFlag(f, "job.exclude", "exclude", "patterns of keys to skip")
	configFlag(f, "job.batch_size", "batch-size", "images per task")
	configFlag(f, "job.posterior", "posterior", "full or top-k")
	configFlag(f, "job.top_k", "top-k", "entries kept with --posterior top-k")
	configFlag(f, "job.review_threshold", "review-threshold", "normalised entropy above which an image is listed for review (0: every image with any doubt)")
	configFlag(f, "job.format", "results-format", "results as jsonl (one JSON record a line) or parquet (one file a batch, top-k columns)")
	configFlag(f, "job.review_rule", "review-rule", "set_size (a prediction set of more than one class, or none; the default with a calibration) or entropy")
	configFlag(f, "job.max_retry", "max-retry", "automatic retries of a failing batch (0: none)")
	configFlag(f, "job.list_workers", "list-workers", "key ranges of an S3 or GCS input listed at once (0: 16)")
	configFlag(f, "study_calibration", "study-calibration", "a file from calibrate --by study: each study gets a prediction set")
	configFlag(f, "groups.rule", "group-rule", "a study's or series' posterior of its images': mean, or max (any image shows it)")
	configFlag(f, "groups.gap", "event-gap", "most time between a video's uncertain frames of one event (default: twice video.every)")
	configFlag(f, "sr.per", "sr", "write a DICOM structured report per study or series when the job finishes (empty: none)")
	configFlag(f, "sr.send", "sr-send", "also send the reports with STOW-RS: source (the job's DICOMweb input) or a dicomweb+https:// URL")
	addSamplingFlags(f)
	return cmd
}

// addSamplingFlags adds the flags of how videos and logs are sampled.
func addSamplingFlags(f *pflag.FlagSet) {
	configFlag(f, "video.every", "every", "time between sampled frames of a video or messages of a log topic (0s: every one)")
	configFlag(f, "video.keyframes_only", "keyframes-only", "read only the key frames of videos")
	configFlag(f, "video.part", "video-part", "length of the parts a long video or log is cut into (default: batch-size sampled frames)")
	configFlag(f, "mcap.topics", "topics", "camera topics of MCAP logs (default: every compressed-image topic)")
}

// printEnqueueProgress writes the producer's progress to w, a line a second.
func printEnqueueProgress(w io.Writer) func(pipeline.EnqueueProgress) {
	return func(p pipeline.EnqueueProgress) {
		rate := humanize.Comma(int64(p.Rate()))
		switch {
		case p.Stopped:
			verb, noun := "listing", "key"
			if p.Stage == pipeline.StageQueue {
				verb, noun = "queueing", "batch"
			}
			fmt.Fprintf(w, "%s stopped after %s in %.1f s\n", verb, plural(p.Done, noun), p.Elapsed.Seconds())
		case p.Stage == pipeline.StageList && p.Final:
			fmt.Fprintf(w, "listed %s in %.1f s (%s keys/s)\n", plural(p.Done, "key"), p.Elapsed.Seconds(), rate)
		case p.Stage == pipeline.StageList:
			fmt.Fprintf(w, "listing: %s so far (%s keys/s)\n", plural(p.Done, "key"), rate)
		case p.Final:
			fmt.Fprintf(w, "queued: %s of %s handled in %.1f s\n", humanize.Comma(int64(p.Done)), plural(p.Total, "batch"), p.Elapsed.Seconds())
		default:
			fmt.Fprintf(w, "queueing: %s of %s (%s batches/s)\n", humanize.Comma(int64(p.Done)), plural(p.Total, "batch"), rate)
		}
	}
}

func (a *app) workerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run batches from the queue until SIGTERM (finishes or hands back in-flight batches)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := a.cfg.redis()
			if err != nil {
				return usageError{err}
			}
			routeRedisLogs(a.log)
			return a.runWorker(cmd.Context(), a.cfg, opt)
		},
	}
	f := cmd.Flags()
	addRedisFlag(f)
	configFlag(f, "model", "model", "model file (default "+DefaultModel+")")
	configFlag(f, "sampler.memory_budget", "memory-budget", "memory the sampler and model calls may use (planner)")
	configFlag(f, "worker.max_images_per_call", "max-images-per-call", fmt.Sprintf("most images per model call (0: %d; raise it on GPUs)", workers.DefaultMaxImagesPerCall))
	configFlag(f, "worker.concurrency", "concurrency", "batches in flight (0: one per core on CPU, 2 on CUDA)")
	configFlag(f, "worker.metrics_addr", "metrics-addr", "serve /metrics and /healthz here (empty: off)")
	configFlag(f, "worker.shutdown_timeout", "shutdown-timeout", "wait this long for in-flight batches on SIGTERM")
	configFlag(f, "worker.lost_check", "lost-check", "while its queue is idle, look this often for batches Redis lost")
	configFlag(f, "worker.redrive_lost", "redrive-lost", "queue again batches Redis lost (else only warn and count them)")
	return cmd
}

// runWorker loads the model once and serves batches until ctx is done.
func (a *app) runWorker(ctx context.Context, cfg *Config, opt asynq.RedisConnOpt) error {
	rt := cfg.runtime()
	par := workers.ChooseParallelism(rt.Provider, runtime.GOMAXPROCS(0), cfg.Worker.Concurrency, rt.IntraOpThreads)
	rt.IntraOpThreads = par.IntraOpThreads
	gc := setGCPercent(cfg.Worker.GCPercent)
	a.log.Info("worker parallelism", "batches_in_flight", par.Concurrency, "intra_op_threads", par.IntraOpThreads,
		"cores", runtime.GOMAXPROCS(0), "why", par.Reason, "gc_percent", gc, "sampler_kernel", samplerKernel,
		"onnxruntime_memory", cmp.Or(rt.Memory, ort.DefaultMemory))
	path, err := cfg.modelPath()
	if err != nil {
		return err
	}
	m, err := ort.Open(path, rt, a.log)
	if err != nil {
		return err
	}
	defer m.Close()
	act, err := m.ProbeActivation(ctx)
	if err != nil {
		a.log.Warn("activation probe failed; the planner uses its default", "err", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	name := cfg.Worker.Name
	if name == "" {
		name = workers.DefaultName()
	}
	// Every batch in flight plans within its share of the worker's budget.
	tracker, err := pipeline.NewTracker(opt)
	if err != nil {
		return err
	}
	defer tracker.Close()
	proc := &workers.Processor{Model: m, MemoryBudget: size(cfg.Sampler.MemoryBudget) / int64(par.Concurrency), ActivationBytes: act,
		MaxImagesPerCall: cfg.Worker.MaxImagesPerCall, Limits: cfg.limits(), MaxFrames: cfg.Limits.MaxFrames, Tracker: tracker, Name: name, Log: a.log, Metrics: workers.NewMetrics(reg)}
	defer proc.Close()
	proc.OutputsFor = srWriters(m, path, a.log)
	queues := map[string]int{}
	for _, q := range cfg.Worker.Queues {
		queues[q] = 1
	}
	if len(queues) == 0 { // the default: this model's jobs
		sha, _, _ := m.Identity()
		queues[jobs.ModelQueue(sha)] = 1
	}
	shutdown, _ := time.ParseDuration(cfg.Worker.ShutdownTimeout)
	lostCheck, _ := time.ParseDuration(cfg.Worker.LostCheck)
	return workers.Serve(ctx, workers.ServerConfig{Redis: opt, Concurrency: par.Concurrency, Queues: queues,
		ShutdownTimeout: shutdown, MetricsAddr: cfg.Worker.MetricsAddr, LostCheck: lostCheck, RedriveLost: cfg.Worker.RedriveLost},
		proc, reg, a.log)
}

func (a *app) statusCmd() *cobra.Command {
	var wait, redrive bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a job's progress (done, failed, pending images, images/s, ETA); --wait follows it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			j := a.cfg.Job
			if j.ID == "" || j.OutputURL == "" {
				return usageError{errors.New("status needs --job and --output")}
			}
			if every <= 0 {
				return usageError{fmt.Errorf("--every %s: want a positive interval such as 2s", every)}
			}
			if redrive && (!wait || a.cfg.Redis.URL == "") {
				return usageError{errors.New("--redrive needs --wait and --redis")}
			}
			q, closeQ, err := a.openQueue(a.cfg, false)
			if err != nil {
				return err
			}
			defer closeQ()
			p, err := pipeline.Status(cmd.Context(), j.ref(), q)
			if err != nil {
				return err
			}
			if wait {
				if p, err = a.follow(cmd.Context(), p, q, every, redrive); err != nil {
					return err
				}
			}
			printProgress(a.stdout, p)
			return nil
		},
	}
	addJobFlags(cmd.Flags())
	addRedisFlag(cmd.Flags()) // optional: with it, failures recorded only in Redis and Asynq's archive count too
	cmd.Flags().BoolVar(&wait, "wait", false, "follow with a progress bar until every batch is done or failed")
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "poll interval with --wait")
	cmd.Flags().BoolVar(&redrive, "redrive", false, "with --wait: queue again batches Redis lost (no results, no task), "+
		"once two polls in a row find them; without it --wait stops with an error when only lost batches are left")
	return cmd
}

func (a *app) follow(ctx context.Context, p pipeline.Progress, q pipeline.Queue, every time.Duration, redrive bool) (pipeline.Progress, error) {
	j := a.cfg.Job
	lost := &lostFollower{ref: j.ref(), q: q, redrive: redrive, w: a.stderr}
	bar := progressbar.NewOptions(p.Images, progressbar.OptionSetWriter(a.stderr), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false), // one rate and ETA: ours, from the time spent working
		progressbar.OptionSetDescription("job "+j.ID), progressbar.OptionThrottle(200*time.Millisecond))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if p.ImagesPerSec > 0 {
			desc := fmt.Sprintf("job %s  %.0f img/s  ETA %s  failed %d", j.ID, p.ImagesPerSec, p.ETA.Round(time.Second), p.FailedImages)
			if p.Orphaned > 0 {
				desc += fmt.Sprintf("  %s waiting for a stopped worker's lease to expire", plural(p.Orphaned, "batch"))
			}
			if len(p.Lost) > 0 {
				desc += fmt.Sprintf("  LOST %s (no task in Redis)", plural(len(p.Lost), "batch"))
			}
			bar.Describe(desc)
		}
		_ = bar.Set(p.DoneImages + p.FailedImages)
		if p.PendingImages == 0 && (p.Summarized || p.FailedBatches > 0) {
			_ = bar.Finish()
			fmt.Fprintln(a.stderr)
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-t.C:
		}
		next, err := pipeline.Status(ctx, j.ref(), q)
		if err != nil {
			return p, err
		}
		p = next
		if err := lost.observe(ctx, p); err != nil {
			_ = bar.Exit()
			fmt.Fprintln(a.stderr)
			return p, err
		}
	}
}

func printProgress(w io.Writer, p pipeline.Progress) {
	fmt.Fprintf(w, "job %s: %s in %s\n", p.JobID, plural(p.Images, "image"), plural(p.Batches, "batch"))
	fmt.Fprintf(w, "  done    %s (%s)\n  failed  %s (%s)\n  pending %s\n",
		plural(p.DoneImages, "image"), plural(p.DoneBatches, "batch"), plural(p.FailedImages, "image"),
		plural(p.FailedBatches, "batch"), plural(p.PendingImages, "image"))
	if p.ImagesPerSec > 0 {
		fmt.Fprintf(w, "  rate    %.1f images/s over %s of work, ETA %s\n", p.ImagesPerSec, p.Working.Round(time.Second), p.ETA.Round(time.Second))
	}
	if p.Orphaned > 0 {
		fmt.Fprintf(w, "  waiting %s held by a stopped worker: back in the queue when the lease expires (30-90 s)\n",
			plural(p.Orphaned, "batch"))
	}
	printLost(w, p)
	for _, f := range p.Failures {
		fmt.Fprintf(w, "  failure batch %d after %d attempts: %s\n", f.Batch, f.Attempts, f.Error)
	}
	if p.Summarized {
		fmt.Fprintln(w, "  summary written (summary.json, review.jsonl)")
	}
}

func (a *app) retryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Re-queue the batches in a job's failure list",
		RunE: func(cmd *cobra.Command, _ []string) error {
			j := a.cfg.Job
			if j.ID == "" || j.OutputURL == "" {
				return usageError{errors.New("retry needs --job and --output")}
			}
			q, closeQ, err := a.openQueue(a.cfg, true)
			if err != nil {
				return err
			}
			defer closeQ()
			batches, err := pipeline.Retry(cmd.Context(), j.ref(), q)
			fmt.Fprintf(a.stdout, "job %s: re-queued %s %v\n", j.ID, plural(len(batches), "failed batch"), batches)
			return err
		},
	}
	addJobFlags(cmd.Flags())
	addRedisFlag(cmd.Flags())
	return cmd
}

// setGCPercent applies worker.gc_percent (workers.DefaultGCPercent) unless
// $GOGC is set, and returns the percentage in force.
func setGCPercent(percent int) int {
	if v := os.Getenv("GOGC"); v != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(percent)
	return percent
}

// ort.Model is what the worker runs; checked here, where both are linked,
// so that package workers builds without cgo.
var _ workers.Model = (*ort.Model)(nil)
