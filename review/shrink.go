package review

import (
	"image"
	"math"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/dicom"
)

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

// shrinkImage scales img down to at most side pixels on its longest side
// with imaging's area averaging, one band of source rows per output row,
// so that a huge image never exists as float planes: its memory is the
// decoded image, the output and one band. Grey images stay grey.
func shrinkImage(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := fit(b.Dx(), b.Dy(), side)
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	ch := 3
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		ch = 1
	}
	band := func(lo, hi int) [][]float64 {
		r := image.Rect(b.Min.X, b.Min.Y+lo, b.Max.X, b.Min.Y+hi)
		if sub, ok := img.(subImager); ok {
			return imaging.Planes(sub.SubImage(r), ch)
		}
		return imaging.Planes(view{img, r}, ch)
	}
	return resampleBands(band, b.Dx(), b.Dy(), w, h, ch)
}

// subImager is what every image type of the standard library is.
type subImager interface {
	SubImage(r image.Rectangle) image.Image
}

// view is an image seen through a smaller rectangle.
type view struct {
	image.Image
	r image.Rectangle
}

func (v view) Bounds() image.Rectangle { return v.r }

// shrinkPlanes scales W×H planes of values in [0, 1] (1 grey, 3 RGB) down
// to at most side pixels on the longest side.
func shrinkPlanes(planes [][]float64, width, height, side int) image.Image {
	w, h := fit(width, height, side)
	band := func(lo, hi int) [][]float64 {
		out := make([][]float64, len(planes))
		for c, p := range planes {
			out[c] = p[lo*width : hi*width]
		}
		return out
	}
	return resampleBands(band, width, height, w, h, len(planes))
}

// resampleBands builds the w×h image a row at a time: output row y
// averages source rows [y·H/h, ⌈(y+1)·H/h⌉), each resampled to w first
// (PyTorch's adaptive-pooling bins, as imaging.Resize, to the same values).
func resampleBands(band func(lo, hi int) [][]float64, width, height, w, h, ch int) image.Image {
	u8 := func(v float64) uint8 { return uint8(max(0, min(255, v*255+0.5))) }
	var grey *image.Gray
	var rgb *image.NRGBA
	if ch == 1 {
		grey = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		rgb = image.NewNRGBA(image.Rect(0, 0, w, h))
	}
	for y := range h {
		lo, hi := y*height/h, ((y+1)*height+h-1)/h
		p := band(lo, hi)
		for c := range ch {
			row := imaging.Resize(p[c], width, hi-lo, w, 1)
			if grey != nil {
				for x, v := range row {
					grey.Pix[y*grey.Stride+x] = u8(v)
				}
				continue
			}
			for x, v := range row {
				rgb.Pix[y*rgb.Stride+4*x+c] = u8(v)
			}
		}
		if rgb != nil {
			for x := range w {
				rgb.Pix[y*rgb.Stride+4*x+3] = 255
			}
		}
	}
	if grey != nil {
		return grey
	}
	return rgb
}

// windowed maps a DICOM frame to planes in [0, 1]: grey through the file's
// own window (min-max when it has none), in place; colour divided by its
// largest value. MONOCHROME1 is inverted last.
func windowed(f dicom.Frame, hdr *dicom.Image) [][]float64 {
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
	v := f.Values
	if center, width := hdr.WindowCenter, hdr.WindowWidth; width >= 1 {
		for p, x := range v {
			v[p] = math.Max(0, math.Min(1, (x-(center-0.5))/(width-1)+0.5))
		}
	} else {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		for p, x := range v {
			v[p] = 0
			if hi > lo {
				v[p] = (x - lo) / (hi - lo)
			}
		}
	}
	if f.Monochrome1 {
		for p := range v {
			v[p] = 1 - v[p]
		}
	}
	return [][]float64{v}
}
