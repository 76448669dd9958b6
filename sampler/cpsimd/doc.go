// Package cpsimd is sampler.Kernel in AVX2 and FMA (C with intrinsics): the
// CP step's two passes over K classes and the posterior's entropy, four
// classes per instruction, and its exponentials and logarithms by
// polynomials without tables. At K = 10⁵ it is what keeps the sampler a
// small share of a model call (docs/benchmarks.md). Below MinClasses, and on
// CPUs without AVX2 and FMA, it hands the work to sampler.GoKernel.
//
// It is a cgo package, linked only by the commands (internal/layering),
// which install it with sampler.SetKernel when Available. Builds without
// cgo, or for other architectures, get a stub (Available is false).
package cpsimd

// MinClasses is the smallest K that the vectorised loops take: below it a
// cgo call costs more than it saves.
const MinClasses = 256
