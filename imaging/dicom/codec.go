package dicom

import (
	"fmt"
	"sync"
)

// FrameInfo is what the dataset says about one frame, for a codec: the
// decoded frame must have exactly this shape.
type FrameInfo struct {
	Rows, Columns   int
	SamplesPerPixel int
	BitsAllocated   int // 8 or 16 for the codecs (1 and 32 are native only)
	BitsStored      int
	Signed          bool // PixelRepresentation 1
}

// FrameBytes is the size of a decoded frame: rows × columns × samples ×
// bytes per sample.
func (f FrameInfo) FrameBytes() int {
	return f.Rows * f.Columns * f.SamplesPerPixel * ((f.BitsAllocated + 7) / 8)
}

// Check is what every codec requires of a frame before it reads the
// stream: 1 to 65535 rows and columns, 1 to 4 samples, 8 or 16 bits
// allocated, at most that many stored. codec names the caller in the error.
func (f FrameInfo) Check(codec string) error {
	switch {
	case f.Rows < 1 || f.Rows > 65535 || f.Columns < 1 || f.Columns > 65535:
		return fmt.Errorf("%s: frame size %d×%d out of range", codec, f.Columns, f.Rows)
	case f.SamplesPerPixel < 1 || f.SamplesPerPixel > 4:
		return fmt.Errorf("%s: %d samples per pixel", codec, f.SamplesPerPixel)
	case f.BitsAllocated != 8 && f.BitsAllocated != 16:
		return fmt.Errorf("%s: %d bits allocated (want 8 or 16)", codec, f.BitsAllocated)
	case f.BitsStored < 1 || f.BitsStored > f.BitsAllocated:
		return fmt.Errorf("%s: %d bits stored in %d allocated", codec, f.BitsStored, f.BitsAllocated)
	}
	return nil
}

// Decoder decodes one encapsulated frame into native pixel data: samples
// interleaved (R G B R G B … for colour), little-endian, BitsAllocated bits
// each, FrameInfo.FrameBytes() bytes. It must check the stream's own header
// against info before it allocates, and return an error for any mismatch.
type Decoder func(data []byte, info FrameInfo) ([]byte, error)

var codecs sync.Map // transfer syntax UID → Decoder

// RegisterDecoder installs the decoder of a compressed transfer syntax
// (the commands register the cgo codecs: jpegls, jpeg2000).
func RegisterDecoder(transferSyntaxUID string, d Decoder) { codecs.Store(transferSyntaxUID, d) }

func decoderFor(uid string) (Decoder, error) {
	if d, ok := codecs.Load(uid); ok {
		return d.(Decoder), nil
	}
	return nil, fmt.Errorf("%w: %s (%s)", ErrUnsupportedSyntax, uid, syntaxName(uid))
}
