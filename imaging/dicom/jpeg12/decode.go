//go:build cgo

package jpeg12

/*
#cgo LDFLAGS: -lgdcmjpeg12 -lgdcmjpeg8
#include "ijg.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG Extended.
const Available = true

// Decode decodes one JPEG Extended frame into native pixel data shaped as
// info says: samples interleaved (grey, or RGB), little-endian,
// BitsAllocated bits each.
func Decode(data []byte, info dicom.FrameInfo) ([]byte, error) {
	precision, err := checkInfo(info)
	if err != nil {
		return nil, err
	}
	if len(data) < 4 {
		return nil, fmt.Errorf("jpeg12: %d-byte stream", len(data))
	}
	decode := func(want *C.ijg_header, dst unsafe.Pointer, dstlen C.size_t, res *C.ijg_result) C.int {
		src, n := unsafe.Pointer(&data[0]), C.size_t(len(data))
		if precision == 12 {
			return C.ijg12_decode(src, n, want, dst, dstlen, res)
		}
		return C.ijg8_decode(src, n, want, dst, dstlen, res)
	}
	var res C.ijg_result
	if rc := decode(nil, nil, 0, &res); rc != C.IJG_OK {
		if p := int(res.got.precision); p != 0 && p != precision {
			return nil, precisionError(p, info)
		}
		return nil, libError("header", rc, &res)
	}
	g := res.got
	w, h, comps := int(g.width), int(g.height), int(g.components)
	switch {
	case w != info.Columns || h != info.Rows:
		return nil, fmt.Errorf("jpeg12: stream is %d×%d, dataset says %d×%d", w, h, info.Columns, info.Rows)
	case comps != info.SamplesPerPixel:
		return nil, fmt.Errorf("jpeg12: stream has %d components, dataset says %d samples per pixel", comps, info.SamplesPerPixel)
	case int(g.precision) != precision:
		return nil, precisionError(int(g.precision), info)
	}
	out := make([]byte, info.FrameBytes())
	want := g
	if rc := decode(&want, unsafe.Pointer(&out[0]), C.size_t(len(out)), &res); rc != C.IJG_OK {
		return nil, libError("decode", rc, &res)
	}
	return out, nil
}

// checkInfo refuses a frame shape no JPEG Extended stream decodes to, and
// returns the sample precision the stream must have.
func checkInfo(f dicom.FrameInfo) (int, error) {
	precision := 12
	if f.BitsAllocated == 8 {
		precision = 8
	}
	if err := f.Check("jpeg12"); err != nil {
		return 0, err
	}
	switch {
	case f.SamplesPerPixel != 1 && f.SamplesPerPixel != 3:
		return 0, fmt.Errorf("jpeg12: %d samples per pixel (want 1 or 3)", f.SamplesPerPixel)
	case f.BitsStored > precision:
		return 0, fmt.Errorf("jpeg12: %d bits stored in %d allocated (JPEG Extended holds at most %d)", f.BitsStored, f.BitsAllocated, precision)
	case f.FrameBytes() > maxFrameBytes:
		return 0, fmt.Errorf("jpeg12: %d-byte frame, over the %d-byte limit", f.FrameBytes(), maxFrameBytes)
	}
	return precision, nil
}

func precisionError(p int, info dicom.FrameInfo) error {
	return fmt.Errorf("jpeg12: stream has %d-bit samples, dataset says %d bits stored in %d allocated (want 8 in 8 or 12 in 16)", p, info.BitsStored, info.BitsAllocated)
}

func libError(step string, rc C.int, res *C.ijg_result) error {
	if rc == C.IJG_MISMATCH {
		return fmt.Errorf("jpeg12: %s: header changed between reads", step)
	}
	return fmt.Errorf("jpeg12: %s: %s", step, C.GoString(&res.msg[0]))
}
