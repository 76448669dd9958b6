// Package classify turns image files into result records: decode and
// preprocess (imaging), score with DiDiRN through a sampler (CP or CL) or a
// plain classifier (softmax), and summarise the posterior. The batch pipeline
// and `didicm classify` write the same Record.
package classify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/didicm/didicm/calibrate"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/sampler"
)

// Model is what the engine needs of a loaded model (ort.Model satisfies it).
type Model interface {
	sampler.Scorer
	Metadata() *modelmeta.Metadata
	// Logits runs a classifier (baseline) model.
	Logits(ctx context.Context, images [][]float32, out []float32) error
}

// Options choose the sampler and the output.
type Options struct {
	// Sampler is "cp" or "cl" for a score model; a classifier always uses "softmax".
	// Empty means "cp".
	Sampler string
	// Steps is T. Zero means sampler.DefaultSteps.
	Steps int
	// Clamp is CP's clamp after each step (empty: sampler.DefaultClamp).
	Clamp sampler.Clamp
	// Calibration, when set, adds each record's prediction set.
	Calibration *calibrate.Calibration
	// Settle stops CP for an image whose posterior moved by no more than
	// this in a step (adaptive steps; 0: all Steps).
	Settle float64
	// Chains is CL's N. Zero means sampler.DefaultChains.
	Chains int
	// MicroBatch is images (CP, softmax) or chain rows (CL) per model call. Zero means the sampler's default.
	MicroBatch int
	// Seed seeds CL's chains; the same seed and inputs give the same result.
	Seed uint64
	// TopK, when > 0, keeps only the k most probable classes in records.
	TopK int
	// Limits bound decoding.
	Limits imaging.Limits
	// DecodeWorkers is how many files are read and decoded at once. Zero
	// means GOMAXPROCS.
	DecodeWorkers int
	// Sampling chooses the images of videos and logs and bounds the images
	// of any one file (imaging.Sampling).
	Sampling imaging.Sampling
}

// Engine classifies images with one model. It is safe for concurrent use.
type Engine struct {
	model Model
	meta  *modelmeta.Metadata
	input imaging.Input
	opts  Options
}

// New validates opts against the model.
func New(m Model, opts Options) (*Engine, error) {
	meta := m.Metadata()
	if opts.Sampler == "" {
		opts.Sampler = "cp"
	}
	if meta.Kind == modelmeta.Classifier {
		opts.Sampler = "softmax"
	} else if opts.Sampler != "cp" && opts.Sampler != "cl" {
		return nil, fmt.Errorf("sampler %q: want cp or cl", opts.Sampler)
	}
	if opts.Steps <= 0 {
		opts.Steps = sampler.DefaultSteps
	}
	if opts.Chains <= 0 {
		opts.Chains = sampler.DefaultChains
	}
	if opts.DecodeWorkers <= 0 {
		opts.DecodeWorkers = runtime.GOMAXPROCS(0)
	}
	in := imaging.Input{Channels: meta.Channels, Height: meta.Height, Width: meta.Width, Mean: meta.Mean, Std: meta.Std,
		Intensity: meta.Intensity}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &Engine{model: m, meta: meta, input: in, opts: opts}, nil
}

// Options returns the effective options.
func (e *Engine) Options() Options { return e.opts }

// Item is one entry of a job to classify: a file, or one part of a video
// or log (its key then names the part: recordkey's span).
type Item struct {
	// Key is the entry's key: an object key, or recordkey's string form of
	// an object and a span.
	Key string
	// Data is the file, read whole; Src reads it in parts instead (a video
	// or log larger than the read limit).
	Data []byte
	Src  video.Source
	// Err, when set, is a read failure: the item becomes an error record.
	Err error
}

// Prepared is an image after decoding: its input tensor, or the error. A
// file gives one per image in it: a multi-frame DICOM file one per frame
// (key path#frame=N), a video or log one per sampled frame (path#t=S,
// path#topic=T#t=S); see recordkey.
type Prepared struct {
	Key   string
	Input []float32
	Err   error
	// Where the image is in its file, and what identifies it there (see
	// imaging.Sample).
	Frame int
	DICOM *imaging.DICOMIDs
	Time  time.Duration
	Timed bool
	Topic string
	Video *imaging.VideoIDs
	Log   *imaging.LogIDs
}

// Prepare decodes and preprocesses items concurrently and returns every
// image they hold, in item order (images of a file in their order). It
// holds them all: Stream is for batches. An error is ctx's, or a video's
// storage failing (imaging.ErrRead).
func (e *Engine) Prepare(ctx context.Context, items []Item) ([]Prepared, error) {
	var out []Prepared
	_, err := e.expandAll(ctx, len(items), max(1, len(items)), func(_ context.Context, i int) Item { return items[i] },
		func(chunk []Prepared) error {
			out = append(out, chunk...)
			return nil
		})
	return out, err
}

// expand gives the images of one item to emit, in order.
func (e *Engine) expand(ctx context.Context, it Item, emit func(Prepared) error) error {
	k, err := recordkey.Parse(it.Key)
	if err != nil {
		k = recordkey.Of(it.Key) // an entry written before keys had a syntax
	}
	if it.Err != nil {
		return emit(Prepared{Key: k.String(), Err: it.Err})
	}
	f := imaging.File{Data: it.Data, Src: it.Src, From: k.From, To: k.To}
	return imaging.Expand(ctx, f, e.input, e.opts.Limits, e.opts.Sampling, func(s imaging.Sample) error {
		p := Prepared{Input: s.Input, Err: s.Err, Frame: s.Frame, DICOM: s.DICOM, Time: s.Time, Timed: s.Timed,
			Topic: s.Topic, Video: s.Video, Log: s.Log}
		if s.Part {
			p.Key = k.String() // the file, or its part: nothing in it could be read
		} else {
			at := k.File().WithFrame(s.Frame).OnTopic(s.Topic)
			if s.Timed {
				at = at.At(s.Time)
			}
			p.Key = at.String()
		}
		return emit(p)
	})
}

// Score runs the model on the prepared items and returns one record each,
// in order. Per-image problems become error records; an error return means
// the model or ctx failed and nothing was scored.
func (e *Engine) Score(ctx context.Context, prepared []Prepared) ([]Record, error) {
	var inputs [][]float32
	var idx []int
	for i, p := range prepared {
		if p.Err == nil {
			inputs = append(inputs, p.Input)
			idx = append(idx, i)
		}
	}
	results, err := e.run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(prepared))
	for i, p := range prepared {
		if p.Err != nil {
			recs[i] = e.errorRecord(p.Key, p.Err)
		}
	}
	for j, i := range idx {
		recs[i] = e.record(prepared[i].Key, results[j])
	}
	for i, p := range prepared {
		recs[i].identify(p)
	}
	return recs, nil
}

// Classify is Prepare then Score.
func (e *Engine) Classify(ctx context.Context, items []Item) ([]Record, error) {
	p, err := e.Prepare(ctx, items)
	if err != nil {
		return nil, err
	}
	return e.Score(ctx, p)
}

func (e *Engine) run(ctx context.Context, inputs [][]float32) ([]sampler.Result, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	switch e.opts.Sampler {
	case "cp":
		return sampler.CP{Steps: e.opts.Steps, MicroBatch: e.opts.MicroBatch, Clamp: e.opts.Clamp, Settle: e.opts.Settle}.Run(ctx, e.model, inputs)
	case "cl":
		rng := rand.New(rand.NewPCG(e.opts.Seed, 0x5eed))
		return sampler.CL{Steps: e.opts.Steps, Chains: e.opts.Chains, MicroBatch: e.opts.MicroBatch, Rand: rng}.
			Run(ctx, e.model, inputs)
	default:
		return e.softmax(ctx, inputs)
	}
}

func (e *Engine) softmax(ctx context.Context, inputs [][]float32) ([]sampler.Result, error) {
	k, micro := e.meta.NumClasses(), e.opts.MicroBatch
	if micro <= 0 {
		micro = sampler.DefaultMicroBatch
	}
	res := make([]sampler.Result, 0, len(inputs))
	out := make([]float32, micro*k)
	for lo := 0; lo < len(inputs); lo += micro {
		hi := min(lo+micro, len(inputs))
		if err := e.model.Logits(ctx, inputs[lo:hi], out[:(hi-lo)*k]); err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		for b := range hi - lo {
			res = append(res, sampler.Softmax(out[b*k:(b+1)*k]))
		}
	}
	return res, nil
}
