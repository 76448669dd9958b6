package dicom

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// A Deflated Explicit VR Little Endian dataset is read as it inflates: the
// elements that apply reads are kept, every other element is skipped
// without being held, and reading stops at the pixel data, whose frames
// are inflated one at a time when they are decoded (inflater). A deflated
// file thus makes this package hold what the same file uncompressed would:
// the elements it reads and one frame. What follows the pixel data is
// never inflated.

// maxElement bounds one element that apply reads; a longer one is skipped.
// The largest it reads, a 65536-entry 16-bit palette table, is 128 KiB.
const maxElement = 256 << 10

// errEnd is the end of the inflated dataset between two elements.
var errEnd = errors.New("end of the dataset")

// parseDeflated reads img's header from comp, the deflated dataset after
// the file meta information, and leaves its pixel data to an inflater.
func parseDeflated(img *Image, comp []byte, lim Limits) error {
	s := &stream{r: flate.NewReader(bytes.NewReader(comp)), max: lim.maxHeaderBytes()}
	r := &reader{explicit: true, bo: binary.LittleEndian}
	for {
		e, length, err := s.element()
		switch {
		case errors.Is(err, errEnd):
			return fmt.Errorf("%w: no pixel data", ErrMalformed)
		case err != nil:
			return err
		case e.tag == 0x7FE00010:
			return s.pixelData(img, r, e, length, comp)
		case e.undefined:
			err = s.skipSequence(1)
		case wanted(e.tag) && length <= maxElement:
			if e.value, err = s.read(int64(length)); err == nil {
				r.apply(img, e)
			}
		default:
			err = s.skip(int64(length))
		}
		if err != nil {
			return err
		}
	}
}

// stream reads an inflating dataset, counting what it inflates against max.
type stream struct {
	r   io.Reader
	n   int64 // bytes of the inflated dataset read so far
	max int64
	buf [12]byte
}

func inflateError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: inflate: %w", ErrMalformed, err)
}

// take counts n more bytes, refusing to go past max.
func (s *stream) take(n int64) error {
	if n > s.max-s.n {
		return fmt.Errorf("%w: the deflated dataset inflates past %d bytes before its pixel data", ErrTooLarge, s.max)
	}
	s.n += n
	return nil
}

func (s *stream) full(b []byte) error {
	if err := s.take(int64(len(b))); err != nil {
		return err
	}
	if _, err := io.ReadFull(s.r, b); err != nil {
		return inflateError(err)
	}
	return nil
}

func (s *stream) read(n int64) ([]byte, error) {
	b := make([]byte, n)
	return b, s.full(b)
}

func (s *stream) skip(n int64) error {
	if err := s.take(n); err != nil {
		return err
	}
	if _, err := io.CopyN(io.Discard, s.r, n); err != nil {
		return inflateError(err)
	}
	return nil
}

// element reads an element's header (Explicit VR Little Endian; items and
// delimiters have no VR) and returns it with its value's length, the
// value left unread; errEnd at the end of the dataset.
func (s *stream) element() (element, uint32, error) {
	if err := s.take(8); err != nil {
		return element{}, 0, err
	}
	b := s.buf[:]
	if _, err := io.ReadFull(s.r, b[:8]); errors.Is(err, io.EOF) {
		return element{}, 0, errEnd
	} else if err != nil {
		return element{}, 0, inflateError(err)
	}
	e := element{tag: uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))}
	length := binary.LittleEndian.Uint32(b[4:])
	if e.tag>>16 != 0xFFFE {
		e.vr = string(b[4:6])
		switch {
		case longVRs[e.vr]:
			if err := s.full(b[8:12]); err != nil {
				return e, 0, err
			}
			length = binary.LittleEndian.Uint32(b[8:])
		case knownVR(e.vr):
			length = uint32(binary.LittleEndian.Uint16(b[6:]))
		default:
			return e, 0, fmt.Errorf("%w: unknown VR (bytes %x) at inflated byte %d", ErrMalformed, e.vr, s.n-8)
		}
	}
	e.undefined = length == undefinedLength
	return e, length, nil
}

// skipSequence skips the items of an undefined-length sequence up to its
// delimitation item.
func (s *stream) skipSequence(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: sequences nested deeper than %d", ErrMalformed, maxDepth)
	}
	for {
		e, length, err := s.element()
		switch {
		case errors.Is(err, errEnd):
			return fmt.Errorf("%w: a sequence never ends", ErrMalformed)
		case err != nil:
			return err
		case e.tag == 0xFFFEE0DD:
			return nil
		case e.tag != 0xFFFEE000:
			return fmt.Errorf("%w: tag %08X inside a sequence", ErrMalformed, e.tag)
		case e.undefined:
			err = s.skipItem(depth + 1)
		default:
			err = s.skip(int64(length))
		}
		if err != nil {
			return err
		}
	}
}

// skipItem skips the elements of an undefined-length item.
func (s *stream) skipItem(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: sequences nested deeper than %d", ErrMalformed, maxDepth)
	}
	for {
		e, length, err := s.element()
		switch {
		case errors.Is(err, errEnd):
			return fmt.Errorf("%w: an item never ends", ErrMalformed)
		case err != nil:
			return err
		case e.tag == 0xFFFEE00D:
			return nil
		case e.undefined:
			err = s.skipSequence(depth + 1)
		default:
			err = s.skip(int64(length))
		}
		if err != nil {
			return err
		}
	}
}

// pixelData hands the pixel data, which starts where the stream is, to an
// inflater that goes on from there.
func (s *stream) pixelData(img *Image, r *reader, e element, length uint32, comp []byte) error {
	if e.undefined {
		return fmt.Errorf("%w: encapsulated pixel data in a deflated dataset", ErrMalformed)
	}
	if img.Photometric == "PALETTE COLOR" {
		p, err := r.palette()
		if err != nil {
			return err
		}
		img.Palette = p
	}
	img.pixelVR = e.vr
	img.deflated = &inflater{comp: comp, start: s.n, size: int64(length), r: s.r, pos: s.n}
	return nil
}

// inflater reads native pixel data out of a deflated dataset: its bytes
// [lo, hi) are bytes [start+lo, start+hi) of the inflated dataset. Its
// reader only goes forward, and starts over from the beginning to go back,
// so frames read in order inflate the file once; nothing but the bytes
// asked for is held.
type inflater struct {
	comp        []byte // the deflated dataset
	start, size int64  // the pixel data's offset in the inflated dataset, and its length

	mu  sync.Mutex
	r   io.Reader // nil: start over
	pos int64     // r's offset in the inflated dataset
}

// bytes returns the pixel data's bytes [lo, hi); the caller checked them
// against size.
func (d *inflater) bytes(lo, hi int64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at := d.start + lo
	if d.r == nil || d.pos > at {
		d.r, d.pos = flate.NewReader(bytes.NewReader(d.comp)), 0
	}
	out := make([]byte, hi-lo)
	_, err := io.CopyN(io.Discard, d.r, at-d.pos)
	if err == nil {
		_, err = io.ReadFull(d.r, out)
	}
	if err != nil {
		d.r = nil
		return nil, inflateError(err)
	}
	d.pos = hi + d.start
	return out, nil
}
