// Package jpegturbo decodes JPEG files through libjpeg-turbo's TurboJPEG API
// (Debian's libturbojpeg0-dev), at the smallest DCT scaling factor (1/8, 1/4,
// 1/2 or 1) whose output still covers the model's input: a 1920×1080 frame
// for a 224×224 model is decoded at 1/4 (480×270), several times faster
// than a full decode, and the resize that follows averages fewer pixels.
// The rule is Pillow's draft(), which the training toolkit uses, so both
// see the same pixels.
//
// It is a cgo package, linked only by the commands (internal/layering),
// which install it with imaging.SetJPEGDecoder. Builds without cgo, or with
// -tags noturbo, get a stub (Available is false) and imaging's pure-Go
// decoder.
package jpegturbo

// Scale is the size a w×h JPEG decodes to for a model input of minW×minH:
// Pillow's draft() rule, the largest factor s of 8, 4, 2 and 1 with
// s ≤ w/minW and s ≤ h/minH (integer division), and the size rounded up,
// as libjpeg scales.
func Scale(w, h, minW, minH int) (int, int) {
	if minW <= 0 || minH <= 0 {
		return w, h
	}
	r := min(w/minW, h/minH)
	s := 1
	for _, f := range []int{8, 4, 2} {
		if r >= f {
			s = f
			break
		}
	}
	return (w + s - 1) / s, (h + s - 1) / s
}
