package imaging

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sync"
)

// Input describes a model input (from the model's metadata).
type Input struct {
	// Channels is 1 (gray) or 3 (RGB).
	Channels, Height, Width int
	// Mean and Std normalise each channel: (x − mean)/std with x in [0, 1].
	Mean, Std []float32
	// Intensity maps grey DICOM values to [0, 1] (the model's didicm.intensity).
	Intensity Intensity
}

// Validate reports an unusable input description.
func (in Input) Validate() error {
	if in.Channels != 1 && in.Channels != 3 || in.Height <= 0 || in.Width <= 0 ||
		len(in.Mean) != in.Channels || len(in.Std) != in.Channels {
		return fmt.Errorf("model input %+v: want 1 or 3 channels, positive size, one mean and std per channel", in)
	}
	return nil
}

// Preprocess decodes b and returns the model input as float32 C×H×W.
func Preprocess(b []byte, in Input, lim Limits) ([]float32, error) {
	img, _, release, err := decode(b, lim, in)
	defer release()
	if err != nil {
		return nil, err
	}
	return Tensor(img, in), nil
}

// Tensor converts img to the model's colour mode, resizes it to the model's
// size and normalises it.
func Tensor(img image.Image, in Input) []float32 {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	b := img.Bounds()
	s.planes = s.planes[:0]
	for range in.Channels { // the planes are reused between images too
		i := len(s.planes)
		if i < cap(s.planes) {
			s.planes = s.planes[:i+1]
			s.planes[i] = grow(s.planes[i], b.Dx()*b.Dy())
		} else {
			s.planes = append(s.planes, make([]float64, b.Dx()*b.Dy()))
		}
	}
	planes := planesInto(s.planes, img)
	out := make([]float32, 0, in.Channels*in.Height*in.Width)
	for c, p := range planes {
		s.tmp, s.out = grow(s.tmp, in.Width*b.Dy()), grow(s.out, in.Width*in.Height)
		resizeInto(s.out, s.tmp, p, b.Dx(), b.Dy(), in.Width, in.Height)
		m, sd := float64(in.Mean[c]), float64(in.Std[c])
		for _, v := range s.out {
			out = append(out, float32((v-m)/sd))
		}
	}
	return out
}

// scratch holds Resize's intermediate planes between images (a worker
// preprocesses a few thousand a second; these were a tenth of its garbage).
type scratch struct {
	tmp, out []float64
	planes   [][]float64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// Planes returns the image as channels planes of values in [0, 1]: the
// straight (not alpha-premultiplied) RGB, or for one channel the luma
// 0.299R + 0.587G + 0.114B (ITU-R 601-2, as PIL's "L" mode; for JPEG this is
// its Y channel).
func Planes(img image.Image, channels int) [][]float64 {
	b := img.Bounds()
	planes := make([][]float64, channels)
	for c := range planes {
		planes[c] = make([]float64, b.Dx()*b.Dy())
	}
	return planesInto(planes, img)
}

// planesInto is Planes into len(planes) planes of the image's size.
func planesInto(planes [][]float64, img image.Image) [][]float64 {
	b := img.Bounds()
	w, h, channels := b.Dx(), b.Dy(), len(planes)
	set := func(i int, r, g, bl float64) {
		if channels == 1 {
			planes[0][i] = 0.299*r + 0.587*g + 0.114*bl
			return
		}
		planes[0][i], planes[1][i], planes[2][i] = r, g, bl
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				f := float64(v) / 255
				set(y*w+x, f, f, f)
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(b.Min.X+x, b.Min.Y+y), m.COffset(b.Min.X+x, b.Min.Y+y)
				if channels == 1 {
					planes[0][y*w+x] = float64(m.Y[yi]) / 255
					continue
				}
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(y*w+x, float64(r)/255, float64(g)/255, float64(bl)/255)
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				set(y*w+x, float64(row[4*x])/255, float64(row[4*x+1])/255, float64(row[4*x+2])/255)
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
				set(y*w+x, float64(c.R)/65535, float64(c.G)/65535, float64(c.B)/65535)
			}
		}
	}
	return planes
}

// Resize resamples one w×h plane to ow×oh, each axis on its own: area
// averaging over PyTorch's adaptive-pooling bins when shrinking, bilinear with
// half-pixel centres when enlarging, a copy when equal.
func Resize(p []float64, w, h, ow, oh int) []float64 {
	out := make([]float64, ow*oh)
	resizeInto(out, make([]float64, ow*h), p, w, h, ow, oh)
	return out
}

// resizeInto is Resize writing into out (ow*oh values) through tmp (ow*h).
func resizeInto(out, tmp, p []float64, w, h, ow, oh int) {
	for y := range h {
		resample(p[y*w:(y+1)*w], 1, tmp[y*ow:(y+1)*ow], 1, w, ow)
	}
	resampleRows(tmp, out, ow, h, oh)
}

// resampleRows is resample down the columns of tmp (h rows of ow), done a
// whole row at a time so that memory is read in order: the same sums in
// the same order as resample, so the same values to the last bit.
func resampleRows(tmp, out []float64, ow, h, oh int) {
	row := func(i int) []float64 { return tmp[i*ow : (i+1)*ow] }
	switch {
	case oh == h:
		copy(out, tmp[:ow*oh])
	case oh < h:
		for i := range oh {
			lo, hi := i*h/oh, ((i+1)*h+oh-1)/oh
			dst := out[i*ow : (i+1)*ow]
			copy(dst, row(lo))
			for j := lo + 1; j < hi; j++ {
				for x, v := range row(j) {
					dst[x] += v
				}
			}
			n := float64(hi - lo)
			for x := range dst {
				dst[x] /= n
			}
		}
	default:
		scale := float64(h) / float64(oh)
		for i := range oh {
			y := math.Max(0, (float64(i)+0.5)*scale-0.5)
			i0 := int(y)
			i1 := min(i0+1, h-1)
			f := y - float64(i0)
			r0, r1, dst := row(i0), row(i1), out[i*ow:(i+1)*ow]
			for x := range dst {
				dst[x] = (1-f)*r0[x] + f*r1[x]
			}
		}
	}
}

// resample maps n values of src (stride ss) to m values of dst (stride ds).
func resample(src []float64, ss int, dst []float64, ds int, n, m int) {
	switch {
	case m == n:
		for i := range m {
			dst[i*ds] = src[i*ss]
		}
	case m < n:
		for i := range m {
			lo, hi := i*n/m, ((i+1)*n+m-1)/m // floor and ceil of the bin edges
			var s float64
			for j := lo; j < hi; j++ {
				s += src[j*ss]
			}
			dst[i*ds] = s / float64(hi-lo)
		}
	default:
		scale := float64(n) / float64(m)
		for i := range m {
			x := math.Max(0, (float64(i)+0.5)*scale-0.5)
			i0 := int(x)
			i1 := min(i0+1, n-1)
			f := x - float64(i0)
			dst[i*ds] = (1-f)*src[i0*ss] + f*src[i1*ss]
		}
	}
}
