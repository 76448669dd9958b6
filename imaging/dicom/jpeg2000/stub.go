//go:build !cgo

package jpeg2000

import (
	"errors"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG 2000: not this one (built
// without cgo).
const Available = false

// Decode is not available in this build.
func Decode([]byte, dicom.FrameInfo) ([]byte, error) {
	return nil, errors.New("jpeg2000: JPEG 2000 codec not in this build (cgo off)")
}
