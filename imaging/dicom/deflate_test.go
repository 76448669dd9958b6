package dicom

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// allocated is the bytes f allocates, garbage included: an upper bound on
// what it holds at its peak.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestTheBombBuilderWritesTheZerosItSays(t *testing.T) {
	for _, where := range []string{ZerosAfterPixels, ZerosBeforePixels, ZerosInPixels} {
		b := DeflatedBomb(where, 4)
		_, body, err := readMeta(b[132:])
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, flate.NewReader(bytes.NewReader(body)))
		if err != nil || n < 4<<20 || n > 4<<20+512 {
			t.Fatalf("%s: inflates to %d bytes (%v), want 4 MiB and a small header", where, n, err)
		}
	}
}

// TestADeflatedBombInflatesNoFurtherThanItsPixels: 256 MiB of zeros behind
// an 8×8 image, deflated to ~330 KB, wherever they sit, are never held: the
// file is decoded (as 8×8) or refused with ErrTooLarge, allocating less
// than 4 MiB either way. Inflated whole, it took over 512 MB.
func TestADeflatedBombInflatesNoFurtherThanItsPixels(t *testing.T) {
	for _, where := range []string{ZerosAfterPixels, ZerosBeforePixels, ZerosInPixels} {
		t.Run(where, func(t *testing.T) {
			b := DeflatedBomb(where, 256)
			var img *Image
			var f Frame
			var err error
			alloc := allocated(func() {
				if img, err = Parse(b, Limits{}); err == nil {
					f, err = img.Frame(0)
				}
			})
			if alloc > 4<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file of an 8×8 image", alloc, len(b))
			}
			switch {
			case errors.Is(err, ErrTooLarge):
				return
			case err != nil:
				t.Fatalf("%v: want the 8×8 image, or ErrTooLarge", err)
			case f.Width != 8 || f.Height != 8 || f.Values[63] != 63:
				t.Fatalf("%dx%d, last value %v: want the 8×8 image", f.Width, f.Height, f.Values[len(f.Values)-1])
			}
		})
	}
}

// deflated is body deflated behind a Deflated Explicit VR Little Endian file meta.
func deflated(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.DefaultCompression)
	if _, err := w.Write(body); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	return part10(DeflatedExplicitVRLE, b.Bytes())
}

// multiFrame is a 3-frame 5×3 grey dataset of the given bits (1: 15-bit
// frames, which start mid-byte), each sample different, a sequence and
// a private element before the pixel data.
func multiFrame(bits int) []byte {
	d := &ds{}
	d.el(0x0008, 0x0018, "UI", str("1.2.3.4"))
	seq := (&ds{}).el(0x0008, 0x1150, "UI", str("1.2"))
	d.Write([]byte{0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF})
	d.Write(seq.Bytes())
	d.Write([]byte{0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
	d.el(0x0009, 0x1001, "OB", make([]byte, 1000))
	d.el(0x0028, 0x0002, "US", us(1)).el(0x0028, 0x0004, "CS", str("MONOCHROME2")).el(0x0028, 0x0008, "IS", str("3")).
		el(0x0028, 0x0010, "US", us(3)).el(0x0028, 0x0011, "US", us(5)).el(0x0028, 0x0100, "US", us(uint16(bits)))
	var px []byte
	switch bits {
	case 1:
		px = make([]byte, 6) // 45 bits
		for k := range 45 {
			if k%3 == 0 || k%7 == 0 {
				px[k/8] |= 1 << (k % 8)
			}
		}
	default:
		for k := range 45 {
			px = binary.LittleEndian.AppendUint16(px, uint16(1000*k+7))
		}
	}
	return d.el(0x7FE0, 0x0010, "OW", px).Bytes()
}

// TestADeflatedFileDecodesAsTheSameFileUncompressed: frames of a deflated
// multi-frame file, read in any order, equal those of its Explicit VR copy.
func TestADeflatedFileDecodesAsTheSameFileUncompressed(t *testing.T) {
	for _, bits := range []int{1, 16} {
		body := multiFrame(bits)
		plain, err := Parse(part10(ExplicitVRLittleEndian, body), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := Parse(deflated(t, body), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1, 2, 2, 0, 1} {
			want, err := plain.Frame(i)
			if err != nil {
				t.Fatal(err)
			}
			got, err := img.Frame(i)
			if err != nil {
				t.Fatalf("%d bits, frame %d: %v", bits, i, err)
			}
			if fmt.Sprint(got.Values) != fmt.Sprint(want.Values) {
				t.Fatalf("%d bits, frame %d: %v, want %v", bits, i, got.Values, want.Values)
			}
		}
	}
}

func TestATruncatedDeflatedFileIsMalformed(t *testing.T) {
	b := deflated(t, multiFrame(16))
	for _, cut := range []int{len(b) - 60, 200} {
		img, err := Parse(b[:cut], Limits{})
		if err == nil {
			_, err = img.Frame(2)
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("cut at %d of %d: %v, want ErrMalformed", cut, len(b), err)
		}
	}
}

// bigEndianOW8 is an Explicit VR Big Endian file of n frames of 32×32
// 8-bit samples held in OW words (each pair of samples swapped): sample
// k of frame f is (f + k) % 251.
func bigEndianOW8(n int) []byte {
	var d bytes.Buffer
	el := func(group, elem uint16, vr string, value []byte) {
		d.Write(binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, group), elem))
		if longVRs[vr] {
			d.WriteString(vr + "\x00\x00")
			d.Write(binary.BigEndian.AppendUint32(nil, uint32(len(value))))
		} else {
			d.WriteString(vr)
			d.Write(binary.BigEndian.AppendUint16(nil, uint16(len(value))))
		}
		d.Write(value)
	}
	be16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	el(0x0028, 0x0002, "US", be16(1))
	el(0x0028, 0x0004, "CS", str("MONOCHROME2"))
	el(0x0028, 0x0008, "IS", str(fmt.Sprint(n)))
	el(0x0028, 0x0010, "US", be16(32))
	el(0x0028, 0x0011, "US", be16(32))
	el(0x0028, 0x0100, "US", be16(8))
	px := make([]byte, n*1024)
	for k := range px {
		px[k^1] = byte((k/1024 + k%1024) % 251)
	}
	el(0x7FE0, 0x0010, "OW", px)
	return part10(ExplicitVRBigEndian, d.Bytes())
}

// TestBigEndianWordsAreSwappedAFrameAtATime: each frame of an 8-bit
// big-endian OW file swaps its own words, not the whole pixel data's (256
// frames of 1 KiB took 64 MiB to read).
func TestBigEndianWordsAreSwappedAFrameAtATime(t *testing.T) {
	img, err := Parse(bigEndianOW8(256), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	alloc := allocated(func() {
		for i := range img.Frames {
			f, err := img.Frame(i)
			if err != nil {
				t.Fatal(err)
			}
			if f.Values[0] != float64(i%251) || f.Values[1023] != float64((i+1023)%251) {
				t.Fatalf("frame %d starts %v, ends %v", i, f.Values[0], f.Values[1023])
			}
		}
	})
	if alloc > 4<<20 { // the frames' values are 2 MiB
		t.Fatalf("reading 256 frames of 1 KiB allocated %d bytes", alloc)
	}
}
