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
	_ "image/gif" // registers the decoders image.Decode sniffs for
	_ "image/jpeg"
	_ "image/png"
	"io"

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
	Reason string // empty, too_large, too_many_pixels, unsupported_format, corrupt
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
	// any pixel memory is allocated. Zero means 100 megapixels.
	MaxPixels int64
}

// The decoding limits when none are configured.
const (
	DefaultMaxBytes  = 64 << 20
	DefaultMaxPixels = 100_000_000
)

func (l Limits) maxBytes() int64  { return orDefault(l.MaxBytes, DefaultMaxBytes) }
func (l Limits) maxPixels() int64 { return orDefault(l.MaxPixels, DefaultMaxPixels) }

func orDefault(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// Decode checks b against the limits, then decodes it. JPEG EXIF
// orientation is applied. It returns the image and its format name.
func Decode(b []byte, lim Limits) (image.Image, string, error) {
	if len(b) == 0 {
		return nil, "", fail(ErrEmpty, "empty", "0 bytes")
	}
	if int64(len(b)) > lim.maxBytes() {
		return nil, "", fail(ErrTooLarge, "too_large", "%d bytes, limit %d", len(b), lim.maxBytes())
	}
	cfg, format, err := image.DecodeConfig(newPeekReader(b))
	if errors.Is(err, image.ErrFormat) {
		return nil, "", fail(ErrFormat, "unsupported_format", "content starts with %q", head(b))
	}
	if err != nil {
		return nil, format, fail(ErrCorrupt, "corrupt", "%s header: %v", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, format, fail(ErrCorrupt, "corrupt", "%s header gives %dx%d pixels", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.maxPixels() {
		return nil, format, fail(ErrTooManyPix, "too_many_pixels", "%s header gives %dx%d = %d pixels, limit %d",
			format, cfg.Width, cfg.Height, px, lim.maxPixels())
	}
	var img image.Image
	if format == "jpeg" {
		img, err = orient.Decode(bytes.NewReader(b), orient.AutoOrientation(true))
	} else {
		img, _, err = image.Decode(newPeekReader(b))
	}
	if err != nil {
		return nil, format, fail(ErrCorrupt, "corrupt", "%s: %v", format, err)
	}
	return img, format, nil
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

func head(b []byte) []byte {
	if len(b) > 8 {
		return b[:8]
	}
	return b
}
