package main

import (
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/jpegturbo"
)

// JPEG files decode through libjpeg-turbo at the model's scale where the
// build has it (cgo, without -tags noturbo); else imaging's pure-Go path.
func init() {
	if jpegturbo.Available {
		imaging.SetJPEGDecoder(jpegturbo.Decode, jpegturbo.Scale)
	}
}
