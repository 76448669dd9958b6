// Package imaging turns the bytes of an archive's image file into a model
// input: limits checked before decoding, PNG/JPEG (EXIF orientation)/GIF
// (first frame)/BMP/TIFF/WebP decoding, conversion to the model's colour
// mode, resizing (area averaging when shrinking, bilinear when enlarging, as
// PyTorch's "area" and "bilinear" with half-pixel centres) and normalisation.
// Every failure is an *Error for that one image.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registers the decoders image.Decode sniffs for
	_ "image/jpeg"
	_ "image/png"
	"io"
	"strings"

	orient "github.com/disintegration/imaging"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Sentinels for errors.Is; an *Error wraps one of them.
var (
	ErrEmpty      = errors.New("empty file")
	ErrTooLarge   = errors.New("file too large")
	ErrTooManyPix = errors.New("image too large")
	ErrFormat     = errors.New("not a supported image format")
	ErrCorrupt    = errors.New("corrupt image")
)

// Error is a per-image failure. Reason is a stable word for result records.
type Error struct {
	Reason string // empty, too_large, too_many_pixels, unsupported_format, unsupported_transfer_syntax, corrupt
	Detail string
	Err    error // one of the sentinels
}

func (e *Error) Error() string { return e.Err.Error() + ": " + e.Detail }

func (e *Error) Unwrap() error { return e.Err }

func fail(sentinel error, reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...), Err: sentinel}
}

// Limits bound what is decoded.
type Limits struct {
	// MaxBytes is the largest encoded file. Zero means DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels is the largest width×height, checked from the header before
	// any pixel memory is allocated. Zero means DefaultMaxPixels.
	MaxPixels int64
	// MaxDecodedBytes bounds one image's working memory, estimated from its
	// header before decoding (DecodedBytes). Zero means DefaultMaxDecodedBytes.
	MaxDecodedBytes int64
	// Budget, when set, is shared by every decode in the process: an image
	// waits until its working memory fits, so concurrent batches of large
	// images queue instead of exhausting memory.
	Budget *Budget
}

// The decoding limits when none are configured.
const (
	DefaultMaxBytes        = 64 << 20
	DefaultMaxPixels       = 100_000_000
	DefaultMaxDecodedBytes = 1 << 30
)

func (l Limits) maxBytes() int64        { return orDefault(l.MaxBytes, DefaultMaxBytes) }
func (l Limits) maxPixels() int64       { return orDefault(l.MaxPixels, DefaultMaxPixels) }
func (l Limits) maxDecodedBytes() int64 { return orDefault(l.MaxDecodedBytes, DefaultMaxDecodedBytes) }

// DecodedBytes estimates the memory that decoding and preprocessing an image
// hold at once: the decoded pixels in their stored form (16-bit RGBA: 8
// bytes a pixel; a JPEG's rotated copy for EXIF orientation included) plus
// the float64 planes Tensor converts them to, one per model channel.
func DecodedBytes(cfg image.Config, format string, channels int) int64 {
	var bpp int64
	switch cfg.ColorModel {
	case color.GrayModel, color.AlphaModel:
		bpp = 1
	case color.Gray16Model, color.Alpha16Model:
		bpp = 2
	case color.YCbCrModel:
		bpp = 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		bpp = 4
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			bpp = 1
		} else {
			bpp = 8 // 16-bit RGBA and anything unknown
		}
	}
	if format == "jpeg" {
		bpp += 4 // orientation may copy the image to NRGBA
	}
	return int64(cfg.Width) * int64(cfg.Height) * (bpp + 8*int64(max(1, channels)))
}

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// Decode checks b against the limits, then decodes it. JPEG EXIF
// orientation is applied. It returns the image and its format name.
func Decode(b []byte, lim Limits) (image.Image, string, error) {
	img, format, release, err := decode(b, lim, Input{Channels: 3})
	release()
	return img, format, err
}

// JPEGDecoder decodes a JPEG at a reduced size that still covers minW×minH
// (imaging/jpegturbo.Decode): as grey or RGB, into a buffer that release
// gives back. Orientation is applied by the caller.
// width×height is the size the limits were checked against (from the
// header as image/jpeg reads it); the decoder refuses a file that reads
// otherwise.
type JPEGDecoder func(b []byte, width, height, minW, minH int, gray bool) (img image.Image, release func(), err error)

// JPEGScale is the size a JPEGDecoder decodes a w×h image to.
type JPEGScale func(w, h, minW, minH int) (int, int)

var jpegDecoder struct {
	decode JPEGDecoder
	scale  JPEGScale
}

// SetJPEGDecoder installs a scaled JPEG decoder and its size rule, once at
// start-up (the commands install jpegturbo where the build has it). Nil
// means image/jpeg at full size.
func SetJPEGDecoder(d JPEGDecoder, s JPEGScale) {
	jpegDecoder.decode, jpegDecoder.scale = d, s
}

// decode is Decode for the model input in (a zero size decodes at full
// size); release returns the image's share of lim.Budget and any pooled
// buffer (call it when done with the image).
func decode(b []byte, lim Limits, in Input) (image.Image, string, func(), error) {
	noop := func() {}
	cfg, format, err := header(b, lim)
	if err != nil {
		return nil, format, noop, err
	}
	fullW, fullH := cfg.Width, cfg.Height
	scaled := format == "jpeg" && jpegDecoder.decode != nil && cfg.ColorModel != color.CMYKModel
	o := 1
	if scaled {
		o = jpegOrientation(b)
		minW, minH := in.Width, in.Height
		if o >= 5 { // stored sideways: the model's width is the stored height
			minW, minH = minH, minW
		}
		cfg.Width, cfg.Height = jpegDecoder.scale(cfg.Width, cfg.Height, minW, minH)
	}
	need := DecodedBytes(cfg, format, in.Channels)
	if need > lim.maxDecodedBytes() {
		return nil, format, noop, fail(ErrTooManyPix, "too_many_pixels", "%s header gives %dx%d %s pixels: about %d bytes to decode, limit %d",
			format, cfg.Width, cfg.Height, colorName(cfg.ColorModel), need, lim.maxDecodedBytes())
	}
	release := lim.Budget.acquire(need)
	var img image.Image
	switch {
	case scaled:
		var free func()
		minW, minH := in.Width, in.Height
		if o >= 5 {
			minW, minH = minH, minW
		}
		img, free, err = jpegDecoder.decode(b, fullW, fullH, minW, minH, in.Channels == 1)
		if err == nil {
			held := release
			release = func() { free(); held() }
			img = orientImage(img, o)
		}
	case format == "jpeg":
		if n := jpegScans(b); n > maxJPEGScans {
			release()
			return nil, format, noop, fail(ErrCorrupt, "corrupt", "jpeg: %d scans, limit %d", n, maxJPEGScans)
		}
		img, err = orient.Decode(bytes.NewReader(b), orient.AutoOrientation(true))
	default:
		img, _, err = image.Decode(newPeekReader(b))
	}
	if err != nil {
		release()
		return nil, format, noop, fail(ErrCorrupt, "corrupt", "%s", withFormat(format, err))
	}
	return img, format, release, nil
}

// header checks b's size and its header's pixel count.
func header(b []byte, lim Limits) (image.Config, string, error) {
	if len(b) == 0 {
		return image.Config{}, "", fail(ErrEmpty, "empty", "0 bytes")
	}
	if int64(len(b)) > lim.maxBytes() {
		return image.Config{}, "", fail(ErrTooLarge, "too_large", "%d bytes, limit %d", len(b), lim.maxBytes())
	}
	cfg, format, err := image.DecodeConfig(newPeekReader(b))
	if errors.Is(err, image.ErrFormat) {
		// What the file is not, never what its bytes are: an error record
		// must not carry a file's content (a link to /etc/passwd, a text file).
		return cfg, "", fail(ErrFormat, "unsupported_format", "%d bytes that are no PNG, JPEG, GIF, BMP, TIFF, WebP or DICOM", len(b))
	}
	if err != nil {
		return cfg, format, fail(ErrCorrupt, "corrupt", "%s header: %s", format, withoutFormat(format, err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, format, fail(ErrCorrupt, "corrupt", "%s header gives %dx%d pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels() {
		return cfg, format, fail(ErrTooManyPix, "too_many_pixels", "%s header gives %dx%d = %d pixels, limit %d",
			format, cfg.Width, cfg.Height, px, lim.maxPixels())
	}
	return cfg, format, nil
}

// withFormat prefixes a decoder's message with the format unless the
// decoder already did ("png: invalid format", not "png: png: …").
func withFormat(format string, err error) string {
	return format + ": " + withoutFormat(format, err)
}

func withoutFormat(format string, err error) string {
	return strings.TrimPrefix(err.Error(), format+": ")
}

func colorName(m color.Model) string {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return "16-bit RGBA"
	case color.Gray16Model:
		return "16-bit grey"
	case color.RGBAModel, color.NRGBAModel:
		return "RGBA"
	case color.GrayModel:
		return "grey"
	case color.YCbCrModel:
		return "YCbCr"
	case color.CMYKModel:
		return "CMYK"
	}
	return "colour"
}

// peekReader reads a byte slice and can peek into it, which spares
// image.Decode and image.DecodeConfig the 4 KB bufio.Reader each wraps a
// plain reader in (8 of the ~90 KB a small PNG allocates).
type peekReader struct {
	*bytes.Reader
	b []byte
}

func newPeekReader(b []byte) peekReader { return peekReader{bytes.NewReader(b), b} }

// Peek returns the next n bytes without advancing, as bufio.Reader.Peek.
func (r peekReader) Peek(n int) ([]byte, error) {
	rest := r.b[len(r.b)-r.Len():]
	if n > len(rest) {
		return rest, io.EOF
	}
	return rest[:n], nil
}
