package part10

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Tag is a data element's (group, element) pair, group in the high 16 bits.
type Tag uint32

// NewTag is the tag (group, element).
func NewTag(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group is the tag's group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// String writes the tag as DICOM does: (0010,0010).
func (t Tag) String() string { return fmt.Sprintf("(%04X,%04X)", uint16(t>>16), uint16(t)) }

// Tags of the items and delimiters inside sequences, and of the pixel data.
const (
	tagItem              Tag = 0xFFFEE000
	tagItemDelimiter     Tag = 0xFFFEE00D
	tagSequenceDelimiter Tag = 0xFFFEE0DD
	TagPixelData         Tag = 0x7FE00010
)

// Element is one data element: a value, or the items of a sequence (VR SQ).
type Element struct {
	Tag Tag
	VR  string
	// Value is the value as written, without its padding: text values
	// joined by '\', binary values in little-endian order.
	Value []byte
	// Items are a sequence's items, each a dataset.
	Items []Dataset
	// verbatim values were copied from another file: Encode checks their
	// length against the VR's form but not their characters (the source's
	// character set may be other than ours).
	verbatim bool
}

// Dataset is a list of elements; Encode sorts it by tag.
type Dataset []Element

// Text is a text element of vr (AE, AS, CS, DA, DS, DT, IS, LO, LT, PN,
// SH, ST, TM, UC, UI, UR, UT) holding values, joined by '\'.
func Text(tag Tag, vr string, values ...string) Element {
	return Element{Tag: tag, VR: vr, Value: []byte(strings.Join(values, `\`))}
}

// UID is a UI element.
func UID(tag Tag, uid string) Element { return Text(tag, "UI", uid) }

// Int is an IS element.
func Int(tag Tag, n int) Element { return Text(tag, "IS", strconv.Itoa(n)) }

// UL is a 32-bit unsigned element.
func UL(tag Tag, v uint32) Element {
	return Element{Tag: tag, VR: "UL", Value: binary.LittleEndian.AppendUint32(nil, v)}
}

// US is a 16-bit unsigned element.
func US(tag Tag, v uint16) Element {
	return Element{Tag: tag, VR: "US", Value: binary.LittleEndian.AppendUint16(nil, v)}
}

// Bytes is a binary element (OB, UN) of raw bytes.
func Bytes(tag Tag, vr string, b []byte) Element { return Element{Tag: tag, VR: vr, Value: b} }

// Seq is a sequence of items; none makes an empty sequence (a type 2
// sequence that is present but empty).
func Seq(tag Tag, items ...Dataset) Element {
	if items == nil {
		items = []Dataset{}
	}
	return Element{Tag: tag, VR: "SQ", Items: items}
}

// Verbatim is an element copied as it was read from another file (its
// padding stripped): its characters are those of the source's character
// set, so Encode does not check them.
func Verbatim(e Element) Element {
	e.Value = trimPadding(e.VR, e.Value)
	e.verbatim = true
	return e
}

// String is the element's text value without padding.
func (e Element) String() string { return string(trimPadding(e.VR, e.Value)) }

// Find returns the element of tag in d.
func (d Dataset) Find(tag Tag) (Element, bool) {
	for _, e := range d {
		if e.Tag == tag {
			return e, true
		}
	}
	return Element{}, false
}

// Text returns the text value of tag in d, or "".
func (d Dataset) Text(tag Tag) string {
	e, _ := d.Find(tag)
	return e.String()
}

// trimPadding drops the trailing padding of a text value: spaces and NULs
// (UI is padded with NUL, other text with spaces, but writers mix them
// up); binary values are kept.
func trimPadding(vr string, b []byte) []byte {
	switch {
	case isText(vr):
		for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
			b = b[:len(b)-1]
		}
	}
	return b
}

// Copied says whether the element was made by Verbatim.
func (e Element) Copied() bool { return e.verbatim }
