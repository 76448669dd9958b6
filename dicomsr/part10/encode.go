package part10

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ExplicitVRLittleEndian is the transfer syntax Encode writes.
const ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"

// Meta is what a file's meta information says beyond its transfer syntax.
type Meta struct {
	// SOPClass and SOPInstance are the Media Storage SOP Class and
	// Instance UIDs: the dataset's own SOP Class and Instance UIDs.
	SOPClass, SOPInstance string
	// ImplementationClass identifies the software that wrote the file;
	// ImplementationVersion (at most 16 characters) names its version.
	ImplementationClass, ImplementationVersion string
}

// ErrInvalid marks a dataset that cannot be written as it is.
var ErrInvalid = errors.New("invalid DICOM dataset")

// maxDepth bounds nested sequences on writing and reading.
const maxDepth = 16

// Encode writes ds as a Part 10 file in Explicit VR Little Endian: the
// 128-byte preamble, "DICM", the file meta information and the dataset,
// each dataset in tag order, sequences with defined lengths. ds is not
// changed. A value its VR does not allow is an error wrapping ErrInvalid.
func Encode(meta Meta, ds Dataset) ([]byte, error) {
	fm := Dataset{
		Bytes(0x00020001, "OB", []byte{0, 1}),
		UID(0x00020002, meta.SOPClass),
		UID(0x00020003, meta.SOPInstance),
		UID(0x00020010, ExplicitVRLittleEndian),
		UID(0x00020012, meta.ImplementationClass),
		Text(0x00020013, "SH", meta.ImplementationVersion),
	}
	for _, e := range ds {
		if e.Tag.Group() <= 0x0002 {
			return nil, fmt.Errorf("%w: %s belongs to the file meta information, which Encode writes", ErrInvalid, e.Tag)
		}
	}
	sortedMeta, err := prepare(fm, 0)
	if err != nil {
		return nil, err
	}
	body, err := prepare(ds, 0)
	if err != nil {
		return nil, err
	}
	groupLen := size(sortedMeta)
	if groupLen > math.MaxUint32 || size(body) > math.MaxUint32-groupLen {
		return nil, fmt.Errorf("%w: over 4 GiB", ErrInvalid)
	}
	out := make([]byte, 0, 128+4+12+groupLen+size(body))
	out = append(out, make([]byte, 128)...)
	out = append(out, "DICM"...)
	out = appendElement(out, UL(0x00020000, uint32(groupLen)))
	out = appendDataset(out, sortedMeta)
	return appendDataset(out, body), nil
}

// prepare returns a sorted, checked copy of ds with its values padded.
func prepare(ds Dataset, depth int) (Dataset, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: sequences nested deeper than %d", ErrInvalid, maxDepth)
	}
	out := slices.Clone(ds)
	slices.SortStableFunc(out, func(a, b Element) int { return cmpTag(a.Tag, b.Tag) })
	for i := range out {
		e := &out[i]
		if i > 0 && out[i-1].Tag == e.Tag {
			return nil, fmt.Errorf("%w: %s twice", ErrInvalid, e.Tag)
		}
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if e.VR == "SQ" {
			items := make([]Dataset, len(e.Items))
			for j, it := range e.Items {
				var err error
				if items[j], err = prepare(it, depth+1); err != nil {
					return nil, fmt.Errorf("%s item %d: %w", e.Tag, j+1, err)
				}
			}
			e.Items = items
			continue
		}
		if len(e.Value)%2 == 1 {
			e.Value = append(slices.Clip(e.Value), padByte(e.VR))
		}
		if !longVRs[e.VR] && len(e.Value) > math.MaxUint16-1 {
			return nil, fmt.Errorf("%w: %s %s of %d bytes: over the 16-bit length of its VR", ErrInvalid, e.Tag, e.VR, len(e.Value))
		}
	}
	return out, nil
}

func cmpTag(a, b Tag) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// size is the encoded length of a prepared dataset.
func size(ds Dataset) uint64 {
	var n uint64
	for _, e := range ds {
		n += elementSize(e)
	}
	return n
}

func elementSize(e Element) uint64 {
	head := uint64(8)
	if longVRs[e.VR] {
		head = 12
	}
	return head + valueSize(e)
}

func valueSize(e Element) uint64 {
	if e.VR != "SQ" {
		return uint64(len(e.Value))
	}
	var n uint64
	for _, it := range e.Items {
		n += 8 + size(it)
	}
	return n
}

func appendDataset(out []byte, ds Dataset) []byte {
	for _, e := range ds {
		out = appendElement(out, e)
	}
	return out
}

func appendElement(out []byte, e Element) []byte {
	le := binary.LittleEndian
	out = le.AppendUint16(out, uint16(e.Tag>>16))
	out = le.AppendUint16(out, uint16(e.Tag))
	out = append(out, e.VR...)
	n := valueSize(e)
	if longVRs[e.VR] {
		out = append(out, 0, 0)
		out = le.AppendUint32(out, uint32(n))
	} else {
		out = le.AppendUint16(out, uint16(n))
	}
	if e.VR != "SQ" {
		return append(out, e.Value...)
	}
	for _, it := range e.Items {
		out = le.AppendUint16(out, uint16(tagItem>>16))
		out = le.AppendUint16(out, uint16(tagItem&0xFFFF))
		out = le.AppendUint32(out, uint32(size(it)))
		out = appendDataset(out, it)
	}
	return out
}
