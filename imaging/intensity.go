package imaging

import (
	"fmt"
	"math"

	"github.com/didicm/didicm/imaging/dicom"
)

// Intensity maps a grey DICOM frame's modality values (stored value ×
// slope + intercept, e.g. Hounsfield units) to [0, 1]; it is part of a
// model's metadata (didicm.intensity), so that training and the pipeline see
// the same numbers. Colour frames are divided by their largest value.
type Intensity struct {
	// Kind is one of:
	//   - "bits": the stored value over its bit depth, v / (2^BitsStored − 1)
	//     (signed values shifted by 2^(BitsStored−1) first), whatever the
	//     rescale: a grey DICOM reads as a PNG or JPEG of the same samples
	//     does. The transform of models not trained on DICOM.
	//   - "window": Center and Width, DICOM's linear VOI function on
	//     modality values.
	//   - "file_window": the file's own first window; minmax when it has none.
	//   - "minmax": each frame's own range.
	// Empty means bits.
	Kind   string  `json:"kind"`
	Center float64 `json:"center,omitempty"`
	Width  float64 `json:"width,omitempty"`
}

// DefaultIntensity is the transform of a model that declares none: a model
// trained on other images reads a grey DICOM as it would read a PNG of it.
var DefaultIntensity = Intensity{Kind: "bits"}

// Validate names what is wrong with a transform.
func (t Intensity) Validate() error {
	switch t.Kind {
	case "", "bits", "minmax", "file_window":
		return nil
	case "window":
		if !(t.Width >= 1) || math.IsNaN(t.Center) || math.IsInf(t.Center, 0) {
			return fmt.Errorf("window width %g: want at least 1 (and a finite centre)", t.Width)
		}
		return nil
	}
	return fmt.Errorf("intensity kind %q: want bits, window, file_window or minmax", t.Kind)
}

// greyUnit maps a grey frame's modality values v to [0, 1] by t (the file
// window and rescale from img), before any MONOCHROME1 inversion.
func greyUnit(v []float64, img *dicom.Image, t Intensity) []float64 {
	kind, center, width := t.Kind, t.Center, t.Width
	if kind == "file_window" {
		kind, center, width = "window", img.WindowCenter, img.WindowWidth
		if width < 1 {
			kind = "minmax"
		}
	}
	out := make([]float64, len(v))
	switch kind {
	case "window":
		for p, x := range v {
			out[p] = math.Max(0, math.Min(1, (x-(center-0.5))/(width-1)+0.5))
		}
		return out
	case "minmax":
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		return linear(out, v, lo, hi)
	}
	lo, hi := bitsRange(img)
	return linear(out, v, lo, hi)
}

// linear maps lo to 0 and hi to 1 (hi below lo inverts), clipped to
// [0, 1]; all 0 when hi equals lo.
func linear(out, v []float64, lo, hi float64) []float64 {
	if hi == lo {
		return out
	}
	for p, x := range v {
		out[p] = math.Max(0, math.Min(1, (x-lo)/(hi-lo)))
	}
	return out
}

// bitsRange is the modality values of the least and the greatest stored
// value that BitsStored bits hold (signed with PixelRepresentation 1):
// mapping them to 0 and 1 divides the stored value by its bit depth
// whatever the rescale, exactly (x / 255 for 8 bits without one).
func bitsRange(img *dicom.Image) (lo, hi float64) {
	smin, smax := 0.0, math.Ldexp(1, img.BitsStored)-1
	if img.Signed {
		smin, smax = -math.Ldexp(1, img.BitsStored-1), math.Ldexp(1, img.BitsStored-1)-1
	}
	return smin*img.RescaleSlope + img.RescaleIntercept, smax*img.RescaleSlope + img.RescaleIntercept
}
