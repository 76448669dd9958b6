// Package digits writes MNIST digits as the small grey PNGs the shipped
// model reads: the demo's archive and the scale benchmark's are made of them.
package digits

import (
	"bytes"
	"image"
	"image/png"

	"github.com/didicm/didicm/imaging"
)

// PNG resizes one 28×28 MNIST digit (raw bytes, 0-255) to side×side as the
// training toolkit does and encodes it as a grey PNG.
func PNG(raw []byte, side int) ([]byte, error) {
	plane := make([]float64, 28*28)
	for j, v := range raw[:28*28] {
		plane[j] = float64(v) / 255
	}
	small := imaging.Resize(plane, 28, 28, side, side)
	img := image.NewGray(image.Rect(0, 0, side, side))
	for j, v := range small {
		img.Pix[j] = uint8(v*255 + 0.5)
	}
	var buf bytes.Buffer
	err := png.Encode(&buf, img)
	return buf.Bytes(), err
}
