package dicom

import (
	"bytes"
	"compress/flate"
)

// Where a deflate bomb's zeros sit in the dataset.
const (
	ZerosAfterPixels  = "after the pixel data"
	ZerosBeforePixels = "in a private element before the pixel data"
	ZerosInPixels     = "in a pixel data element longer than its rows and columns"
)

// DeflatedBomb is a Deflated Explicit VR Little Endian file of an 8×8
// 8-bit grey image (pixel k is k) with mib MiB of zeros where says (one
// of the Zeros constants): about a thousandth of that once deflated.
func DeflatedBomb(where string, mib int) []byte {
	px := make([]byte, 64)
	for k := range px {
		px[k] = byte(k)
	}
	zeros := int64(mib) << 20
	head := &ds{}
	head.el(0x0008, 0x0018, "UI", str("1.2.3.4"))
	if where == ZerosBeforePixels {
		head.el(0x0009, 0x0010, "LO", str("BOMB"))
		head.Write([]byte{0x09, 0x00, 0x10, 0x10, 'O', 'B', 0, 0})
		head.Write(le32(uint32(zeros)))
	}
	tail := &ds{}
	tail.el(0x0028, 0x0002, "US", us(1)).el(0x0028, 0x0004, "CS", str("MONOCHROME2")).
		el(0x0028, 0x0010, "US", us(8)).el(0x0028, 0x0011, "US", us(8)).el(0x0028, 0x0100, "US", us(8))
	switch where {
	case ZerosAfterPixels:
		tail.el(0x7FE0, 0x0010, "OB", px)
		head.Write(tail.Bytes())
		return part10(DeflatedExplicitVRLE, deflateZeros(head.Bytes(), mib, nil))
	case ZerosInPixels:
		tail.Write([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0})
		tail.Write(le32(uint32(64 + zeros)))
		tail.Write(px)
		head.Write(tail.Bytes())
		return part10(DeflatedExplicitVRLE, deflateZeros(head.Bytes(), mib, nil))
	}
	tail.el(0x7FE0, 0x0010, "OB", px)
	return part10(DeflatedExplicitVRLE, deflateZeros(head.Bytes(), mib, tail.Bytes()))
}

func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// deflateZeros deflates head, mib MiB of zeros and tail in a few
// milliseconds: one MiB of zeros is deflated once, after a first MiB, and
// its blocks are repeated (they refer back only to zeros).
func deflateZeros(head []byte, mib int, tail []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	mb := make([]byte, 1<<20)
	_, _ = w.Write(head)
	_, _ = w.Write(mb)
	_ = w.Flush()
	out := bytes.Clone(b.Bytes())
	b.Reset()
	_, _ = w.Write(mb)
	_ = w.Flush()
	block := bytes.Clone(b.Bytes())
	for range mib - 2 {
		out = append(out, block...)
	}
	b.Reset()
	_, _ = w.Write(mb) // the writer's own last MiB
	_, _ = w.Write(tail)
	_ = w.Close()
	return append(out, b.Bytes()...)
}
