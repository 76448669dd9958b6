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
