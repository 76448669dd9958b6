//go:build !cgo || !amd64

package cpsimd

import "github.com/didicm/didicm/sampler"

// Available says whether this build and CPU run the vectorised kernel: not
// this build (no cgo, or not amd64).
const Available = false

// Kernel is sampler.GoKernel in this build.
var Kernel sampler.Kernel = sampler.GoKernel{}
