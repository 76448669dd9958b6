package dicom

import (
	"encoding/binary"
	"fmt"
)

// pixelData records where the frames are: the native bytes, or one
// compressed stream per frame from the encapsulated fragments.
func (r *reader) pixelData(img *Image, e element) error {
	if img.Photometric == "PALETTE COLOR" {
		p, err := r.palette()
		if err != nil {
			return err
		}
		img.Palette = p
	}
	if !e.undefined {
		img.native, img.pixelVR = e.value, e.vr
		return nil
	}
	var items [][]byte
	for {
		if err := r.need(8); err != nil {
			return fmt.Errorf("%w: encapsulated pixel data never ends", ErrMalformed)
		}
		tag := r.tag()
		length := r.bo.Uint32(r.b[r.off+4:])
		r.off += 8
		if tag == 0xFFFEE0DD {
			break
		}
		if tag != 0xFFFEE000 || length == undefinedLength {
			return fmt.Errorf("%w: tag %08X in encapsulated pixel data", ErrMalformed, tag)
		}
		if err := r.need(int(length)); err != nil {
			return err
		}
		items = append(items, r.b[r.off:r.off+int(length)])
		r.off += int(length)
		if len(items) > 1<<20 {
			return fmt.Errorf("%w: more than a million fragments", ErrMalformed)
		}
	}
	if len(items) == 0 {
		return fmt.Errorf("%w: encapsulated pixel data without an offset table item", ErrMalformed)
	}
	frames, err := splitFrames(items[0], items[1:], max(1, img.Frames))
	if err != nil {
		return err
	}
	img.fragments = frames
	return nil
}

// splitFrames joins the fragments into one stream per frame: by the basic
// offset table when it has entries, else all fragments for a single frame,
// else one fragment per frame.
func splitFrames(bot []byte, frags [][]byte, frames int) ([][]byte, error) {
	if len(frags) == 0 {
		return nil, fmt.Errorf("%w: no fragments", ErrMalformed)
	}
	join := func(fs [][]byte) []byte {
		if len(fs) == 1 {
			return fs[0]
		}
		var out []byte
		for _, f := range fs {
			out = append(out, f...)
		}
		return out
	}
	if len(bot) == 0 {
		switch {
		case frames == 1:
			return [][]byte{join(frags)}, nil
		case len(frags) == frames:
			return frags, nil
		}
		return nil, fmt.Errorf("%w: %d fragments for %d frames and no offset table", ErrUnsupported, len(frags), frames)
	}
	if len(bot)%4 != 0 || len(bot)/4 != frames {
		return nil, fmt.Errorf("%w: offset table of %d bytes for %d frames", ErrMalformed, len(bot), frames)
	}
	// Offsets count bytes from the first fragment's item tag: 8 bytes of
	// item header per fragment.
	starts := make([]int, len(frags))
	pos := 0
	for i, f := range frags {
		starts[i] = pos
		pos += 8 + len(f)
	}
	out := make([][]byte, frames)
	next := 0
	for k := range frames {
		off := int(binary.LittleEndian.Uint32(bot[4*k:]))
		for next < len(frags) && starts[next] < off {
			next++
		}
		if next >= len(frags) || starts[next] != off {
			return nil, fmt.Errorf("%w: offset table entry %d (%d) is not the start of a fragment", ErrMalformed, k, off)
		}
		end := len(frags)
		if k+1 < frames {
			endOff := int(binary.LittleEndian.Uint32(bot[4*(k+1):]))
			end = next
			for end < len(frags) && starts[end] < endOff {
				end++
			}
			if end <= next || end < len(frags) && starts[end] != endOff {
				return nil, fmt.Errorf("%w: offset table entry %d (%d) is not the start of a fragment", ErrMalformed, k+1, endOff)
			}
		}
		out[k] = join(frags[next:end])
	}
	return out, nil
}

// palette reads the red, green and blue lookup tables.
func (r *reader) palette() (*Palette, error) {
	var p Palette
	tables := [3]*[]uint16{&p.Red, &p.Green, &p.Blue}
	for c, t := range r.lut {
		if len(t.desc) < 6 {
			return nil, fmt.Errorf("%w: PALETTE COLOR without its lookup table descriptor", ErrMalformed)
		}
		entries, first, bits := int(r.bo.Uint16(t.desc)), int(r.bo.Uint16(t.desc[2:])), int(r.bo.Uint16(t.desc[4:]))
		if entries == 0 {
			entries = 65536
		}
		if c > 0 && (entries != p.Entries || first != p.First || bits != p.Bits) {
			return nil, fmt.Errorf("%w: palette descriptors differ between colours", ErrUnsupported)
		}
		p.Entries, p.First, p.Bits = entries, first, bits
		if bits != 8 && bits != 16 {
			return nil, fmt.Errorf("%w: palette of %d-bit entries", ErrUnsupported, bits)
		}
		if len(t.data) < 2*entries && (bits != 8 || len(t.data) < entries) {
			return nil, fmt.Errorf("%w: palette data of %d bytes for %d entries", ErrMalformed, len(t.data), entries)
		}
		out := make([]uint16, entries)
		for i := range out {
			if len(t.data) >= 2*entries {
				out[i] = r.bo.Uint16(t.data[2*i:])
			} else {
				out[i] = uint16(t.data[i])
			}
		}
		*tables[c] = out
	}
	return &p, nil
}

// check validates the pixel module against what this package decodes and
// against lim, before any frame is decoded.
func (img *Image) check(lim Limits) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
	}
	switch {
	case img.Rows <= 0 || img.Columns <= 0:
		return bad("%dx%d pixels", img.Columns, img.Rows)
	case img.Frames <= 0:
		return bad("%d frames", img.Frames)
	case img.SamplesPerPixel != 1 && img.SamplesPerPixel != 3:
		return bad("%d samples per pixel", img.SamplesPerPixel)
	case img.BitsAllocated != 1 && img.BitsAllocated != 8 && img.BitsAllocated != 16 && img.BitsAllocated != 32:
		return fmt.Errorf("%w: %d bits allocated", ErrUnsupported, img.BitsAllocated)
	}
	if img.BitsStored == 0 {
		img.BitsStored = img.BitsAllocated
	}
	if img.High == 0 && img.BitsStored > 1 {
		img.High = img.BitsStored - 1
	}
	if img.BitsStored > img.BitsAllocated || img.High >= img.BitsAllocated || img.High+1 < img.BitsStored {
		return bad("bits stored %d, high bit %d in %d allocated", img.BitsStored, img.High, img.BitsAllocated)
	}
	grey := img.Photometric == "MONOCHROME1" || img.Photometric == "MONOCHROME2"
	switch {
	case grey || img.Photometric == "PALETTE COLOR":
		if img.SamplesPerPixel != 1 {
			return bad("%s with %d samples", img.Photometric, img.SamplesPerPixel)
		}
	case img.Photometric == "RGB" || img.Photometric == "YBR_FULL" || img.Photometric == "YBR_FULL_422" ||
		img.Photometric == "YBR_RCT" || img.Photometric == "YBR_ICT":
		if img.SamplesPerPixel != 3 {
			return bad("%s with %d samples", img.Photometric, img.SamplesPerPixel)
		}
	default:
		return fmt.Errorf("%w: photometric interpretation %q", ErrUnsupported, img.Photometric)
	}
	total := int64(img.Rows) * int64(img.Columns) * int64(img.Frames) * int64(img.SamplesPerPixel) * int64(max(1, img.BitsAllocated/8))
	if total > lim.maxPixelBytes() {
		return fmt.Errorf("%w: %dx%d pixels × %d frames × %d samples × %d bits is %d bytes, limit %d", ErrTooLarge,
			img.Columns, img.Rows, img.Frames, img.SamplesPerPixel, img.BitsAllocated, total, lim.maxPixelBytes())
	}
	if img.isNative() {
		if have := img.nativeLen(); have < needBytes(img) {
			return fmt.Errorf("%w: %d bytes of pixel data, the header needs %d", ErrMalformed, have, needBytes(img))
		}
		return nil
	}
	if len(img.fragments) != img.Frames {
		return bad("%d compressed frames for %d frames", len(img.fragments), img.Frames)
	}
	if img.BitsAllocated != 8 && img.BitsAllocated != 16 && (img.BitsAllocated != 32 || img.TransferSyntax != RLELossless) {
		return fmt.Errorf("%w: compressed pixel data of %d bits allocated", ErrUnsupported, img.BitsAllocated)
	}
	switch img.TransferSyntax {
	case RLELossless, JPEGBaseline, JPEGLossless, JPEGLosslessSV1:
		return nil
	}
	_, err := decoderFor(img.TransferSyntax)
	return err
}

// nativeFrameBytes is one native frame's size: in bits when BitsAllocated
// is 1 (frames of a bit-packed file follow each other bit by bit).
func (img *Image) nativeFrameBytes() int64 {
	n := int64(img.Rows) * int64(img.Columns) * int64(img.SamplesPerPixel)
	if img.Photometric == "YBR_FULL_422" && img.BitsAllocated == 8 {
		n = int64(img.Rows) * int64(img.Columns) * 2 // Y Y Cb Cr for each pair of pixels
	}
	if img.BitsAllocated == 1 {
		return n
	}
	return n * int64(img.BitsAllocated/8)
}

func needBytes(img *Image) int64 {
	n := img.nativeFrameBytes() * int64(img.Frames)
	if img.BitsAllocated == 1 {
		return (n + 7) / 8
	}
	return n
}
