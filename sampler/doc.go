// Package sampler implements the DiDiCM reverse process over class labels:
// the log-linear noise schedule, the CP sampler (class-probability space, with
// the rank-one O(K) update and the dense O(K²) form kept as an oracle), the CL
// sampler (N label chains, batched model calls, seeded randomness), and the
// uncertainty measures of a posterior.
//
// It does no I/O and has no cgo: it reaches the score model only through the
// [Scorer] interface. The formulas it implements are written out in
// docs/sampler.md; sampler arithmetic is done in float64.
package sampler
