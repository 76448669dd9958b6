package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors callers branch on; every parse error wraps one of them.
var (
	ErrNotDICOM          = errors.New("not a DICOM file")
	ErrMalformed         = errors.New("malformed DICOM")
	ErrUnsupportedSyntax = errors.New("unsupported transfer syntax")
	ErrUnsupported       = errors.New("unsupported DICOM pixel data")
	ErrTooLarge          = errors.New("DICOM pixel data over the limit")
)

// Transfer syntax UIDs read by this package.
const (
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	DeflatedExplicitVRLE   = "1.2.840.10008.1.2.1.99"
	ExplicitVRBigEndian    = "1.2.840.10008.1.2.2"
	RLELossless            = "1.2.840.10008.1.2.5"
	JPEGBaseline           = "1.2.840.10008.1.2.4.50"
	JPEGExtended           = "1.2.840.10008.1.2.4.51"
	JPEGLossless           = "1.2.840.10008.1.2.4.57"
	JPEGLosslessSV1        = "1.2.840.10008.1.2.4.70"
)

func syntaxName(uid string) string {
	names := map[string]string{ImplicitVRLittleEndian: "Implicit VR Little Endian", ExplicitVRLittleEndian: "Explicit VR Little Endian",
		DeflatedExplicitVRLE: "Deflated Explicit VR Little Endian", ExplicitVRBigEndian: "Explicit VR Big Endian",
		RLELossless: "RLE Lossless", JPEGBaseline: "JPEG Baseline", JPEGExtended: "JPEG Extended (12-bit)",
		JPEGLossless: "JPEG Lossless", JPEGLosslessSV1: "JPEG Lossless SV1",
		"1.2.840.10008.1.2.4.80": "JPEG-LS Lossless", "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
		"1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless", "1.2.840.10008.1.2.4.91": "JPEG 2000",
		"1.2.840.10008.1.2.4.201": "HTJ2K Lossless", "1.2.840.10008.1.2.4.100": "MPEG2"}
	if n, ok := names[uid]; ok {
		return n
	}
	return "unknown"
}

// Limits bound what a file may make the parser allocate.
type Limits struct {
	// MaxPixelBytes bounds rows × columns × frames × samples × bytes per
	// sample, checked from the header before any pixel is decoded. Zero
	// means 1 GiB.
	MaxPixelBytes int64
	// MaxHeaderBytes bounds what a deflated dataset may inflate to before
	// its pixel data. Elements this package does not read are skipped as
	// they inflate, and the pixel data is inflated a frame at a time when
	// the frame is decoded, so a deflated file holds no more than a plain
	// one. Zero means DefaultMaxHeaderBytes.
	MaxHeaderBytes int64
}

// DefaultMaxHeaderBytes is Limits.MaxHeaderBytes when none is set: the
// largest file read by default (imaging's max_bytes). Inflating that much
// takes tens of milliseconds; only the elements read are held.
const DefaultMaxHeaderBytes = 64 << 20

func (l Limits) maxHeaderBytes() int64 {
	if l.MaxHeaderBytes > 0 {
		return l.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

func (l Limits) maxPixelBytes() int64 {
	if l.MaxPixelBytes > 0 {
		return l.MaxPixelBytes
	}
	return 1 << 30
}

// Image is a parsed DICOM image: its pixel module and where its frames are.
type Image struct {
	TransferSyntax                  string
	Rows, Columns, Frames           int
	SamplesPerPixel, Planar         int
	BitsAllocated, BitsStored, High int
	Signed                          bool
	Photometric                     string
	RescaleSlope, RescaleIntercept  float64
	// WindowCenter and WindowWidth are the file's first VOI window; Width 0
	// when the file has none.
	WindowCenter, WindowWidth   float64
	StudyUID, SeriesUID, SOPUID string
	Palette                     *Palette

	bigEndian bool
	pixelVR   string    // OB or OW (explicit VR); big-endian OW swaps 8-bit samples in pairs
	native    []byte    // native pixel data
	deflated  *inflater // native pixel data of a deflated dataset, inflated frame by frame
	fragments [][]byte  // encapsulated: one compressed stream per frame
}

// Palette is a PALETTE COLOR lookup table (red, green, blue).
type Palette struct {
	Entries, First, Bits int
	Red, Green, Blue     []uint16
}

// IsDICOM reports whether b looks like a DICOM Part 10 file or a bare
// dataset (it starts with a plausible group 0002 or 0008 element).
func IsDICOM(b []byte) bool {
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		return true
	}
	if len(b) < 8 {
		return false
	}
	g := binary.LittleEndian.Uint16(b)
	if g != 0x0002 && g != 0x0008 {
		return false
	}
	vr := string(b[4:6])
	if knownVR(vr) {
		return true
	}
	// Implicit VR: a 32-bit length that fits the file.
	return int64(binary.LittleEndian.Uint32(b[4:])) <= int64(len(b)-8)
}

// Parse reads b's header and locates its pixel data; pixels are decoded
// frame by frame (Frame).
func Parse(b []byte, lim Limits) (*Image, error) {
	syntax := ImplicitVRLittleEndian
	data := b
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		meta, rest, err := readMeta(b[132:])
		if err != nil {
			return nil, err
		}
		syntax, data = meta, rest
	} else if !IsDICOM(b) {
		return nil, ErrNotDICOM
	} else if knownVR(string(b[4:6])) {
		syntax = ExplicitVRLittleEndian
	}
	img := &Image{TransferSyntax: syntax, RescaleSlope: 1, Frames: 1, SamplesPerPixel: 1}
	if syntax == DeflatedExplicitVRLE {
		if err := parseDeflated(img, data, lim); err != nil {
			return nil, err
		}
		return img, img.check(lim)
	}
	r := &reader{b: data, explicit: syntax != ImplicitVRLittleEndian, bo: binary.ByteOrder(binary.LittleEndian)}
	if syntax == ExplicitVRBigEndian {
		r.bo, img.bigEndian = binary.BigEndian, true
	}
	if err := r.dataset(img); err != nil {
		return nil, err
	}
	return img, img.check(lim)
}

// readMeta reads the group 0002 file meta information (always Explicit VR
// Little Endian) and returns the transfer syntax and the dataset after it.
func readMeta(b []byte) (string, []byte, error) {
	r := &reader{b: b, explicit: true, bo: binary.LittleEndian}
	syntax := ""
	for r.off+4 <= len(r.b) && binary.LittleEndian.Uint16(r.b[r.off:]) == 0x0002 {
		e, err := r.element()
		if err != nil {
			return "", nil, err
		}
		if e.tag == 0x00020010 {
			syntax = trimUID(e.value)
		}
	}
	if syntax == "" {
		return "", nil, fmt.Errorf("%w: no transfer syntax in the file meta information", ErrMalformed)
	}
	return syntax, r.b[r.off:], nil
}

func trimUID(b []byte) string { return strings.TrimRight(string(b), "\x00 ") }

// element is one data element; value aliases the file's bytes.
type element struct {
	tag   uint32
	vr    string
	value []byte
	// undefined is set for an undefined-length element (sequence, or
	// encapsulated pixel data); value then runs to the end of the data and
	// the reader is left at the element's value.
	undefined bool
}

type reader struct {
	b        []byte
	off      int
	explicit bool
	bo       binary.ByteOrder
	lut      [3]struct{ desc, data []byte } // palette descriptors and data: red, green, blue
}

const undefinedLength = 0xFFFFFFFF

// longVRs have a 2-byte reserved field and a 32-bit length in explicit VR.
var longVRs = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true, "SQ": true,
	"SV": true, "UC": true, "UN": true, "UR": true, "UT": true, "UV": true}

func knownVR(vr string) bool {
	return longVRs[vr] || strings.Contains(" AE AS AT CS DA DS DT FD FL IS LO LT PN SH SL SS ST TM UI UL US ", " "+vr+" ")
}

func (r *reader) need(n int) error {
	if n < 0 || r.off+n > len(r.b) {
		return fmt.Errorf("%w: element at byte %d runs past the end (%d bytes left, %d wanted)", ErrMalformed, r.off, len(r.b)-r.off, n)
	}
	return nil
}

// tag reads the (group, element) tag at the reader's offset; need(4) first.
func (r *reader) tag() uint32 {
	return uint32(r.bo.Uint16(r.b[r.off:]))<<16 | uint32(r.bo.Uint16(r.b[r.off+2:]))
}

func (r *reader) element() (element, error) {
	if err := r.need(8); err != nil {
		return element{}, err
	}
	tag := r.tag()
	var e element
	e.tag = tag
	var length uint32
	group := tag >> 16
	if r.explicit && group != 0xFFFE {
		e.vr = string(r.b[r.off+4 : r.off+6])
		if longVRs[e.vr] {
			if err := r.need(12); err != nil {
				return e, err
			}
			length = r.bo.Uint32(r.b[r.off+8:])
			r.off += 12
		} else {
			if !knownVR(e.vr) {
				return e, fmt.Errorf("%w: unknown VR (bytes %x) at byte %d", ErrMalformed, e.vr, r.off)
			}
			length = uint32(r.bo.Uint16(r.b[r.off+6:]))
			r.off += 8
		}
	} else {
		length = r.bo.Uint32(r.b[r.off+4:])
		r.off += 8
	}
	if length == undefinedLength {
		e.undefined = true
		e.value = r.b[r.off:]
		return e, nil
	}
	if err := r.need(int(length)); err != nil {
		return e, err
	}
	e.value = r.b[r.off : r.off+int(length)]
	r.off += int(length)
	return e, nil
}

// maxDepth bounds nested sequences.
const maxDepth = 32

// skipUndefined skips the items of an undefined-length sequence up to its
// delimitation item.
func (r *reader) skipUndefined(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: sequences nested deeper than %d", ErrMalformed, maxDepth)
	}
	for {
		if err := r.need(8); err != nil {
			return fmt.Errorf("%w: a sequence never ends", ErrMalformed)
		}
		tag := r.tag()
		length := r.bo.Uint32(r.b[r.off+4:])
		r.off += 8
		switch tag {
		case 0xFFFEE0DD: // sequence delimitation
			return nil
		case 0xFFFEE000: // item
			if length == undefinedLength {
				if err := r.skipItem(depth + 1); err != nil {
					return err
				}
				continue
			}
			if err := r.need(int(length)); err != nil {
				return err
			}
			r.off += int(length)
		default:
			return fmt.Errorf("%w: tag %08X inside a sequence", ErrMalformed, tag)
		}
	}
}

// skipItem skips the elements of an undefined-length item.
func (r *reader) skipItem(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: sequences nested deeper than %d", ErrMalformed, maxDepth)
	}
	for {
		if err := r.need(8); err != nil {
			return fmt.Errorf("%w: an item never ends", ErrMalformed)
		}
		if tag := r.tag(); tag == 0xFFFEE00D {
			r.off += 8
			return nil
		}
		e, err := r.element()
		if err != nil {
			return err
		}
		if e.undefined {
			if err := r.skipUndefined(depth + 1); err != nil {
				return err
			}
		}
	}
}

// dataset reads the top-level elements up to the pixel data.
func (r *reader) dataset(img *Image) error {
	for r.off < len(r.b) {
		e, err := r.element()
		if err != nil {
			return err
		}
		if e.tag == 0x7FE00010 {
			return r.pixelData(img, e)
		}
		if e.undefined {
			if err := r.skipUndefined(1); err != nil {
				return err
			}
			continue
		}
		r.apply(img, e)
	}
	return fmt.Errorf("%w: no pixel data", ErrMalformed)
}

// wanted says whether apply reads the element: the UIDs, the image pixel
// module, the rescale and window, and the palette lookup tables.
func wanted(tag uint32) bool {
	switch tag {
	case 0x0020000D, 0x0020000E, 0x00080018, 0x00280002, 0x00280004, 0x00280006, 0x00280008, 0x00280010,
		0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103, 0x00281050, 0x00281051, 0x00281052,
		0x00281053, 0x00281101, 0x00281102, 0x00281103, 0x00281201, 0x00281202, 0x00281203:
		return true
	}
	return false
}

// apply records a top-level element that wanted names; others are ignored.
func (r *reader) apply(img *Image, e element) {
	lut := &r.lut
	switch e.tag {
	case 0x0020000D:
		img.StudyUID = trimUID(e.value)
	case 0x0020000E:
		img.SeriesUID = trimUID(e.value)
	case 0x00080018:
		img.SOPUID = trimUID(e.value)
	case 0x00280002:
		img.SamplesPerPixel = r.us(e)
	case 0x00280004:
		img.Photometric = strings.TrimSpace(strings.TrimRight(string(e.value), "\x00"))
	case 0x00280006:
		img.Planar = r.us(e)
	case 0x00280008:
		img.Frames = atoi(e.value)
	case 0x00280010:
		img.Rows = r.us(e)
	case 0x00280011:
		img.Columns = r.us(e)
	case 0x00280100:
		img.BitsAllocated = r.us(e)
	case 0x00280101:
		img.BitsStored = r.us(e)
	case 0x00280102:
		img.High = r.us(e)
	case 0x00280103:
		img.Signed = r.us(e) == 1
	case 0x00281050:
		img.WindowCenter = atof(e.value)
	case 0x00281051:
		img.WindowWidth = atof(e.value)
	case 0x00281052:
		img.RescaleIntercept = atof(e.value)
	case 0x00281053:
		img.RescaleSlope = atof(e.value)
	case 0x00281101, 0x00281102, 0x00281103:
		lut[e.tag-0x00281101].desc = e.value
	case 0x00281201, 0x00281202, 0x00281203:
		lut[e.tag-0x00281201].data = e.value
	}
}

func (r *reader) us(e element) int {
	if len(e.value) < 2 {
		return 0
	}
	return int(r.bo.Uint16(e.value))
}

func atoi(b []byte) int {
	v, _ := strconv.Atoi(strings.TrimSpace(strings.TrimRight(string(b), "\x00")))
	return v
}

// atof reads the first value of a DS (decimal string, values split by '\').
func atof(b []byte) float64 {
	s, _, _ := strings.Cut(strings.TrimRight(string(b), "\x00 "), `\`)
	v, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v
}
