package review

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
)

// The longest side of a thumbnail and of a "full" image, in pixels.
const (
	thumbSide = 512
	fullSide  = 4096
)

// splitFrame splits a record key into the object key and the 1-based DICOM
// frame ("scan.dcm#frame=3"); 0 means the whole file or its only frame.
func splitFrame(key string) (string, int) {
	obj, f, ok := strings.Cut(key, "#frame=")
	if !ok {
		return key, 0
	}
	n, err := strconv.Atoi(f)
	if err != nil || n < 1 {
		return key, 0
	}
	return obj, n
}

// renderPNG decodes an image file (frame of a DICOM file, 1-based, or 0),
// scales it down to at most side pixels on its longest side and encodes
// it as PNG.
func renderPNG(data []byte, frame, side int) ([]byte, error) {
	var img image.Image
	var err error
	if frame > 0 || isDICOM(data) {
		img, err = dicomFrame(data, frame, side)
	} else {
		img, _, err = imaging.Decode(data, imaging.Limits{})
		if err == nil {
			img = shrink(img, side)
		}
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// isDICOM sniffs a Part 10 preamble, or a bare dataset that no image
// decoder claims (as imaging does).
func isDICOM(b []byte) bool {
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		return true
	}
	if !dicom.IsDICOM(b) {
		return false
	}
	_, _, err := image.DecodeConfig(bytes.NewReader(b))
	return err != nil
}

// fit returns w×h scaled down to at most side on the longest side.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

// shrink scales img down with imaging's area resampling.
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := fit(b.Dx(), b.Dy(), side)
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	planes := imaging.Planes(img, 3)
	for c, p := range planes {
		planes[c] = imaging.Resize(p, b.Dx(), b.Dy(), w, h)
	}
	return fromPlanes(planes, w, h)
}

// dicomFrame renders frame (1-based; 0 is the first) through imaging's
// DICOM path with the file's own window (min-max when it has none),
// MONOCHROME1 inverted, at most side pixels. imaging decodes every frame of
// the file; a review list rarely holds long multi-frame files.
func dicomFrame(data []byte, frame, side int) (image.Image, error) {
	hdr, err := dicom.Parse(data, dicom.Limits{MaxPixelBytes: imaging.DefaultMaxDecodedBytes})
	if err != nil {
		return nil, fmt.Errorf("dicom: %w", err)
	}
	w, h := fit(hdr.Columns, hdr.Rows, side)
	ch := 1
	if hdr.SamplesPerPixel == 3 {
		ch = 3
	}
	in := imaging.Input{Channels: ch, Width: w, Height: h, Mean: make([]float32, ch), Std: ones(ch),
		Intensity: imaging.Intensity{Kind: "file_window"}}
	samples, err := imaging.PreprocessAll(data, in, imaging.Limits{})
	if err != nil {
		return nil, err
	}
	i := max(frame, 1) - 1
	if i >= len(samples) {
		return nil, fmt.Errorf("dicom: frame %d of %d", frame, len(samples))
	}
	if samples[i].Err != nil {
		return nil, samples[i].Err
	}
	x := samples[i].Input
	planes := make([][]float64, ch)
	for c := range planes {
		planes[c] = make([]float64, w*h)
		for p := range planes[c] {
			planes[c][p] = float64(x[c*w*h+p])
		}
	}
	return fromPlanes(planes, w, h), nil
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// fromPlanes builds an image from 1 (grey) or 3 (RGB) planes in [0, 1].
func fromPlanes(planes [][]float64, w, h int) image.Image {
	u8 := func(v float64) uint8 { return uint8(max(0, min(255, v*255+0.5))) }
	if len(planes) == 1 {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for p, v := range planes[0] {
			g.Pix[p] = u8(v)
		}
		return g
	}
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for p := range w * h {
		m.SetNRGBA(p%w, p/w, color.NRGBA{u8(planes[0][p]), u8(planes[1][p]), u8(planes[2][p]), 255})
	}
	return m
}
