package ort

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/sampler"
)

// Config configures the library and a session.
type Config struct {
	// LibraryPath is the shared library; empty means search (package doc).
	LibraryPath string
	// Provider is "cpu" or "cuda". Empty means "cpu".
	Provider string
	// DeviceID is the CUDA device. Zero means device 0.
	DeviceID int
	// AllowCPUFallback lets a "cuda" session run on the CPU, with a warning,
	// when CUDA cannot be set up. False means that is an error.
	AllowCPUFallback bool
	// IntraOpThreads and InterOpThreads size ONNX Runtime's pools. Zero means its default.
	IntraOpThreads, InterOpThreads int
	// GraphOptimization is "disable", "basic", "extended" or "all". Empty means "all".
	GraphOptimization string
	// Spin lets ONNX Runtime's idle pool threads busy-wait for the next call
	// ("on"), or sleep ("off"), so that decoding between calls gets the CPU.
	// Empty means ONNX Runtime's default (on).
	Spin string
	// Memory is how ONNX Runtime allocates on the CPU: "malloc" (no arena:
	// each tensor from glibc, whose mmap threshold is then pinned at
	// 128 KiB, so memory follows the call in progress and grows linearly
	// with its rows, as the planner assumes), "arena" (ONNX Runtime's own
	// default: an arena grown by powers of two and never shrunk, plus one
	// block per input shape laid out in advance) or "no-pattern" (the arena
	// without those blocks). Empty means DefaultMemory. docs/benchmarks.md
	// has what each costs in speed and memory.
	Memory string
}

// DefaultMemory is Config.Memory's default: about half the arena's memory
// per image, and the only setting under which the planner's prediction
// holds, for 9-13% fewer images/s end to end on a CPU worker
// (docs/benchmarks.md).
const DefaultMemory = "malloc"

// Model is a loaded DiDiRN score model or baseline classifier. Its methods
// are safe for concurrent use: ONNX Runtime's Run is, and each call has its
// own tensors.
type Model struct {
	meta *modelmeta.Metadata
	// path, sha256 and provider ("cpu" or "cuda") identify what produced a result.
	path, sha256, provider string
	// libraryVersion is the ONNX Runtime version.
	libraryVersion string
	// memory is Config.Memory, the default filled in.
	memory string

	session *ortgo.DynamicAdvancedSession
	once    sync.Once
}

var _ sampler.Scorer = (*Model)(nil)

// Open loads the library if needed, validates the model file against the
// contract and its metadata, and creates a session.
func Open(path string, cfg Config, log *slog.Logger) (*Model, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	_, ver, err := LoadLibrary(cfg.LibraryPath, log)
	if err != nil {
		return nil, err
	}
	sum, err := modelmeta.FileSHA256(path)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	meta, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	opts, provider, err := sessionOptions(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("open model %q: %w", path, err)
	}
	defer opts.Destroy()
	in, out := []string{"image"}, []string{"logits"}
	if meta.Kind == modelmeta.Score {
		in, out = []string{"image", "label", "sigma"}, []string{"log_score"}
	}
	var sess *ortgo.DynamicAdvancedSession
	guardSignals(provider == "cuda", func() {
		sess, err = ortgo.NewDynamicAdvancedSession(path, in, out, opts)
	})
	if err != nil {
		return nil, fmt.Errorf("open model %q: create session: %w", path, err)
	}
	log.Info("model loaded", "path", path, "kind", meta.Kind, "classes", meta.NumClasses(), "provider", provider,
		"input", fmt.Sprintf("%dx%dx%d", meta.Channels, meta.Height, meta.Width))
	return &Model{meta: meta, path: path, sha256: sum, provider: provider, libraryVersion: ver, session: sess,
		memory: cmp.Or(cfg.Memory, DefaultMemory)}, nil
}

func sessionOptions(cfg Config, log *slog.Logger) (*ortgo.SessionOptions, string, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*ortgo.SessionOptions, string, error) {
		opts.Destroy()
		return nil, "", err
	}
	levels := map[string]ortgo.GraphOptimizationLevel{"": ortgo.GraphOptimizationLevelEnableAll,
		"all": ortgo.GraphOptimizationLevelEnableAll, "extended": ortgo.GraphOptimizationLevelEnableExtended,
		"basic": ortgo.GraphOptimizationLevelEnableBasic, "disable": ortgo.GraphOptimizationLevelDisableAll}
	level, ok := levels[cfg.GraphOptimization]
	if !ok {
		return fail(fmt.Errorf("graph optimization %q: want disable, basic, extended or all", cfg.GraphOptimization))
	}
	if err := opts.SetGraphOptimizationLevel(level); err != nil {
		return fail(err)
	}
	switch cfg.Spin {
	case "", "on":
	case "off":
		for _, k := range []string{"session.intra_op.allow_spinning", "session.inter_op.allow_spinning"} {
			if err := opts.AddSessionConfigEntry(k, "0"); err != nil {
				return fail(err)
			}
		}
	default:
		return fail(fmt.Errorf("spin %q: want on or off", cfg.Spin))
	}
	switch cmp.Or(cfg.Memory, DefaultMemory) {
	case "arena":
	case "malloc":
		if err := opts.SetCpuMemArena(false); err != nil {
			return fail(err)
		}
		fixMmapThreshold()
	case "no-pattern":
		if err := opts.SetMemPattern(false); err != nil {
			return fail(err)
		}
	default:
		return fail(fmt.Errorf("memory %q: want arena, no-pattern or malloc", cfg.Memory))
	}
	if cfg.IntraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(cfg.IntraOpThreads); err != nil {
			return fail(err)
		}
	}
	if cfg.InterOpThreads > 0 {
		if err := opts.SetInterOpNumThreads(cfg.InterOpThreads); err != nil {
			return fail(err)
		}
	}
	switch cfg.Provider {
	case "", "cpu":
		return opts, "cpu", nil
	case "cuda":
		err := appendCUDA(opts, cfg.DeviceID)
		if err == nil {
			return opts, "cuda", nil
		}
		if !cfg.AllowCPUFallback {
			return fail(fmt.Errorf("cuda execution provider: %w (allow CPU fallback to run on the CPU instead)", err))
		}
		log.Warn("cuda unavailable, running on the CPU", "err", err)
		return opts, "cpu", nil
	default:
		return fail(fmt.Errorf("execution provider %q: want cpu or cuda", cfg.Provider))
	}
}

func appendCUDA(opts *ortgo.SessionOptions, device int) (err error) {
	cuda, err := ortgo.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	// cudnn_conv_algo_search DEFAULT: a fixed algorithm, so runs are reproducible.
	if err := cuda.Update(map[string]string{"device_id": strconv.Itoa(device), "cudnn_conv_algo_search": "DEFAULT"}); err != nil {
		return err
	}
	guardSignals(true, func() { err = opts.AppendExecutionProviderCUDA(cuda) })
	return err
}

// NumClasses is K.
func (m *Model) NumClasses() int { return m.meta.NumClasses() }

// ErrWrongKind is returned by LogScores on a classifier and Logits on a score model.
var ErrWrongKind = errors.New("model kind does not support this call")

// LogScores runs the score model: see sampler.Scorer.
func (m *Model) LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	if m.meta.Kind != modelmeta.Score {
		return fmt.Errorf("log-scores from a %s model: %w", m.meta.Kind, ErrWrongKind)
	}
	if len(labels) != len(images) || len(sigmas) != len(images) {
		return fmt.Errorf("log-scores: %d images, %d labels, %d sigmas", len(images), len(labels), len(sigmas))
	}
	n := int64(len(images))
	lab, err := ortgo.NewTensor(ortgo.NewShape(n), labels)
	if err != nil {
		return err
	}
	defer lab.Destroy()
	sig, err := ortgo.NewTensor(ortgo.NewShape(n), sigmas)
	if err != nil {
		return err
	}
	defer sig.Destroy()
	return m.run(ctx, images, out, lab, sig)
}

// Logits runs the baseline classifier: out gets len(images)·K logits.
func (m *Model) Logits(ctx context.Context, images [][]float32, out []float32) error {
	if m.meta.Kind != modelmeta.Classifier {
		return fmt.Errorf("logits from a %s model: %w", m.meta.Kind, ErrWrongKind)
	}
	return m.run(ctx, images, out)
}

// inputs pools the batch tensors' memory: a model call copies its images
// into one (n·C·H·W floats, 9 MiB for 16 RGB images at 224²), T times per
// batch, and allocating it each time was most of a worker's garbage.
var inputs = sync.Pool{New: func() any { return new([]float32) }}

func (m *Model) run(ctx context.Context, images [][]float32, out []float32, extra ...ortgo.Value) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, size, k := len(images), m.meta.InputSize(), m.NumClasses()
	if n == 0 {
		return nil
	}
	if len(out) < n*k {
		return fmt.Errorf("run model: output buffer holds %d values, need %d", len(out), n*k)
	}
	bp := inputs.Get().(*[]float32)
	defer inputs.Put(bp)
	if cap(*bp) < n*size {
		*bp = make([]float32, n*size)
	}
	buf := (*bp)[:n*size]
	for b, im := range images {
		if len(im) != size {
			return fmt.Errorf("run model: image %d has %d values, the model takes %d", b, len(im), size)
		}
		copy(buf[b*size:], im)
	}
	img, err := ortgo.NewTensor(ortgo.NewShape(int64(n), int64(m.meta.Channels), int64(m.meta.Height), int64(m.meta.Width)), buf)
	if err != nil {
		return err
	}
	defer img.Destroy()
	res, err := ortgo.NewTensor(ortgo.NewShape(int64(n), int64(k)), out[:n*k])
	if err != nil {
		return err
	}
	defer res.Destroy()
	if err := m.session.Run(append([]ortgo.Value{img}, extra...), []ortgo.Value{res}); err != nil {
		return fmt.Errorf("run model: %w", err)
	}
	return nil
}

// Close releases the session.
func (m *Model) Close() error {
	var err error
	m.once.Do(func() { err = m.session.Destroy() })
	return err
}

// Metadata returns the model's validated metadata.
func (m *Model) Metadata() *modelmeta.Metadata { return m.meta }

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Identity returns the model file's SHA-256, the ONNX Runtime version and the
// execution provider: what a result record names as its producer.
func (m *Model) Identity() (sha256, ortVersion, provider string) {
	return m.sha256, m.libraryVersion, m.provider
}
