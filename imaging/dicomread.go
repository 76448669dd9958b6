package imaging

import (
	"context"
	"errors"
	"math"

	"github.com/didicm/didicm/imaging/dicom"
)

// PreprocessAll is Expand with every input of a file collected (a
// multi-frame DICOM file gives one Sample per frame): for tests and tools
// that look at whole files; the pipeline streams through Expand.
func PreprocessAll(b []byte, in Input, lim Limits) ([]Sample, error) {
	var out []Sample
	err := Expand(context.Background(), File{Data: b}, in, lim, Sampling{MaxFrames: math.MaxInt32}, func(s Sample) error {
		out = append(out, s)
		return nil
	})
	if len(out) == 1 && out[0].Part {
		return nil, out[0].Err
	}
	return out, err
}

// isDICOM sniffs a DICOM file: a Part 10 preamble, or a bare dataset that
// no image decoder claims.
func isDICOM(b []byte) bool {
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		return true
	}
	return dicom.IsDICOM(b) && !knownImage(b)
}

func knownImage(b []byte) bool {
	for _, magic := range []string{"\x89PNG", "\xff\xd8", "GIF8", "BM", "II*\x00", "MM\x00*", "RIFF"} {
		if len(b) >= len(magic) && string(b[:len(magic)]) == magic {
			return true
		}
	}
	return false
}

// dicomFrame decodes frame i under the decode budget and makes the model input.
func dicomFrame(img *dicom.Image, i int, in Input, lim Limits) ([]float32, error) {
	px := int64(img.Rows) * int64(img.Columns)
	need := px * (int64(img.SamplesPerPixel)*(int64(max(1, img.BitsAllocated/8))+8) + 8*int64(in.Channels))
	if need > lim.maxDecodedBytes() {
		return nil, fail(ErrTooManyPix, "too_many_pixels", "DICOM frame of %dx%d×%d: about %d bytes to decode, limit %d",
			img.Columns, img.Rows, img.SamplesPerPixel, need, lim.maxDecodedBytes())
	}
	release := lim.Budget.acquire(need)
	defer release()
	f, err := img.Frame(i)
	if err != nil {
		return nil, dicomError(err)
	}
	planes := unitPlanes(f, img, in.Intensity)
	return tensorFromPlanes(planes, f.Width, f.Height, in), nil
}

// unitPlanes applies the intensity transform: grey frames through in's
// Intensity, colour by ColourMax; MONOCHROME1 inverted last.
func unitPlanes(f dicom.Frame, img *dicom.Image, t Intensity) [][]float64 {
	n := f.Width * f.Height
	if f.Channels == 3 {
		planes := [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
		for p := range n {
			for c := range 3 {
				planes[c][p] = f.Values[3*p+c] / f.ColourMax
			}
		}
		return planes
	}
	out := greyUnit(f.Values, img, t)
	if f.Monochrome1 {
		for p := range out {
			out[p] = 1 - out[p]
		}
	}
	return [][]float64{out}
}

// tensorFromPlanes converts [0, 1] planes (1 grey or 3 RGB) to the model's
// channels (grey repeated, or RGB to luma), resizes and normalises them.
func tensorFromPlanes(planes [][]float64, w, h int, in Input) []float32 {
	switch {
	case len(planes) == 1 && in.Channels == 3:
		planes = [][]float64{planes[0], planes[0], planes[0]}
	case len(planes) == 3 && in.Channels == 1:
		luma := make([]float64, w*h)
		for p := range luma {
			luma[p] = 0.299*planes[0][p] + 0.587*planes[1][p] + 0.114*planes[2][p]
		}
		planes = [][]float64{luma}
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	out := make([]float32, 0, in.Channels*in.Height*in.Width)
	for c, p := range planes {
		s.tmp, s.out = grow(s.tmp, in.Width*h), grow(s.out, in.Width*in.Height)
		resizeInto(s.out, s.tmp, p, w, h, in.Width, in.Height)
		m, sd := float64(in.Mean[c]), float64(in.Std[c])
		for _, v := range s.out {
			out = append(out, float32((v-m)/sd))
		}
	}
	return out
}

// dicomError gives a DICOM failure its record reason.
func dicomError(err error) error {
	switch {
	case errors.Is(err, dicom.ErrUnsupportedSyntax):
		return fail(ErrFormat, "unsupported_transfer_syntax", "%v", err)
	case errors.Is(err, dicom.ErrTooLarge):
		return fail(ErrTooManyPix, "too_many_pixels", "%v", err)
	case errors.Is(err, dicom.ErrUnsupported):
		return fail(ErrFormat, "unsupported_format", "%v", err)
	}
	return fail(ErrCorrupt, "corrupt", "%v", err)
}
