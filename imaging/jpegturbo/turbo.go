//go:build cgo && !noturbo

package jpegturbo

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"sync"
	"unsafe"
)

// Available says whether this build decodes with libjpeg-turbo.
const Available = true

// ErrCMYK marks a CMYK or YCCK JPEG: left to the pure-Go decoder, which
// converts it as the rest of the pipeline expects.
var ErrCMYK = errors.New("jpegturbo: CMYK JPEG")

// Header is what a JPEG's header says.
type Header struct {
	Width, Height int
	CMYK          bool
}

// handles reuses TurboJPEG decompressors (each holds libjpeg state).
var handles = sync.Pool{New: func() any { return C.tjInitDecompress() }}

// flags: stop at the first libjpeg warning (a truncated or damaged stream is
// an error, not a grey-padded image) and refuse progressive files with an
// unreasonable number of scans (a decompression bomb).
const flags = C.TJFLAG_STOPONWARNING | C.TJFLAG_LIMITSCANS

// ReadHeader reads the header of b.
func ReadHeader(b []byte) (Header, error) {
	if len(b) == 0 {
		return Header{}, errors.New("jpegturbo: empty")
	}
	h := handles.Get().(C.tjhandle)
	defer handles.Put(h)
	var w, ht, sub, cs C.int
	if C.tjDecompressHeader3(h, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), &w, &ht, &sub, &cs) != 0 {
		return Header{}, fmt.Errorf("jpegturbo: header: %s", errorString(h))
	}
	return Header{Width: int(w), Height: int(ht), CMYK: cs == C.TJCS_CMYK || cs == C.TJCS_YCCK}, nil
}

// Decode decodes b at Scale(…, minW, minH), as grey (gray) or RGB, into a
// pooled buffer: release returns it once the image is no longer used.
// width×height is the size the caller checked its limits against: a file
// whose header reads otherwise to libjpeg (two frame headers, say) is refused.
func Decode(b []byte, width, height, minW, minH int, gray bool) (img image.Image, release func(), err error) {
	hd, err := ReadHeader(b)
	if err != nil {
		return nil, nil, err
	}
	if hd.CMYK {
		return nil, nil, ErrCMYK
	}
	if hd.Width != width || hd.Height != height || width <= 0 || height <= 0 {
		return nil, nil, fmt.Errorf("jpegturbo: the header reads %dx%d to libjpeg, %dx%d to the caller", hd.Width, hd.Height, width, height)
	}
	w, ht := Scale(hd.Width, hd.Height, minW, minH)
	pf, bpp := C.int(C.TJPF_RGBA), 4
	if gray {
		pf, bpp = C.TJPF_GRAY, 1
	}
	buf := getBuffer(w * ht * bpp)
	h := handles.Get().(C.tjhandle)
	defer handles.Put(h)
	rc := C.tjDecompress2(h, (*C.uchar)(unsafe.Pointer(&b[0])), C.ulong(len(b)), (*C.uchar)(unsafe.Pointer(&(*buf)[0])),
		C.int(w), C.int(w*bpp), C.int(ht), pf, flags)
	if rc != 0 {
		putBuffer(buf)
		return nil, nil, fmt.Errorf("jpegturbo: %s", errorString(h))
	}
	rect := image.Rect(0, 0, w, ht)
	if gray {
		img = &image.Gray{Pix: (*buf)[:w*ht], Stride: w, Rect: rect}
	} else {
		img = &image.NRGBA{Pix: (*buf)[:w*ht*4], Stride: 4 * w, Rect: rect} // alpha is 0xFF
	}
	var once sync.Once
	return img, func() { once.Do(func() { putBuffer(buf) }) }, nil
}

func errorString(h C.tjhandle) string { return C.GoString(C.tjGetErrorStr2(h)) }

// buffers holds decode outputs between images; a worker decodes frames of
// the same size over and over.
var buffers sync.Pool

func getBuffer(n int) *[]byte {
	if p, ok := buffers.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n)
	return &b
}

func putBuffer(p *[]byte) { buffers.Put(p) }
