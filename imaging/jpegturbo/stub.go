//go:build !cgo || noturbo

package jpegturbo

import (
	"errors"
	"image"
)

// Available says whether this build decodes with libjpeg-turbo: not this
// one (built without cgo, or with -tags noturbo).
const Available = false

// ErrCMYK marks a CMYK JPEG (never returned by this build).
var ErrCMYK = errors.New("jpegturbo: CMYK JPEG")

var errUnavailable = errors.New("jpegturbo: not in this build (cgo off or -tags noturbo)")

// Header is what a JPEG's header says.
type Header struct {
	Width, Height int
	CMYK          bool
}

// ReadHeader is not available in this build.
func ReadHeader([]byte) (Header, error) { return Header{}, errUnavailable }

// Decode is not available in this build.
func Decode([]byte, int, int, int, int, bool) (image.Image, func(), error) {
	return nil, nil, errUnavailable
}
