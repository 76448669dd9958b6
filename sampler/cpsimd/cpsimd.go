//go:build cgo && amd64

package cpsimd

/*
#cgo CFLAGS: -O2 -std=gnu11
#cgo LDFLAGS: -lm
#include "kernel.h"
*/
import "C"

import "github.com/didicm/didicm/sampler"

// Available says whether this build and CPU run the vectorised kernel.
var Available = C.cpsimd_supported() != 0

// Kernel is the vectorised sampler.Kernel; use it only when Available.
var Kernel sampler.Kernel = kernel{}

type kernel struct{ sampler.GoKernel }

func (k kernel) Columns(l []float32, p, e, inv []float64) (s, w float64, ok bool) {
	n := len(l)
	if n < MinClasses || !Available {
		return k.GoKernel.Columns(l, p, e, inv)
	}
	p, e, inv = p[:n], e[:n], inv[:n] // bounds: the C loop trusts n
	var sw [2]C.double
	good := C.cpsimd_columns((*C.float)(&l[0]), (*C.double)(&p[0]), (*C.double)(&e[0]), (*C.double)(&inv[0]),
		C.int64_t(n), &sw[0])
	return float64(sw[0]), float64(sw[1]), good != 0
}

func (k kernel) Update(p, e, inv []float64, c, s, w, top float64) (lo int, total float64) {
	n := len(p)
	if n < MinClasses || !Available {
		return k.GoKernel.Update(p, e, inv, c, s, w, top)
	}
	e, inv = e[:n], inv[:n]
	var at C.int64_t
	var sum C.double
	C.cpsimd_update((*C.double)(&p[0]), (*C.double)(&e[0]), (*C.double)(&inv[0]), C.int64_t(n), C.double(c),
		C.double(s), C.double(w), C.double(top), &at, &sum)
	return int(at), float64(sum)
}

func (k kernel) Entropy(p []float64) float64 {
	if len(p) < MinClasses || !Available {
		return k.GoKernel.Entropy(p)
	}
	return float64(C.cpsimd_entropy((*C.double)(&p[0]), C.int64_t(len(p))))
}
