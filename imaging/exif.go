package imaging

import (
	"encoding/binary"
	"image"

	orient "github.com/disintegration/imaging"
)

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG, or 1 when
// it has none. It reads only the markers before the image data and the
// first IFD of an APP1 Exif segment, each bounded by its own length, so a
// hostile file costs at most one pass over its header bytes.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image: no more headers
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF header.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(bo.Uint16(t[off:]))
	for k := range count {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orientImage applies an EXIF orientation, as viewers and Pillow's
// exif_transpose do.
func orientImage(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return orient.FlipH(img)
	case 3:
		return orient.Rotate180(img)
	case 4:
		return orient.FlipV(img)
	case 5:
		return orient.Transpose(img)
	case 6:
		return orient.Rotate270(img)
	case 7:
		return orient.Transverse(img)
	case 8:
		return orient.Rotate90(img)
	}
	return img
}

// maxJPEGScans bounds a progressive JPEG's scans for image/jpeg, which has
// no limit of its own: each scan revisits every coefficient, so a small
// file of thousands of scans takes seconds per image. libjpeg-turbo's
// TJFLAG_LIMITSCANS uses the same number.
const maxJPEGScans = 500

// jpegScans counts the start-of-scan markers of a JPEG in one pass over its
// bytes (entropy-coded data holds no unstuffed 0xFF but RSTn).
func jpegScans(b []byte) int {
	n := 0
	for i := 2; i+1 < len(b); i++ {
		if b[i] != 0xFF {
			continue
		}
		switch m := b[i+1]; {
		case m == 0xDA:
			n++
		case m == 0x00 || m == 0xFF || m >= 0xD0 && m <= 0xD7:
			// stuffed byte, fill, restart marker: no segment
		case i+3 < len(b) && m != 0xD8 && m != 0xD9 && m != 0x01:
			i += 1 + int(binary.BigEndian.Uint16(b[i+2:])) // a marker segment: skip it
			continue
		}
		i++
	}
	return n
}
