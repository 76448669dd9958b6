// Package dicomtest writes small DICOM files for tests: Explicit VR
// Little Endian datasets element by element, Part 10 framing, and
// multi-frame grey files (native and RLE Lossless).
package dicomtest

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// Dataset writes DICOM elements in Explicit VR Little Endian.
type Dataset struct{ bytes.Buffer }

// El appends one element; OB, OW, SQ, UN and UT get a 32-bit length.
func (d *Dataset) El(group, elem uint16, vr string, value []byte) *Dataset {
	d.Write(U16(group))
	d.Write(U16(elem))
	switch vr {
	case "OB", "OW", "SQ", "UN", "UT":
		d.WriteString(vr + "\x00\x00")
		d.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(value))))
	default:
		d.WriteString(vr)
		d.Write(U16(uint16(len(value))))
	}
	d.Write(value)
	return d
}

// U16 is v little-endian.
func U16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// Text pads s to an even length.
func Text(s string) []byte {
	if len(s)%2 == 1 {
		s += " "
	}
	return []byte(s)
}

// Part10 wraps a dataset in a preamble and file meta naming the syntax.
func Part10(syntax string, body []byte) []byte {
	var meta Dataset
	uid := syntax
	if len(uid)%2 == 1 {
		uid += "\x00"
	}
	meta.El(0x0002, 0x0010, "UI", []byte(uid))
	out := append(make([]byte, 128), "DICM"...)
	return append(append(out, meta.Bytes()...), body...)
}

// GreyHeader is the pixel module of frames×rows×cols 8-bit MONOCHROME2.
func GreyHeader(frames, rows, cols int) *Dataset {
	d := &Dataset{}
	d.El(0x0008, 0x0018, "UI", Text("1.2.3.4")).El(0x0020, 0x000D, "UI", Text("1.2.3")).El(0x0020, 0x000E, "UI", Text("1.2.3.9")).
		El(0x0028, 0x0002, "US", U16(1)).El(0x0028, 0x0004, "CS", Text("MONOCHROME2")).
		El(0x0028, 0x0008, "IS", Text(strconv.Itoa(frames))).
		El(0x0028, 0x0010, "US", U16(uint16(rows))).El(0x0028, 0x0011, "US", U16(uint16(cols))).
		El(0x0028, 0x0100, "US", U16(8)).El(0x0028, 0x0101, "US", U16(8)).El(0x0028, 0x0102, "US", U16(7)).
		El(0x0028, 0x0103, "US", U16(0))
	return d
}

// NativeFrames is a multi-frame 8-bit grey DICOM file (Explicit VR Little
// Endian): frame k (0-based) is bright left of column cols·(k+1)/(frames+1)
// and dark right of it, so later frames are brighter.
func NativeFrames(frames, rows, cols int) []byte {
	d := GreyHeader(frames, rows, cols)
	px := make([]byte, 0, frames*rows*cols)
	for k := range frames {
		for range rows {
			for x := range cols {
				v := uint8(10)
				if x < cols*(k+1)/(frames+1) {
					v = 200
				}
				px = append(px, v)
			}
		}
	}
	if len(px)%2 == 1 {
		px = append(px, 0)
	}
	d.El(0x7FE0, 0x0010, "OW", px)
	return Part10("1.2.840.10008.1.2.1", d.Bytes())
}

// RLEFrames is a multi-frame 8-bit grey RLE Lossless file: each frame of
// rows×cols one value (k mod 256), encoded as PackBits runs of 128.
func RLEFrames(frames, rows, cols int) []byte {
	d := GreyHeader(frames, rows, cols)
	var px Dataset
	item := func(length int) {
		px.Write(U16(0xFFFE))
		px.Write(U16(0xE000))
		px.Write(binary.LittleEndian.AppendUint32(nil, uint32(length)))
	}
	item(0) // an empty basic offset table
	for k := range frames {
		var seg bytes.Buffer
		for n := rows * cols; n > 0; n -= 128 {
			run := min(n, 128)
			seg.WriteByte(byte(int8(1 - run)))
			seg.WriteByte(byte(k))
		}
		if seg.Len()%2 == 1 {
			seg.WriteByte(0)
		}
		frag := make([]byte, 64)
		binary.LittleEndian.PutUint32(frag, 1)
		binary.LittleEndian.PutUint32(frag[4:], 64)
		frag = append(frag, seg.Bytes()...)
		item(len(frag))
		px.Write(frag)
	}
	px.Write(U16(0xFFFE))
	px.Write(U16(0xE0DD))
	px.Write(binary.LittleEndian.AppendUint32(nil, 0))
	d.Write(U16(0x7FE0))
	d.Write(U16(0x0010))
	d.WriteString("OB\x00\x00")
	d.Write(binary.LittleEndian.AppendUint32(nil, 0xFFFFFFFF))
	d.Write(px.Bytes())
	return Part10("1.2.840.10008.1.2.5", d.Bytes())
}
