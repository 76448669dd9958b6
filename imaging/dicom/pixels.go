package dicom

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"math"
)

// Frame is one decoded frame: Height×Width values, interleaved by channel.
// Grey values are in modality units (stored value × slope + intercept);
// colour values (RGB) run from 0 to ColourMax.
type Frame struct {
	Width, Height, Channels int
	Values                  []float64
	ColourMax               float64
	// Monochrome1 says low values are bright (the caller inverts after its
	// intensity transform).
	Monochrome1 bool
}

// FrameInfo describes the image's frames for a codec.
func (img *Image) FrameInfo() FrameInfo {
	return FrameInfo{Rows: img.Rows, Columns: img.Columns, SamplesPerPixel: img.SamplesPerPixel,
		BitsAllocated: img.BitsAllocated, BitsStored: img.BitsStored, Signed: img.Signed}
}

// Frame decodes frame i (0-based).
func (img *Image) Frame(i int) (Frame, error) {
	if i < 0 || i >= img.Frames {
		return Frame{}, fmt.Errorf("frame %d of %d", i, img.Frames)
	}
	raw, rgbDone, err := img.frameBytes(i)
	if err != nil {
		return Frame{}, err
	}
	samples, err := img.samples(raw)
	if err != nil {
		return Frame{}, err
	}
	n := img.Rows * img.Columns
	f := Frame{Width: img.Columns, Height: img.Rows, Channels: 1, Monochrome1: img.Photometric == "MONOCHROME1"}
	switch {
	case img.Palette != nil:
		f.Channels, f.Values, f.ColourMax = 3, img.Palette.apply(samples), float64(uint(1)<<img.Palette.Bits-1)
	case img.SamplesPerPixel == 1:
		f.Values = samples
		for k, v := range f.Values {
			f.Values[k] = v*img.RescaleSlope + img.RescaleIntercept
		}
	default:
		f.Channels, f.ColourMax = 3, float64(uint64(1)<<img.BitsStored-1)
		if img.Planar == 1 && img.isNative() { // RLE and the codecs give interleaved samples
			samples = interleave(samples, n)
		}
		if !rgbDone && (img.Photometric == "YBR_FULL" || img.Photometric == "YBR_FULL_422") {
			ybrToRGB(samples, f.ColourMax)
		}
		f.Values = samples
	}
	return f, nil
}

// frameBytes returns frame i as native little-endian bytes (for
// BitsAllocated 1, the frame's bits starting at bit 0 of the slice), and
// whether the decoder already produced RGB.
func (img *Image) frameBytes(i int) ([]byte, bool, error) {
	if img.isNative() {
		raw, err := img.nativeFrame(i)
		return raw, false, err
	}
	data, info := img.fragments[i], img.FrameInfo()
	switch img.TransferSyntax {
	case RLELossless:
		out, err := decodeRLE(data, info)
		return out, false, err
	case JPEGBaseline:
		return decodeBaseline(data, info)
	case JPEGLossless, JPEGLosslessSV1:
		out, err := decodeLossless(data, info)
		return out, false, err
	}
	d, err := decoderFor(img.TransferSyntax)
	if err != nil {
		return nil, false, err
	}
	out, err := d(data, info)
	if err == nil && len(out) != info.FrameBytes() {
		err = fmt.Errorf("%w: the %s decoder gave %d bytes for a %d-byte frame", ErrMalformed, syntaxName(img.TransferSyntax), len(out), info.FrameBytes())
	}
	// JPEG 2000's multiple-component transform is undone by the decoder.
	return out, img.Photometric == "YBR_RCT" || img.Photometric == "YBR_ICT", err
}

// nativeFrame returns frame i of native pixel data as little-endian bytes
// (for BitsAllocated 1, the frame's bits from bit 0), copying no more than
// the frame.
func (img *Image) nativeFrame(i int) ([]byte, error) {
	size := img.nativeFrameBytes()
	lo, hi := int64(i)*size, int64(i+1)*size // in bits when BitsAllocated is 1
	if img.BitsAllocated == 1 {
		src, err := img.nativeRange(lo/8, (hi+7)/8)
		if err != nil {
			return nil, err
		}
		return bitsFrom(src, lo%8, size), nil
	}
	if img.bigEndian && img.BitsAllocated == 8 && img.pixelVR == "OW" {
		return img.swappedWords(lo, hi), nil
	}
	b, err := img.nativeRange(lo, hi)
	if err != nil || !img.bigEndian || img.BitsAllocated == 8 {
		return b, err
	}
	out := make([]byte, len(b))
	w := img.BitsAllocated / 8
	for k := 0; k+w <= len(b); k += w {
		for j := range w {
			out[k+j] = b[k+w-1-j]
		}
	}
	return out, nil
}

// nativeRange is bytes [lo, hi) of the native pixel data.
func (img *Image) nativeRange(lo, hi int64) ([]byte, error) {
	if img.deflated != nil {
		return img.deflated.bytes(lo, hi)
	}
	return img.native[lo:hi], nil
}

// bitsFrom copies n bits of src from bit off (0 to 7) to bit 0 of a new slice.
func bitsFrom(src []byte, off, n int64) []byte {
	out := make([]byte, (n+7)/8)
	for k := range n {
		if p := off + k; src[p/8]>>(p%8)&1 == 1 {
			out[k/8] |= 1 << (k % 8)
		}
	}
	return out
}

// swappedWords is bytes [lo, hi) of big-endian OW pixel data holding 8-bit
// samples: the 16-bit words that hold them are swapped back (a frame may
// start mid-word), and only those.
func (img *Image) swappedWords(lo, hi int64) []byte {
	a, b := lo&^1, min((hi+1)&^1, int64(len(img.native)))
	words := make([]byte, b-a)
	for k := int64(0); k+1 < int64(len(words)); k += 2 {
		words[k], words[k+1] = img.native[a+k+1], img.native[a+k]
	}
	return words[lo-a : hi-a]
}

// isNative says whether the pixel data is native (not encapsulated).
func (img *Image) isNative() bool { return img.native != nil || img.deflated != nil }

// nativeLen is the length of native pixel data, as its element says.
func (img *Image) nativeLen() int64 {
	if img.deflated != nil {
		return img.deflated.size
	}
	return int64(len(img.native))
}

// samples reads the stored values: BitsStored bits ending at HighBit,
// sign-extended when PixelRepresentation is 1.
func (img *Image) samples(raw []byte) ([]float64, error) {
	n := img.Rows * img.Columns * img.SamplesPerPixel
	if img.Photometric == "YBR_FULL_422" && img.isNative() {
		return img.samples422(raw)
	}
	out := make([]float64, n)
	if img.BitsAllocated == 1 {
		for k := range out {
			out[k] = float64(raw[k/8] >> (k % 8) & 1)
		}
		return out, nil
	}
	w := img.BitsAllocated / 8
	if len(raw) < n*w {
		return nil, fmt.Errorf("%w: frame of %d bytes, %d needed", ErrMalformed, len(raw), n*w)
	}
	shift := uint(img.High + 1 - img.BitsStored)
	mask := uint64(1)<<img.BitsStored - 1
	sign := uint64(1) << (img.BitsStored - 1)
	for k := range out {
		var v uint64
		switch w {
		case 1:
			v = uint64(raw[k])
		case 2:
			v = uint64(binary.LittleEndian.Uint16(raw[2*k:]))
		default:
			v = uint64(binary.LittleEndian.Uint32(raw[4*k:]))
		}
		v = v >> shift & mask
		if img.Signed && v&sign != 0 {
			out[k] = float64(int64(v) - int64(mask) - 1)
		} else {
			out[k] = float64(v)
		}
	}
	return out, nil
}

// samples422 expands native YBR_FULL_422 (Y1 Y2 Cb Cr for each pair of
// pixels in a row) to three samples a pixel.
func (img *Image) samples422(raw []byte) ([]float64, error) {
	if img.BitsAllocated != 8 || img.Columns%2 != 0 {
		return nil, fmt.Errorf("%w: YBR_FULL_422 with %d bits or an odd width", ErrUnsupported, img.BitsAllocated)
	}
	n := img.Rows * img.Columns
	if len(raw) < 2*n {
		return nil, fmt.Errorf("%w: YBR_FULL_422 frame of %d bytes, %d needed", ErrMalformed, len(raw), 2*n)
	}
	out := make([]float64, 3*n)
	for p := 0; p < n; p += 2 {
		y1, y2, cb, cr := raw[2*p], raw[2*p+1], raw[2*p+2], raw[2*p+3]
		copy(out[3*p:], []float64{float64(y1), float64(cb), float64(cr), float64(y2), float64(cb), float64(cr)})
	}
	return out, nil
}

// interleave turns planar samples (all R, all G, all B) into R G B triples.
func interleave(s []float64, n int) []float64 {
	out := make([]float64, len(s))
	for p := range n {
		out[3*p], out[3*p+1], out[3*p+2] = s[p], s[n+p], s[2*n+p]
	}
	return out
}

// ybrToRGB converts full-range YCbCr (ITU-R BT.601, as DICOM's YBR_FULL)
// to RGB in place, clipped to [0, max].
func ybrToRGB(s []float64, max float64) {
	half := (max + 1) / 2
	for k := 0; k+2 < len(s); k += 3 {
		y, cb, cr := s[k], s[k+1]-half, s[k+2]-half
		s[k] = clip(y+1.402*cr, max)
		s[k+1] = clip(y-0.344136*cb-0.714136*cr, max)
		s[k+2] = clip(y+1.772*cb, max)
	}
}

func clip(v, max float64) float64 { return math.Max(0, math.Min(max, v)) }

// apply maps palette indices to RGB triples.
func (p *Palette) apply(idx []float64) []float64 {
	out := make([]float64, 3*len(idx))
	for k, v := range idx {
		i := int(v) - p.First
		i = max(0, min(p.Entries-1, i))
		out[3*k], out[3*k+1], out[3*k+2] = float64(p.Red[i]), float64(p.Green[i]), float64(p.Blue[i])
		if p.Bits == 8 { // 8-bit entries stored in 16-bit words: the value is the low byte
			out[3*k], out[3*k+1], out[3*k+2] = float64(p.Red[i]&0xFF), float64(p.Green[i]&0xFF), float64(p.Blue[i]&0xFF)
		}
	}
	return out
}

// decodeBaseline decodes a JPEG Baseline frame with image/jpeg: 8-bit grey
// or RGB (the decoder converts YCbCr itself).
func decodeBaseline(data []byte, info FrameInfo) ([]byte, bool, error) {
	if info.BitsAllocated != 8 {
		return nil, false, fmt.Errorf("%w: JPEG Baseline with %d bits allocated", ErrMalformed, info.BitsAllocated)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%w: JPEG Baseline header: %w", ErrMalformed, err)
	}
	if cfg.Width != info.Columns || cfg.Height != info.Rows {
		return nil, false, fmt.Errorf("%w: JPEG of %dx%d in a %dx%d image", ErrMalformed, cfg.Width, cfg.Height, info.Columns, info.Rows)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, false, fmt.Errorf("%w: JPEG Baseline: %w", ErrMalformed, err)
	}
	out := make([]byte, 0, info.FrameBytes())
	b := img.Bounds()
	switch m := img.(type) {
	case *image.Gray:
		if info.SamplesPerPixel != 1 {
			return nil, false, fmt.Errorf("%w: grey JPEG in a colour image", ErrMalformed)
		}
		for y := range b.Dy() {
			out = append(out, m.Pix[y*m.Stride:y*m.Stride+b.Dx()]...)
		}
	default:
		if info.SamplesPerPixel != 3 {
			return nil, false, fmt.Errorf("%w: colour JPEG in a grey image", ErrMalformed)
		}
		for y := range b.Dy() {
			for x := range b.Dx() {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8))
			}
		}
	}
	return out, true, nil
}
