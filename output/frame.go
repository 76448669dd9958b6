package output

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
)

// errFound stops imaging.Expand once the wanted frame is made.
var errFound = errors.New("frame found")

// FramePNG renders frame n (1-based) of a multi-frame DICOM file as an
// 8-bit PNG at the frame's own size, as the model reads it before any
// resizing: grey frames through the intensity transform t (a model's
// didicm.intensity; the zero value is bits, the transform of models that
// declare none), MONOCHROME1 inverted, colour frames divided by their
// largest value. Each value is rounded to the nearest of 256 levels, which
// is what a PNG read back as v/255 (the training toolkit's read_image)
// gives. Frames before n are decoded and dropped, one at a time, within
// lim.
func FramePNG(ctx context.Context, data []byte, n int, t imaging.Intensity, lim imaging.Limits) ([]byte, error) {
	hdr, err := dicom.Parse(data, dicom.Limits{MaxPixelBytes: lim.MaxDecodedBytes})
	if err != nil {
		return nil, fmt.Errorf("dicom: %w", err)
	}
	if n < 1 || n > hdr.Frames {
		return nil, fmt.Errorf("dicom: frame %d of %d", n, hdr.Frames)
	}
	ch := 1
	if hdr.SamplesPerPixel == 3 || hdr.Palette != nil {
		ch = 3
	}
	in := imaging.Input{Channels: ch, Width: hdr.Columns, Height: hdr.Rows, Intensity: t}
	for range ch {
		in.Mean, in.Std = append(in.Mean, 0), append(in.Std, 1)
	}
	var got []float32
	err = imaging.Expand(ctx, imaging.File{Data: data}, in, lim, imaging.Sampling{MaxFrames: hdr.Frames},
		func(s imaging.Sample) error {
			if s.Err != nil && (s.Part || s.Frame == n) {
				return s.Err
			}
			if s.Frame != n && (n != 1 || s.Frame != 0) {
				return nil
			}
			got = s.Input
			return errFound
		})
	if !errors.Is(err, errFound) {
		return nil, cmp.Or(err, fmt.Errorf("dicom: frame %d not decoded", n))
	}
	return encodePNG(got, ch, hdr.Columns, hdr.Rows)
}

// encodePNG writes C×H×W values in [0, 1] as an 8-bit grey or RGB PNG.
func encodePNG(x []float32, ch, w, h int) ([]byte, error) {
	level := func(v float32) uint8 { return uint8(math.Round(float64(min(max(v, 0), 1)) * 255)) }
	var img image.Image
	if ch == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i, v := range x[:w*h] {
			g.Pix[i] = level(v)
		}
		img = g
	} else {
		c := image.NewNRGBA(image.Rect(0, 0, w, h))
		for p := range w * h {
			c.SetNRGBA(p%w, p/w, color.NRGBA{R: level(x[p]), G: level(x[w*h+p]), B: level(x[2*w*h+p]), A: 255})
		}
		img = c
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}
