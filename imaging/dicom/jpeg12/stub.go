//go:build !cgo

package jpeg12

import (
	"errors"

	"github.com/didicm/didicm/imaging/dicom"
)

// Available says whether this build decodes JPEG Extended: not this one
// (built without cgo).
const Available = false

// Decode is not available in this build.
func Decode([]byte, dicom.FrameInfo) ([]byte, error) {
	return nil, errors.New("jpeg12: JPEG Extended codec not in this build (cgo off)")
}
