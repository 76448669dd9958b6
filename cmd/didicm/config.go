package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/internal/redisurl"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/plan"
	"github.com/didicm/didicm/sampler"
	"github.com/didicm/didicm/workers"
)

// Config is every setting the binary reads, from (lowest to highest) the
// defaults, the config file (--config or ./didicm.yaml), DIDICM_* environment
// variables (DIDICM_SAMPLER_STEPS for sampler.steps) and flags.
type Config struct {
	Model       string `mapstructure:"model"`
	Calibration string `mapstructure:"calibration"` // file from `didicm calibrate`; empty: no prediction sets
	// StudyCalibration is a file from `didicm calibrate --by study`: a job's studies get prediction sets.
	StudyCalibration string          `mapstructure:"study_calibration"`
	ONNXRuntime      RuntimeConfig   `mapstructure:"onnxruntime"`
	Sampler          SamplerConfig   `mapstructure:"sampler"`
	Limits           LimitsConfig    `mapstructure:"limits"`
	Log              LogConfig       `mapstructure:"log"`
	Redis            RedisConfig     `mapstructure:"redis"`
	Worker           WorkerConfig    `mapstructure:"worker"`
	Job              JobConfig       `mapstructure:"job"`
	SR               SRConfig        `mapstructure:"sr"`
	Groups           jobs.GroupsSpec `mapstructure:"groups"`
	Video            VideoConfig     `mapstructure:"video"`
	MCAP             MCAPConfig      `mapstructure:"mcap"`

	// DICOMweb holds the credentials of dicomweb+http(s) inputs.
	DICOMweb DICOMwebConfig `mapstructure:"dicomweb"`
}

// SRConfig asks enqueued jobs for DICOM structured reports (jobs.SRSpec).
type SRConfig struct {
	Per  string `mapstructure:"per"`  // study or series; empty: no reports
	Send string `mapstructure:"send"` // "", source, or a dicomweb+http(s):// URL
}

// srSpec is the configured report request, nil when none.
func (c *Config) srSpec() *jobs.SRSpec {
	if c.SR.Per == "" {
		return nil
	}
	return &jobs.SRSpec{Per: c.SR.Per, Send: c.SR.Send}
}

// VideoConfig samples videos, and logs by the same rule (jobs.Sampling).
type VideoConfig struct {
	Every         string `mapstructure:"every"`          // time between sampled frames; "0s": every frame
	KeyframesOnly bool   `mapstructure:"keyframes_only"` // read key frames only
	Part          string `mapstructure:"part"`           // length of a manifest part; "": batch_size sampled frames
}

// MCAPConfig selects a log's camera topics.
type MCAPConfig struct {
	Topics []string `mapstructure:"topics"` // empty: every compressed-image topic
}

// sampling is the configured sampling of videos and logs.
func (c *Config) sampling() jobs.Sampling {
	return jobs.Sampling{Every: c.Video.Every, KeyframesOnly: c.Video.KeyframesOnly, Part: c.Video.Part, Topics: c.MCAP.Topics}
}

// RedisConfig locates the queue.
type RedisConfig struct {
	// URL is redis://[:password@]host:port[/db], or through Sentinels
	// redis-sentinel://[:password@]host1:port1,host2:port2,…[/db]?master=NAME
	// (internal/redisurl). Empty means the embedded in-process server (demo
	// only).
	URL string `mapstructure:"url"`
}

// WorkerConfig configures `didicm worker`.
type WorkerConfig struct {
	Concurrency      int      `mapstructure:"concurrency"`
	MaxImagesPerCall int      `mapstructure:"max_images_per_call"`
	GCPercent        int      `mapstructure:"gc_percent"`
	Queues           []string `mapstructure:"queues"`
	ShutdownTimeout  string   `mapstructure:"shutdown_timeout"`
	MetricsAddr      string   `mapstructure:"metrics_addr"`
	Name             string   `mapstructure:"name"`
	LostCheck        string   `mapstructure:"lost_check"`   // how often an idle worker looks for batches Redis lost
	RedriveLost      bool     `mapstructure:"redrive_lost"` // queue those batches again (else only report them)
}

// JobConfig is the job that `didicm enqueue` sends (and `status`/`retry` name).
type JobConfig struct {
	ID              string   `mapstructure:"id"`
	InputURL        string   `mapstructure:"input_url"`
	InputPrefix     string   `mapstructure:"input_prefix"`
	Include         []string `mapstructure:"include"`
	Exclude         []string `mapstructure:"exclude"`
	OutputURL       string   `mapstructure:"output_url"`
	OutputPrefix    string   `mapstructure:"output_prefix"`
	BatchSize       int      `mapstructure:"batch_size"`
	Posterior       string   `mapstructure:"posterior"`
	TopK            int      `mapstructure:"top_k"`
	ReviewThreshold float64  `mapstructure:"review_threshold"`
	ReviewRule      string   `mapstructure:"review_rule"`
	Format          string   `mapstructure:"format"`
	MaxRetry        int      `mapstructure:"max_retry"`
	ListWorkers     int      `mapstructure:"list_workers"` // enqueue: key ranges listed at once on S3/GCS; 0: storage's default
	Queue           string   `mapstructure:"queue"`
	SeriesRules     string   `mapstructure:"series_rules"` // JSON list of dicomweb.SeriesRule; empty: every series
}

// seriesRules reads job.series_rules.
func (j JobConfig) seriesRules() ([]dicomweb.SeriesRule, error) {
	if strings.TrimSpace(j.SeriesRules) == "" {
		return nil, nil
	}
	var rules []dicomweb.SeriesRule
	dec := json.NewDecoder(strings.NewReader(j.SeriesRules))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rules); err != nil {
		return nil, &ConfigError{"job.series_rules", fmt.Sprintf("want a JSON list of rules such as "+
			`[{"modality": ["CT"], "min_instances": 20}]: %v`, err)}
	}
	return rules, nil
}

// DICOMwebConfig holds the credentials DICOMweb inputs are read with
// (dicomweb.Credentials): HTTP basic (username and password) or a bearer
// token (token, or token_file, read again whenever it changes), sent only
// to host when it is set. DIDICM_DICOMWEB_TOKEN and so on set them too.
// They are never printed.
type DICOMwebConfig struct {
	Username  string `mapstructure:"username"`
	Password  string `mapstructure:"password"`
	Token     string `mapstructure:"token"`
	TokenFile string `mapstructure:"token_file"`
	Host      string `mapstructure:"host"`
}

func (d DICOMwebConfig) credentials() dicomweb.Credentials {
	return dicomweb.Credentials{Username: d.Username, Password: d.Password, Token: d.Token, TokenFile: d.TokenFile, Host: d.Host}
}

func (d DICOMwebConfig) validate() error {
	if err := d.credentials().Validate(); err != nil {
		return &ConfigError{"dicomweb", err.Error()}
	}
	return nil
}

// RuntimeConfig mirrors ort.Config.
type RuntimeConfig struct {
	Library           string `mapstructure:"library"`
	Provider          string `mapstructure:"provider"`
	DeviceID          int    `mapstructure:"device_id"`
	AllowCPUFallback  bool   `mapstructure:"allow_cpu_fallback"`
	IntraOpThreads    int    `mapstructure:"intra_op_threads"`
	InterOpThreads    int    `mapstructure:"inter_op_threads"`
	GraphOptimization string `mapstructure:"graph_optimization"`
	Spin              string `mapstructure:"spin"`
	Memory            string `mapstructure:"memory"`
}

// SamplerConfig chooses the reverse process.
type SamplerConfig struct {
	Name         string  `mapstructure:"name"`  // auto, cp or cl
	Steps        int     `mapstructure:"steps"` // 0: the model's recommendation
	ForceSteps   bool    `mapstructure:"force_steps"`
	Clamp        string  `mapstructure:"clamp"`  // CP: paper or negatives
	Settle       float64 `mapstructure:"settle"` // CP: adaptive steps, 0 off
	Chains       int     `mapstructure:"chains"`
	MicroBatch   int     `mapstructure:"micro_batch"`
	Seed         uint64  `mapstructure:"seed"`
	MemoryBudget string  `mapstructure:"memory_budget"` // e.g. "2GiB"
}

// LimitsConfig bounds decoding.
type LimitsConfig struct {
	MaxBytes        string `mapstructure:"max_bytes"`
	MaxPixels       int64  `mapstructure:"max_pixels"`
	MaxFrames       int    `mapstructure:"max_frames"`        // images one file (or one part of a video or log) may give
	MaxDecodedBytes string `mapstructure:"max_decoded_bytes"` // one image's working memory
	DecodeBudget    string `mapstructure:"decode_budget"`     // all images decoding at once, per process
}

// LogConfig sets up slog.
type LogConfig struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text or json
}

var defaults = map[string]any{
	"model":                          "",
	"calibration":                    "",
	"study_calibration":              "",
	"onnxruntime.library":            "",
	"onnxruntime.provider":           "cpu",
	"onnxruntime.device_id":          0,
	"onnxruntime.allow_cpu_fallback": false,
	"onnxruntime.intra_op_threads":   0,
	"onnxruntime.inter_op_threads":   0,
	"onnxruntime.graph_optimization": "all",
	"onnxruntime.spin":               "on",
	"onnxruntime.memory":             ort.DefaultMemory,
	"sampler.name":                   "auto",
	"sampler.steps":                  0,
	"sampler.force_steps":            false,
	"sampler.clamp":                  string(sampler.DefaultClamp),
	"sampler.settle":                 0.0,
	"sampler.chains":                 sampler.DefaultChains,
	"sampler.micro_batch":            0,
	"sampler.seed":                   uint64(0),
	"sampler.memory_budget":          humanize.IBytes(plan.DefaultBudget),
	"limits.max_bytes":               humanize.IBytes(imaging.DefaultMaxBytes),
	"limits.max_pixels":              int64(imaging.DefaultMaxPixels),
	"limits.max_frames":              imaging.DefaultMaxFrames,
	"limits.max_decoded_bytes":       humanize.IBytes(imaging.DefaultMaxDecodedBytes),
	"limits.decode_budget":           humanize.IBytes(2 * imaging.DefaultMaxDecodedBytes),
	"log.level":                      "info",
	"log.format":                     "text",
	"redis.url":                      "",
	"worker.concurrency":             0,
	"worker.max_images_per_call":     0,
	"worker.gc_percent":              workers.DefaultGCPercent,
	"worker.queues":                  []string{},
	"worker.shutdown_timeout":        "30s",
	"worker.metrics_addr":            ":9090",
	"worker.name":                    "",
	"worker.lost_check":              "30s",
	"worker.redrive_lost":            false,
	"job.id":                         "",
	"job.input_url":                  "",
	"job.input_prefix":               "",
	"job.include":                    []string{},
	"job.exclude":                    []string{},
	"job.output_url":                 "",
	"job.output_prefix":              "",
	"job.batch_size":                 jobs.DefaultBatchSize,
	"job.posterior":                  jobs.DefaultPosterior,
	"job.top_k":                      jobs.DefaultTopK,
	"job.review_threshold":           jobs.DefaultReviewThreshold,
	"job.review_rule":                "",
	"job.format":                     jobs.FormatJSONL,
	"job.max_retry":                  jobs.DefaultMaxRetry,
	"job.list_workers":               0,
	"groups.rule":                    "",
	"groups.gap":                     "",
	"sr.per":                         "",
	"sr.send":                        "",
	"video.every":                    "1s",
	"video.keyframes_only":           false,
	"video.part":                     "",
	"mcap.topics":                    []string{},
	"job.queue":                      "",
	"job.series_rules":               "",
	"dicomweb.username":              "",
	"dicomweb.password":              "",
	"dicomweb.token":                 "",
	"dicomweb.token_file":            "",
	"dicomweb.host":                  "",
}

// invalidKeysRE reads mapstructure's "'sampler' has invalid keys: a, b".
var invalidKeysRE = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)

// unknownKeys turns a decoding error into one naming each unknown key in
// full (sampler.frobnicate), or keeps the error.
func unknownKeys(err error) error {
	var errs []error
	for _, m := range invalidKeysRE.FindAllStringSubmatch(err.Error(), -1) {
		for _, k := range strings.Split(m[2], ", ") {
			if m[1] != "" {
				k = m[1] + "." + k
			}
			errs = append(errs, &ConfigError{k, "unknown setting (see the README's configuration)"})
		}
	}
	if len(errs) == 0 {
		return fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):\n\n"))
	}
	return errors.Join(errs...)
}

// ConfigError names the setting that is wrong.
type ConfigError struct{ Key, Problem string }

func (e *ConfigError) Error() string { return fmt.Sprintf("config %s: %s", e.Key, e.Problem) }

// loadConfig reads the configuration; flags are bound by their config key
// (a flag "sampler.steps" or one annotated with the key).
func loadConfig(file string, flags *pflag.FlagSet) (*Config, error) {
	v := viper.New()
	for k, d := range defaults {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix("DIDICM")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("read config %s: %w", file, err)
		}
	} else if _, err := os.Stat("didicm.yaml"); err == nil {
		v.SetConfigFile("didicm.yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("read config didicm.yaml: %w", err)
		}
	}
	var bindErr error
	flags.VisitAll(func(f *pflag.Flag) {
		if key, ok := f.Annotations["config"]; ok && f.Changed {
			bindErr = errors.Join(bindErr, v.BindPFlag(key[0], f))
		}
	})
	if bindErr != nil {
		return nil, bindErr
	}
	var c Config
	if err := v.UnmarshalExact(&c); err != nil {
		return nil, unknownKeys(err)
	}
	return &c, c.validate()
}

func (c *Config) validate() error {
	oneOf := func(key, val string, allowed ...string) error {
		for _, a := range allowed {
			if val == a {
				return nil
			}
		}
		return &ConfigError{key, fmt.Sprintf("%q; want one of %s", val, strings.Join(allowed, ", "))}
	}
	return errors.Join(
		oneOf("onnxruntime.provider", c.ONNXRuntime.Provider, "cpu", "cuda"),
		oneOf("onnxruntime.graph_optimization", c.ONNXRuntime.GraphOptimization, "disable", "basic", "extended", "all"),
		oneOf("onnxruntime.spin", c.ONNXRuntime.Spin, "on", "off"),
		oneOf("onnxruntime.memory", c.ONNXRuntime.Memory, "malloc", "arena", "no-pattern"),
		oneOf("sampler.name", c.Sampler.Name, "auto", "cp", "cl"),
		oneOf("sampler.clamp", c.Sampler.Clamp, string(sampler.ClampPaper), string(sampler.ClampNegatives)),
		floatIn("sampler.settle", c.Sampler.Settle, 0, 0.999),
		oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error"),
		oneOf("log.format", c.Log.Format, "text", "json"),
		positive("sampler.steps", c.Sampler.Steps, 0, 1000),
		positive("sampler.chains", c.Sampler.Chains, 1, 1<<16),
		positive("sampler.micro_batch", c.Sampler.MicroBatch, 0, 1<<16),
		sizeErr("sampler.memory_budget", c.Sampler.MemoryBudget),
		sizeErr("limits.max_bytes", c.Limits.MaxBytes),
		positive64("limits.max_pixels", c.Limits.MaxPixels, 1, 1<<40),
		positive("limits.max_frames", c.Limits.MaxFrames, 1, 1_000_000),
		sizeErr("limits.max_decoded_bytes", c.Limits.MaxDecodedBytes),
		sizeErr("limits.decode_budget", c.Limits.DecodeBudget),
		c.budgetErr(),
		positive("job.batch_size", c.Job.BatchSize, 1, 100_000),
		oneOf("job.posterior", c.Job.Posterior, "full", "top-k"),
		oneOf("job.format", c.Job.Format, jobs.FormatJSONL, jobs.FormatParquet),
		positive("job.top_k", c.Job.TopK, 1, 1<<20),
		floatIn("job.review_threshold", c.Job.ReviewThreshold, 0, 1),
		positive("job.max_retry", c.Job.MaxRetry, 0, 100),
		positive("job.list_workers", c.Job.ListWorkers, 0, 256),
		samplingErr(c.sampling()),
		positive("worker.concurrency", c.Worker.Concurrency, 0, 1024),
		positive("worker.max_images_per_call", c.Worker.MaxImagesPerCall, 0, 1<<16),
		positive("worker.gc_percent", c.Worker.GCPercent, 25, 10000),
		durationErr("worker.shutdown_timeout", c.Worker.ShutdownTimeout),
		durationErr("worker.lost_check", c.Worker.LostCheck),
		redisErr(c.Redis.URL),
		c.DICOMweb.validate(),
	)
}

func positive(key string, v, lo, hi int) error {
	return positive64(key, int64(v), int64(lo), int64(hi))
}

func positive64(key string, v, lo, hi int64) error {
	if v < lo || v > hi {
		return &ConfigError{key, fmt.Sprintf("%d; want %d to %d", v, lo, hi)}
	}
	return nil
}

func floatIn(key string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) {
		return &ConfigError{key, fmt.Sprintf("%g; want %g to %g", v, lo, hi)}
	}
	return nil
}

// sizeErr checks a positive size such as 2GiB.
func sizeErr(key, s string) error {
	if n, err := humanize.ParseBytes(s); err != nil || n == 0 {
		return &ConfigError{key, fmt.Sprintf("%q is not a positive size like 2GiB", s)}
	}
	return nil
}

// samplingErr names a wrong video or mcap setting.
func samplingErr(s jobs.Sampling) error {
	spec := jobs.Spec{ID: "check", InputURL: "mem://", OutputURL: "mem://", Sampling: s}
	spec.Defaults()
	if err := spec.Validate(); err != nil {
		return &ConfigError{"video", err.Error()}
	}
	return nil
}

func durationErr(key, s string) error {
	if d, err := time.ParseDuration(s); err != nil || d <= 0 {
		return &ConfigError{key, fmt.Sprintf("%q is not a positive duration like 30s", s)}
	}
	return nil
}

func redisErr(url string) error {
	if url == "" {
		return nil
	}
	if _, err := redisurl.Parse(url); err != nil {
		return &ConfigError{"redis.url", fmt.Sprintf("%q: %v (want redis://[:password@]host:port[/db] or "+
			"redis-sentinel://[:password@]host1:port1,host2:port2,…[/db]?master=NAME)", url, err)}
	}
	return nil
}

func size(s string) int64 {
	n, _ := humanize.ParseBytes(s) // validated
	return int64(n)
}

func (c *Config) runtime() ort.Config {
	r := c.ONNXRuntime
	return ort.Config{LibraryPath: r.Library, Provider: r.Provider, DeviceID: r.DeviceID, AllowCPUFallback: r.AllowCPUFallback,
		IntraOpThreads: r.IntraOpThreads, InterOpThreads: r.InterOpThreads, GraphOptimization: r.GraphOptimization, Spin: r.Spin,
		Memory: r.Memory}
}

// limits are the decoding limits with a decode budget of their own: call it
// once per process (each call makes a new budget).
func (c *Config) limits() imaging.Limits {
	return imaging.Limits{MaxBytes: size(c.Limits.MaxBytes), MaxPixels: c.Limits.MaxPixels,
		MaxDecodedBytes: size(c.Limits.MaxDecodedBytes), Budget: imaging.NewBudget(size(c.Limits.DecodeBudget))}
}

func (c *Config) budgetErr() error {
	valid := sizeErr("", c.Limits.MaxDecodedBytes) == nil && sizeErr("", c.Limits.DecodeBudget) == nil // else reported by name
	if valid && size(c.Limits.MaxDecodedBytes) > size(c.Limits.DecodeBudget) {
		return &ConfigError{"limits.max_decoded_bytes", fmt.Sprintf("%s is above limits.decode_budget %s: such an image could never decode",
			c.Limits.MaxDecodedBytes, c.Limits.DecodeBudget)}
	}
	return nil
}

// configFlag declares a flag bound to a config key; its default is the
// key's entry in defaults.
func configFlag(fs *pflag.FlagSet, key, name, usage string) {
	def, ok := defaults[key]
	if !ok {
		panic("configFlag: no default for " + key)
	}
	switch d := def.(type) {
	case string:
		fs.String(name, d, usage)
	case int:
		fs.Int(name, d, usage)
	case uint64:
		fs.Uint64(name, d, usage)
	case int64:
		fs.Int64(name, d, usage)
	case bool:
		fs.Bool(name, d, usage)
	case float64:
		fs.Float64(name, d, usage)
	case []string:
		fs.StringSlice(name, d, usage)
	}
	_ = fs.SetAnnotation(name, "config", []string{key})
}
