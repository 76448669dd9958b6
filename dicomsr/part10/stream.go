package part10

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// stream reads elements from a dataset as it arrives, counting the bytes
// it reads against max.
type stream struct {
	r        *bufio.Reader
	n, max   int64
	explicit bool
	bo       binary.ByteOrder
}

const undefinedLength = 0xFFFFFFFF

// errPastMax is the bytes limit, named in the error.
var errPastMax = errors.New("header longer than the limit")

func (s *stream) take(n int64) error {
	if s.n+n > s.max {
		return fmt.Errorf("%w (%d bytes)", errPastMax, s.max)
	}
	s.n += n
	return nil
}

func (s *stream) read(b []byte) error {
	if err := s.take(int64(len(b))); err != nil {
		return err
	}
	_, err := io.ReadFull(s.r, b)
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (s *stream) skip(n int64) error {
	if err := s.take(n); err != nil {
		return err
	}
	for n > 0 {
		step := int(min(n, 1<<30))
		d, err := s.r.Discard(step)
		n -= int64(d)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// top reads top-level elements until a tag past last or the pixel data.
func (s *stream) top(want Want, last Tag) (Dataset, error) {
	var out Dataset
	for {
		p, err := s.r.Peek(4)
		if len(p) < 4 {
			if errors.Is(err, io.EOF) {
				return out, nil // the dataset ended before the last tag wanted
			}
			return nil, err
		}
		if t := s.peekTag(p); t > last || t >= TagPixelData {
			return out, nil
		}
		e, keep, err := s.element(want)
		if err != nil {
			return nil, err
		}
		if keep {
			out = append(out, e)
		}
	}
}

func (s *stream) peekTag(p []byte) Tag {
	return Tag(uint32(s.bo.Uint16(p))<<16 | uint32(s.bo.Uint16(p[2:])))
}

// element reads one element's header and either its value (when want
// holds its tag) or skips it, sequences included.
func (s *stream) element(want Want) (Element, bool, error) {
	tag, vr, length, err := s.head()
	if err != nil {
		return Element{}, false, err
	}
	wantVR, keep := want[tag]
	if vr == "" {
		vr = wantVR
	}
	switch {
	case length == undefinedLength:
		// A sequence, or UN holding one (encoded as Implicit VR Little Endian).
		inner := *s
		if vr == "UN" {
			inner.explicit, inner.bo = false, binary.LittleEndian
		}
		err := inner.skipItems(1)
		s.n = inner.n
		return Element{}, false, err
	case keep && vr != "SQ":
		if length > MaxValue {
			return Element{}, false, fmt.Errorf("%s: value of %d bytes, over %d", tag, length, MaxValue)
		}
		b := make([]byte, length)
		if err := s.read(b); err != nil {
			return Element{}, false, fmt.Errorf("%s: %w", tag, err)
		}
		return Element{Tag: tag, VR: vr, Value: b}, true, nil
	}
	return Element{}, false, s.skip(int64(length))
}

// head reads an element's tag, VR (empty in Implicit VR) and length.
func (s *stream) head() (Tag, string, uint32, error) {
	var b [8]byte
	if err := s.read(b[:]); err != nil {
		return 0, "", 0, err
	}
	tag := s.peekTag(b[:])
	if !s.explicit || tag.Group() == 0xFFFE {
		return tag, "", s.bo.Uint32(b[4:]), nil
	}
	vr := string(b[4:6])
	if !knownVR(vr) {
		return 0, "", 0, fmt.Errorf("%s: unknown VR %q", tag, vr)
	}
	if !longVRs[vr] {
		return tag, vr, uint32(s.bo.Uint16(b[6:])), nil
	}
	var l [4]byte
	if err := s.read(l[:]); err != nil {
		return 0, "", 0, err
	}
	return tag, vr, s.bo.Uint32(l[:]), nil
}

// skipItems skips an undefined-length sequence's items up to its
// delimiter.
func (s *stream) skipItems(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("sequences nested deeper than %d", maxDepth)
	}
	for {
		tag, _, length, err := s.head()
		if err != nil {
			return err
		}
		switch {
		case tag == tagSequenceDelimiter:
			return nil
		case tag != tagItem:
			return fmt.Errorf("%s inside a sequence", tag)
		case length == undefinedLength:
			if err := s.skipItem(depth); err != nil {
				return err
			}
		default:
			if err := s.skip(int64(length)); err != nil {
				return err
			}
		}
	}
}

// skipItem skips an undefined-length item's elements up to its delimiter.
func (s *stream) skipItem(depth int) error {
	for {
		p, err := s.r.Peek(4)
		if len(p) < 4 {
			return fmt.Errorf("an item never ends: %w", err)
		}
		if s.peekTag(p) == tagItemDelimiter {
			var b [8]byte
			return s.read(b[:])
		}
		tag, vr, length, err := s.head()
		if err != nil {
			return err
		}
		if length != undefinedLength {
			if err := s.skip(int64(length)); err != nil {
				return err
			}
			continue
		}
		inner := *s
		if vr == "UN" {
			inner.explicit, inner.bo = false, binary.LittleEndian
		}
		if err := inner.skipItems(depth + 1); err != nil {
			return fmt.Errorf("%s: %w", tag, err)
		}
		s.n = inner.n
	}
}
