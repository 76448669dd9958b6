package dicom

import (
	"encoding/binary"
	"fmt"
)

// decodeRLE decodes a DICOM RLE Lossless frame (PS3.5 annex G): a 64-byte
// header of up to 15 segment offsets, one PackBits segment per byte of
// each sample (most significant byte first), into interleaved
// little-endian samples.
func decodeRLE(data []byte, info FrameInfo) ([]byte, error) {
	if len(data) < 64 {
		return nil, fmt.Errorf("%w: RLE frame of %d bytes has no header", ErrMalformed, len(data))
	}
	bps := info.BitsAllocated / 8
	segs := int(binary.LittleEndian.Uint32(data))
	if segs != info.SamplesPerPixel*bps {
		return nil, fmt.Errorf("%w: %d RLE segments for %d samples of %d bytes", ErrMalformed, segs, info.SamplesPerPixel, bps)
	}
	pixels := info.Rows * info.Columns
	out := make([]byte, info.FrameBytes())
	plane := make([]byte, pixels)
	for s := range segs {
		start := int(binary.LittleEndian.Uint32(data[4+4*s:]))
		end := len(data)
		if s+1 < segs {
			end = int(binary.LittleEndian.Uint32(data[8+4*s:]))
		}
		if start < 64 || end < start || end > len(data) {
			return nil, fmt.Errorf("%w: RLE segment %d at %d-%d of %d bytes", ErrMalformed, s, start, end, len(data))
		}
		if err := unpackBits(data[start:end], plane); err != nil {
			return nil, fmt.Errorf("%w: RLE segment %d: %w", ErrMalformed, s, err)
		}
		sample, byteIdx := s/bps, bps-1-s%bps // segments run MSB first; output is little-endian
		stride := info.SamplesPerPixel * bps
		for p, v := range plane {
			out[p*stride+sample*bps+byteIdx] = v
		}
	}
	return out, nil
}

// unpackBits fills out from a PackBits segment; a segment that gives fewer
// bytes than out holds is an error, extra bytes are ignored (encoders pad
// segments to an even length).
func unpackBits(seg, out []byte) error {
	o := 0
	for i := 0; i < len(seg) && o < len(out); {
		n := int(int8(seg[i]))
		i++
		switch {
		case n >= 0:
			if i+n+1 > len(seg) {
				return fmt.Errorf("literal run past the segment's end")
			}
			o += copy(out[o:], seg[i:i+n+1])
			i += n + 1
		case n != -128:
			if i >= len(seg) {
				return fmt.Errorf("repeat run past the segment's end")
			}
			for range 1 - n {
				if o < len(out) {
					out[o] = seg[i]
					o++
				}
			}
			i++
		}
	}
	if o < len(out) {
		return fmt.Errorf("%d bytes decoded, %d needed", o, len(out))
	}
	return nil
}
