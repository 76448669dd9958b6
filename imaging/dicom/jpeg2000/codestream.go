//go:build cgo

package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/didicm/didicm/imaging/dicom"
)

var (
	j2kMagic = []byte{0xFF, 0x4F, 0xFF, 0x51}                                    // SOC, SIZ
	jp2Magic = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A} // signature box
)

// siz is what a codestream's SIZ marker segment says.
type siz struct {
	width, height uint64 // of the image area
	tiles         uint64
	comps         []component
}

type component struct {
	prec   int
	signed bool
	dx, dy int
}

// codestream returns the JPEG 2000 codestream in data (data itself, or the
// contents of a JP2 file's jp2c box) and whether data is a JP2 file.
func codestream(data []byte) (cs []byte, jp2 bool, err error) {
	switch {
	case bytes.HasPrefix(data, j2kMagic):
		return data, false, nil
	case bytes.HasPrefix(data, jp2Magic):
		cs, err := jp2Codestream(data)
		return cs, true, err
	}
	return nil, false, errors.New("jpeg2000: neither a codestream (FF4F FF51) nor a JP2 file")
}

// jp2Codestream walks the top-level boxes of a JP2 file to the codestream
// box, refusing a palette in the header box: OpenJPEG would expand it into
// new components after the checks.
func jp2Codestream(b []byte) ([]byte, error) {
	for len(b) > 0 {
		typ, body, rest, err := box(b)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "jp2h":
			for h := body; len(h) > 0; {
				t, _, r, err := box(h)
				if err != nil {
					return nil, err
				}
				if t == "pclr" {
					return nil, errors.New("jpeg2000: JP2 palette (pclr box) not supported")
				}
				h = r
			}
		case "jp2c":
			return body, nil
		}
		b = rest
	}
	return nil, errors.New("jpeg2000: JP2 file without a codestream (jp2c box)")
}

// box splits the first box off b.
func box(b []byte) (typ string, body, rest []byte, err error) {
	if len(b) < 8 {
		return "", nil, nil, errors.New("jpeg2000: truncated JP2 box header")
	}
	n, hdr := uint64(binary.BigEndian.Uint32(b)), uint64(8)
	typ = string(b[4:8])
	switch n {
	case 0: // to the end of the file
		n = uint64(len(b))
	case 1: // 64-bit length follows
		if len(b) < 16 {
			return "", nil, nil, errors.New("jpeg2000: truncated JP2 box header")
		}
		n, hdr = binary.BigEndian.Uint64(b[8:]), 16
	}
	if n < hdr || n > uint64(len(b)) {
		return "", nil, nil, fmt.Errorf("jpeg2000: JP2 box (type %x) of %d bytes where %d are left", typ, n, len(b))
	}
	return typ, b[hdr:n], b[n:], nil
}

// parseSIZ reads the SIZ marker segment that follows SOC.
func parseSIZ(cs []byte) (siz, error) {
	if !bytes.HasPrefix(cs, j2kMagic) {
		return siz{}, errors.New("jpeg2000: codestream does not start with SOC, SIZ")
	}
	if len(cs) < 6 {
		return siz{}, errors.New("jpeg2000: truncated SIZ marker")
	}
	lsiz := int(binary.BigEndian.Uint16(cs[4:]))
	if lsiz < 41 || (lsiz-38)%3 != 0 {
		return siz{}, fmt.Errorf("jpeg2000: SIZ length %d", lsiz)
	}
	if 4+lsiz > len(cs) {
		return siz{}, errors.New("jpeg2000: truncated SIZ marker")
	}
	p := cs[6 : 4+lsiz]
	u32 := func(i int) uint64 { return uint64(binary.BigEndian.Uint32(p[i:])) }
	x, y, xo, yo := u32(2), u32(6), u32(10), u32(14)
	xt, yt, xto, yto := u32(18), u32(22), u32(26), u32(30)
	n := int(binary.BigEndian.Uint16(p[34:]))
	if n != (lsiz-38)/3 {
		return siz{}, fmt.Errorf("jpeg2000: SIZ of %d bytes for %d components", lsiz, n)
	}
	if x <= xo || y <= yo {
		return siz{}, fmt.Errorf("jpeg2000: empty image area (%d,%d)-(%d,%d)", xo, yo, x, y)
	}
	if xt == 0 || yt == 0 || xto > xo || yto > yo || xto+xt <= xo || yto+yt <= yo {
		return siz{}, errors.New("jpeg2000: invalid tiling in SIZ")
	}
	s := siz{
		width:  x - xo,
		height: y - yo,
		tiles:  ((x - xto + xt - 1) / xt) * ((y - yto + yt - 1) / yt),
		comps:  make([]component, n),
	}
	for i := range s.comps {
		c := p[36+3*i:]
		s.comps[i] = component{prec: int(c[0]&0x7F) + 1, signed: c[0]&0x80 != 0, dx: int(c[1]), dy: int(c[2])}
	}
	return s, nil
}

// check compares the SIZ with the dataset's frame.
func (s siz) check(f dicom.FrameInfo) error {
	if s.width != uint64(f.Columns) || s.height != uint64(f.Rows) {
		return fmt.Errorf("jpeg2000: stream is %d×%d, dataset says %d×%d", s.width, s.height, f.Columns, f.Rows)
	}
	if len(s.comps) != f.SamplesPerPixel {
		return fmt.Errorf("jpeg2000: stream has %d components, dataset says %d samples per pixel", len(s.comps), f.SamplesPerPixel)
	}
	for i, c := range s.comps {
		switch {
		case c.dx != 1 || c.dy != 1:
			return fmt.Errorf("jpeg2000: component %d is subsampled %d×%d (not supported)", i, c.dx, c.dy)
		case c.prec > f.BitsAllocated:
			return fmt.Errorf("jpeg2000: component %d has %d-bit samples, dataset allocates %d bits", i, c.prec, f.BitsAllocated)
		case c.signed && !f.Signed:
			return fmt.Errorf("jpeg2000: component %d is signed, dataset says unsigned", i)
		}
	}
	// OpenJPEG sets up every tile when it reads the header: a few KiB each.
	if limit := 64 + uint64(f.Rows)*uint64(f.Columns)/256; s.tiles > limit {
		return fmt.Errorf("jpeg2000: %d tiles for a %d×%d frame (at most %d)", s.tiles, f.Columns, f.Rows, limit)
	}
	return nil
}
