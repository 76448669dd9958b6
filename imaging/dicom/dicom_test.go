package dicom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// ds writes a dataset element by element: explicit VR little endian unless
// implicit is set.
type ds struct {
	bytes.Buffer
	implicit bool
}

func (d *ds) el(group, elem uint16, vr string, value []byte) *ds {
	binary.Write(d, binary.LittleEndian, group)
	binary.Write(d, binary.LittleEndian, elem)
	switch {
	case d.implicit:
		binary.Write(d, binary.LittleEndian, uint32(len(value)))
	case longVRs[vr]:
		d.WriteString(vr + "\x00\x00")
		binary.Write(d, binary.LittleEndian, uint32(len(value)))
	default:
		d.WriteString(vr)
		binary.Write(d, binary.LittleEndian, uint16(len(value)))
	}
	d.Write(value)
	return d
}

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

func str(s string) []byte {
	if len(s)%2 == 1 {
		s += " "
	}
	return []byte(s)
}

// part10 wraps a dataset in a preamble and file meta with the syntax.
func part10(syntax string, body []byte) []byte {
	var meta ds
	uid := syntax
	if len(uid)%2 == 1 {
		uid += "\x00"
	}
	meta.el(0x0002, 0x0010, "UI", []byte(uid))
	out := append(make([]byte, 128), "DICM"...)
	return append(append(out, meta.Bytes()...), body...)
}

// ctSlice is a 4×3 signed 16-bit CT slice with rescale intercept -1024.
func ctSlice(implicit bool) []byte {
	d := &ds{implicit: implicit}
	d.el(0x0008, 0x0018, "UI", str("1.2.3.4")).el(0x0010, 0x0010, "PN", str("SECRET^NAME")).
		el(0x0020, 0x000D, "UI", str("1.2.3")).el(0x0020, 0x000E, "UI", str("1.2.3.9")).
		el(0x0028, 0x0002, "US", us(1)).el(0x0028, 0x0004, "CS", str("MONOCHROME2")).
		el(0x0028, 0x0010, "US", us(3)).el(0x0028, 0x0011, "US", us(4)).
		el(0x0028, 0x0100, "US", us(16)).el(0x0028, 0x0101, "US", us(12)).el(0x0028, 0x0102, "US", us(11)).
		el(0x0028, 0x0103, "US", us(1)).el(0x0028, 0x1052, "DS", str("-1024")).el(0x0028, 0x1053, "DS", str("1"))
	var px []byte
	for _, v := range []int16{-1, 0, 1, 2047, -2048, 100, 200, 300, 400, 500, 600, 700} {
		px = binary.LittleEndian.AppendUint16(px, uint16(v)&0x0FFF) // 12 bits stored
	}
	d.el(0x7FE0, 0x0010, "OW", px)
	return d.Bytes()
}

func TestAGreySliceReadsInModalityUnits(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
	}{{"part 10, explicit", part10(ExplicitVRLittleEndian, ctSlice(false))},
		{"part 10, implicit", part10(ImplicitVRLittleEndian, ctSlice(true))},
		{"bare explicit dataset", ctSlice(false)}} {
		t.Run(c.name, func(t *testing.T) {
			if !IsDICOM(c.data) {
				t.Fatal("not detected by content")
			}
			img, err := Parse(c.data, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			f, err := img.Frame(0)
			if err != nil {
				t.Fatal(err)
			}
			want := []float64{-1025, -1024, -1023, 1023, -3072, -924}
			for i, w := range want {
				if f.Values[i] != w {
					t.Fatalf("value %d: %v, want %v (all %v)", i, f.Values[i], w, f.Values)
				}
			}
			if img.SOPUID != "1.2.3.4" || img.StudyUID != "1.2.3" || img.SeriesUID != "1.2.3.9" {
				t.Fatalf("uids %q %q %q", img.StudyUID, img.SeriesUID, img.SOPUID)
			}
		})
	}
}

func TestMalformedFilesAreErrorsNotPanics(t *testing.T) {
	good := part10(ExplicitVRLittleEndian, ctSlice(false))
	pastEnd := append([]byte{}, good...)
	binary.LittleEndian.PutUint32(pastEnd[len(pastEnd)-24-4:], 0x7FFFFFF0) // the pixel data's length
	var seq ds
	seq.el(0x0008, 0x1115, "SQ", nil)
	unterminated := seq.Bytes()
	binary.LittleEndian.PutUint32(unterminated[8:], undefinedLength)
	unterminated = append(unterminated, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF) // an item that never ends
	cases := map[string][]byte{
		"truncated":             good[:len(good)-5],
		"length past the end":   pastEnd,
		"unterminated sequence": part10(ExplicitVRLittleEndian, unterminated),
		"no pixel data":         part10(ExplicitVRLittleEndian, ctSlice(false)[:40]),
	}
	for name, b := range cases {
		if _, err := Parse(b, Limits{}); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func TestAHugeHeaderIsRefusedBeforeDecoding(t *testing.T) {
	b := part10(ExplicitVRLittleEndian, ctSlice(false))
	i := bytes.Index(b, []byte{0x28, 0x00, 0x10, 0x00, 'U', 'S'}) // rows
	binary.LittleEndian.PutUint16(b[i+8:], 60000)
	k := bytes.Index(b, []byte{0x28, 0x00, 0x11, 0x00, 'U', 'S'})
	binary.LittleEndian.PutUint16(b[k+8:], 60000)
	_, err := Parse(b, Limits{MaxPixelBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%v, want ErrTooLarge", err)
	}
}

func TestAnUnknownSyntaxIsNamed(t *testing.T) {
	var d ds
	d.el(0x0028, 0x0002, "US", us(1)).el(0x0028, 0x0004, "CS", str("MONOCHROME2")).
		el(0x0028, 0x0010, "US", us(2)).el(0x0028, 0x0011, "US", us(2)).el(0x0028, 0x0100, "US", us(8))
	d.Write([]byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF})
	d.Write([]byte{0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0, 2, 0, 0, 0, 1, 2})
	d.Write([]byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
	_, err := Parse(part10("1.2.840.10008.1.2.4.100", d.Bytes()), Limits{})
	if !errors.Is(err, ErrUnsupportedSyntax) || !strings.Contains(err.Error(), "1.2.840.10008.1.2.4.100") {
		t.Fatalf("%v: want ErrUnsupportedSyntax naming the UID", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(part10(ExplicitVRLittleEndian, ctSlice(false)))
	f.Add(part10(ImplicitVRLittleEndian, ctSlice(true)))
	f.Add(ctSlice(false))
	f.Add(DeflatedBomb(ZerosAfterPixels, 2))
	f.Add(DeflatedBomb(ZerosBeforePixels, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Parse(b, Limits{MaxPixelBytes: 1 << 22})
		if err != nil {
			return
		}
		for i := range min(img.Frames, 4) {
			if f, err := img.Frame(i); err == nil && len(f.Values) != f.Width*f.Height*f.Channels {
				t.Fatalf("frame %d: %d values for %dx%dx%d", i, len(f.Values), f.Width, f.Height, f.Channels)
			}
		}
	})
}
