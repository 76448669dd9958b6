//go:build !cgo

package jpegls

import (
	"errors"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG-LS: not this one (built
// without cgo).
const Available = false

// Decode is not available in this build.
func Decode([]byte, dicom.FrameInfo) ([]byte, error) {
	return nil, errors.New("jpegls: JPEG-LS codec not in this build (cgo off)")
}
