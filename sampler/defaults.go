package sampler

// The sampler's defaults, owned here: every other package (classify, plan,
// jobs, the command's configuration) refers to these.
const (
	// DefaultSteps is T when none is configured. The model's own
	// recommendation, where it states one, comes first (see cmd).
	DefaultSteps = 2
	// DefaultChains is CL's N.
	DefaultChains = 16
	// DefaultMicroBatch is the most images per model call for CP and the
	// softmax baseline.
	DefaultMicroBatch = 64
	// DefaultCLRows is the most chain rows (image × chain) per CL model call.
	DefaultCLRows = 256
	// DefaultClamp is CP's clamp when none is given: only negatives are
	// clipped (docs/sampler.md has the measurements that chose it).
	DefaultClamp = ClampNegatives
)

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
