// Package plan chooses the sampler (CP or CL) and the micro-batch for a
// model, a batch size and a memory budget, from a cost model of what this
// code allocates (sampler and ort packages), and says why.
//
// Bytes per image, K classes, N chains, I input bytes (C·H·W·4), A the
// model's activation bytes per model-call row:
//
//	CP, rank-one (this code): 8K + I  +  (4K + 12 + I + A)  posterior (float64) + one model row
//	CP, dense (the paper):    8K² + 16K + I  +  (4K + 12 + I + A)  the K×K step matrix on top; only compared
//	CL (this code):           8K + 32N + I  +  rows × (4K + 12 + I + A)  chain state + its model rows
//
// A model row is the scores (float32), label and sigma, the input copy handed
// to ONNX Runtime and the activations. Every sampler also has 8K of fixed
// scratch. CL's rows are chain rows: at the same rows per call it covers N
// times fewer images, and needs N times the model calls.
package plan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/didicm/didicm/sampler"
)

// Request is what the planner decides from.
type Request struct {
	// NumClasses is K.
	NumClasses int
	// Images is how many images a batch holds. Zero means 64.
	Images int
	// Steps is T. Zero means sampler.DefaultSteps.
	Steps int
	// Chains is CL's N. Zero means sampler.DefaultChains.
	Chains int
	// Budget is the memory the sampler and model calls may use, in bytes. Zero means DefaultBudget.
	Budget int64
	// ActivationBytes is the model's working memory per model-call row (a
	// probe run measures it). Zero means 4 MiB, a cautious default.
	ActivationBytes int64
	// InputBytes is one preprocessed image, C·H·W·4. Zero means 28·28·4.
	InputBytes int64
	// Force is "", "auto", "cp" or "cl".
	Force string
	// MaxMicroBatch caps the images (CP) or chain rows (CL) per model call. Zero means DefaultMaxMicroBatch.
	MaxMicroBatch int
}

// DefaultBudget is the memory a planner may fill when none is configured.
const DefaultBudget = 2 << 30

// DefaultMaxMicroBatch caps rows per model call when the caller sets no cap:
// larger calls gain nothing on the CPU models measured (docs/benchmarks.md).
const DefaultMaxMicroBatch = 256

// Cost is one sampler's footprint under the request.
type Cost struct {
	Sampler string `json:"sampler"` // "cp", "cp-dense", "cl"
	// BytesPerImage is the memory one image needs with one model row in flight.
	BytesPerImage int64 `json:"bytes_per_image"`
	// Fixed is memory independent of the batch (scratch vectors).
	Fixed int64 `json:"fixed_bytes"`
	// MicroBatch is the most images (CP) or chain rows (CL) per model call that fit; 0 if none.
	MicroBatch int `json:"micro_batch"`
	// NFE is model calls per image.
	NFE int `json:"nfe_per_image"`
	// Fits says one image fits in the budget.
	Fits bool `json:"fits"`
}

// Plan is the decision.
type Plan struct {
	Sampler    string // "cp" or "cl"
	MicroBatch int
	Steps      int
	Chains     int // 0 for CP
	NFE        int // per image
	Costs      []Cost
	Reasons    []string
	Request    Request
}

// ErrNoFit is returned when not even one image fits the budget.
var ErrNoFit = errors.New("no sampler fits the memory budget")

func (r Request) withDefaults() Request {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&r.Images, 64)
	def(&r.Steps, sampler.DefaultSteps)
	def(&r.Chains, sampler.DefaultChains)
	def(&r.MaxMicroBatch, DefaultMaxMicroBatch)
	if r.Budget <= 0 {
		r.Budget = DefaultBudget
	}
	if r.ActivationBytes <= 0 {
		r.ActivationBytes = 4 << 20
	}
	if r.InputBytes <= 0 {
		r.InputBytes = 28 * 28 * 4
	}
	return r
}

// Costs computes the three footprints.
func Costs(r Request) []Cost {
	r = r.withDefaults()
	k, n, in, act := int64(r.NumClasses), int64(r.Chains), r.InputBytes, r.ActivationBytes
	row := 4*k + 12 + in + act // one model-call row: scores, label+sigma, input copy, activations
	cp := Cost{Sampler: "cp", BytesPerImage: 8*k + in + row, Fixed: 8 * k, NFE: r.Steps}
	dense := Cost{Sampler: "cp-dense", BytesPerImage: 8*k*k + 24*k + in + row, Fixed: 8 * k, NFE: r.Steps}
	cl := Cost{Sampler: "cl", BytesPerImage: 8*k + 32*n + in + row, Fixed: 8 * k, NFE: r.Steps * r.Chains}
	out := []Cost{cp, dense, cl}
	for i := range out {
		c := &out[i]
		free := r.Budget - c.Fixed
		c.Fits = free >= c.BytesPerImage
		if !c.Fits {
			continue
		}
		if c.Sampler == "cl" {
			// Images in flight hold their chain state; the rest of the budget is model rows.
			state := 8*k + 32*n + in
			rows := (free - state) / row
			c.MicroBatch = int(min(rows, int64(r.MaxMicroBatch), int64(r.Images)*n))
		} else {
			c.MicroBatch = int(min(free/c.BytesPerImage, int64(r.MaxMicroBatch), int64(r.Images)))
		}
	}
	return out
}

// Decide returns the plan for r.
func Decide(r Request) (Plan, error) {
	if r.NumClasses < 2 {
		return Plan{}, fmt.Errorf("plan: %d classes; need at least 2", r.NumClasses)
	}
	switch r.Force {
	case "", "auto", "cp", "cl":
	default:
		return Plan{}, fmt.Errorf("plan: sampler %q: want auto, cp or cl", r.Force)
	}
	r = r.withDefaults()
	costs := Costs(r)
	cp, dense, cl := costs[0], costs[1], costs[2]
	p := Plan{Costs: costs, Steps: r.Steps, Request: r}
	pick := func(c Cost, why string) (Plan, error) {
		if !c.Fits {
			return p, fmt.Errorf("%w: %s needs %s for one image, budget %s", ErrNoFit, c.Sampler,
				Bytes(c.BytesPerImage+c.Fixed), Bytes(r.Budget))
		}
		p.Sampler, p.MicroBatch, p.NFE = c.Sampler, c.MicroBatch, c.NFE
		if c.Sampler == "cl" {
			p.Chains = r.Chains
		}
		p.Reasons = append(p.Reasons, why)
		return p, nil
	}
	if !dense.Fits {
		p.Reasons = append(p.Reasons, fmt.Sprintf("the paper's dense CP would need %s per image (8K² for K=%d): refused; this code's rank-one CP needs %s",
			Bytes(dense.BytesPerImage), r.NumClasses, Bytes(cp.BytesPerImage)))
	}
	switch {
	case r.Force == "cp":
		return pick(cp, "cp forced by configuration")
	case r.Force == "cl":
		return pick(cl, "cl forced by configuration")
	case cp.Fits:
		return pick(cp, fmt.Sprintf("cp fits (%s per image, %d images per call) and needs %d model calls per image, cl %d",
			Bytes(cp.BytesPerImage), cp.MicroBatch, cp.NFE, cl.NFE))
	default:
		return pick(cl, fmt.Sprintf("cp needs %s per image, over the budget %s; cl needs %s", Bytes(cp.BytesPerImage),
			Bytes(r.Budget), Bytes(cl.BytesPerImage)))
	}
}

// Bytes formats a byte count with a binary unit.
func Bytes(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, i := float64(b), 0
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %siB", v, string("KMGTP"[i-1]))
}

// String is the human-readable report that `didicm plan` prints.
func (p Plan) String() string {
	var b strings.Builder
	r := p.Request
	fmt.Fprintf(&b, "K=%d, %d images per batch, T=%d, N=%d, budget %s, activations %s/row, input %s/image\n",
		r.NumClasses, r.Images, r.Steps, r.Chains, Bytes(r.Budget), Bytes(r.ActivationBytes), Bytes(r.InputBytes))
	fmt.Fprintf(&b, "%-9s %14s %6s %6s %s\n", "sampler", "bytes/image", "fits", "NFE", "micro-batch")
	for _, c := range p.Costs {
		fmt.Fprintf(&b, "%-9s %14s %6v %6d %d\n", c.Sampler, Bytes(c.BytesPerImage), c.Fits, c.NFE, c.MicroBatch)
	}
	if p.Sampler != "" {
		fmt.Fprintf(&b, "decision: %s, micro-batch %d, %d model calls per image\n", p.Sampler, p.MicroBatch, p.NFE)
	}
	for _, why := range p.Reasons {
		fmt.Fprintf(&b, "  - %s\n", why)
	}
	return b.String()
}
