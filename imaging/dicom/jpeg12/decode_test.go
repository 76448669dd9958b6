package jpeg12_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg12"
)

// Fixtures come from ../testdata/jpeg12/make-fixtures.sh: streams encoded by
// dcmtk's dcmcjpeg, references decoded by dcmtk's dcmdjpeg.
const fixtures = "../testdata/jpeg12"

var (
	gray12 = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12}
	gray8  = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	rgb8   = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8}
)

var cases = []struct {
	name string
	info dicom.FrameInfo
}{
	{"gray12", gray12}, // P=12
	{"gray8", gray8},   // P=8 under the same UID
	{"rgb8", rgb8},     // YCbCr 4:2:2 in the stream, RGB out
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func skipWithoutCodec(t testing.TB) {
	if !jpeg12.Available {
		t.Skip("built without cgo")
	}
}

// The same IJG decoder family as dcmdjpeg's: the frames match exactly.
func TestDecode(t *testing.T) {
	skipWithoutCodec(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, want := read(t, c.name+".jpg"), read(t, c.name+".raw")
			got, err := jpeg12.Decode(data, c.info)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.info.FrameBytes() || !bytes.Equal(got, want) {
				t.Fatalf("decoded %d bytes, differs from dcmdjpeg's %d", len(got), len(want))
			}
		})
	}
}

// A 12-bit frame uses the range: above 8 bits, within 12.
func TestDecode12BitRange(t *testing.T) {
	skipWithoutCodec(t)
	got, err := jpeg12.Decode(read(t, "gray12.jpg"), gray12)
	if err != nil {
		t.Fatal(err)
	}
	hi := uint16(0)
	for i := 0; i < len(got); i += 2 {
		hi = max(hi, binary.LittleEndian.Uint16(got[i:]))
	}
	if hi < 4000 || hi > 4095 {
		t.Fatalf("largest sample %d, want 4000..4095", hi)
	}
}

// A DICOM fragment has even length: a pad byte after EOI is fine.
func TestDecodePadded(t *testing.T) {
	skipWithoutCodec(t)
	data := append(read(t, "gray12.jpg"), 0)
	got, err := jpeg12.Decode(data, gray12)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, read(t, "gray12.raw")) {
		t.Fatal("padded stream decodes differently")
	}
}

func TestTruncated(t *testing.T) {
	skipWithoutCodec(t)
	for _, c := range cases {
		data := read(t, c.name+".jpg")
		for _, n := range []int{0, 1, 2, 3, 4, 20, len(data) / 3, len(data) / 2, len(data) - 100, len(data) - 2, len(data) - 1} {
			start := time.Now()
			if _, err := jpeg12.Decode(data[:n], c.info); err == nil {
				t.Errorf("%s cut to %d bytes: no error", c.name, n)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s cut to %d bytes: took %v", c.name, n, d)
			}
		}
	}
	_, err := jpeg12.Decode(read(t, "gray12.jpg")[:800], gray12)
	t.Logf("truncated: %v", err)
}

func TestCorrupt(t *testing.T) {
	skipWithoutCodec(t)
	data := read(t, "gray12.jpg")
	bad := bytes.Clone(data)
	for i := len(bad) / 2; i < len(bad)/2+40; i++ {
		bad[i] = 0xFF // markers in the middle of the entropy-coded data
	}
	if _, err := jpeg12.Decode(bad, gray12); err == nil {
		t.Error("corrupt stream: no error")
	} else {
		t.Logf("corrupt: %v", err)
	}
	if _, err := jpeg12.Decode([]byte("not a JPEG stream at all"), gray12); err == nil {
		t.Error("not JPEG: no error")
	}
}

func TestMismatch(t *testing.T) {
	skipWithoutCodec(t)
	g12, g8, c8 := read(t, "gray12.jpg"), read(t, "gray8.jpg"), read(t, "rgb8.jpg")
	with := func(f func(*dicom.FrameInfo)) dicom.FrameInfo {
		i := gray12
		f(&i)
		return i
	}
	for _, c := range []struct {
		name string
		data []byte
		info dicom.FrameInfo
	}{
		{"rows", g12, with(func(i *dicom.FrameInfo) { i.Rows = 30 })},
		{"columns", g12, with(func(i *dicom.FrameInfo) { i.Columns = 36 })},
		{"samples", g12, with(func(i *dicom.FrameInfo) { i.SamplesPerPixel = 3 })},
		{"12-bit stream, 8 allocated", g12, gray8},
		{"8-bit stream, 16 allocated", g8, gray12},
		{"colour stream, grey dataset", c8, gray8},
		{"grey stream, colour dataset", g8, rgb8},
		{"bits stored 16", g12, with(func(i *dicom.FrameInfo) { i.BitsStored = 16 })},
		{"bits allocated 32", g12, with(func(i *dicom.FrameInfo) { i.BitsAllocated = 32 })},
		{"huge", g12, with(func(i *dicom.FrameInfo) { i.Rows, i.Columns = 65535, 65535 })},
		{"zero rows", g12, with(func(i *dicom.FrameInfo) { i.Rows = 0 })},
		{"4 samples", g12, with(func(i *dicom.FrameInfo) { i.SamplesPerPixel = 4 })},
	} {
		if _, err := jpeg12.Decode(c.data, c.info); err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	skipWithoutCodec(f)
	for i, c := range cases {
		f.Add(read(f, c.name+".jpg"), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, shape uint8) {
		info := cases[int(shape)%len(cases)].info
		got, err := jpeg12.Decode(data, info)
		if err == nil && len(got) != info.FrameBytes() {
			t.Fatalf("%d bytes, want %d", len(got), info.FrameBytes())
		}
	})
}
