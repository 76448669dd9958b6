package jpegls_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpegls"
)

// Fixtures come from ../testdata/make-codec-fixtures.sh (dcmtk's encoder).
const fixtures = "../testdata/codecs"

var (
	gray8  = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	gray12 = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12}
	s16    = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16, Signed: true}
	rgb8   = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8}
)

var lossless = []struct {
	stream, raw string
	info        dicom.FrameInfo
}{
	{"gray8.jls", "gray8.raw", gray8},
	{"gray12.jls", "gray12.raw", gray12},        // P=16 (dcmtk's raw mode)
	{"gray12-cooked.jls", "gray12.raw", gray12}, // P=12
	{"s16.jls", "s16.raw", s16},                 // two's complement bits
	{"rgb8-line.jls", "rgb8.raw", rgb8},         // interleave mode line
	{"rgb8-sample.jls", "rgb8.raw", rgb8},       // interleave mode sample
	{"rgb8-none.jls", "rgb8.raw", rgb8},         // planar scans
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
	if !jpegls.Available {
		t.Skip("built without cgo")
	}
}

func TestDecodeLossless(t *testing.T) {
	skipWithoutCodec(t)
	for _, c := range lossless {
		t.Run(c.stream, func(t *testing.T) {
			data, want := read(t, c.stream), read(t, c.raw)
			got, err := jpegls.Decode(data, c.info)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded frame differs from %s (%d bytes, want %d)", c.raw, len(got), len(want))
			}
			// A DICOM fragment may end with a pad byte after EOI.
			got, err = jpegls.Decode(append(data[:len(data):len(data)], 0), c.info)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("with a trailing pad byte: err %v, equal %v", err, bytes.Equal(got, want))
			}
		})
	}
}

func TestDecodeNearLossless(t *testing.T) {
	skipWithoutCodec(t)
	got, err := jpegls.Decode(read(t, "gray8-near.jls"), gray8)
	if err != nil {
		t.Fatal(err)
	}
	want := read(t, "gray8.raw")
	if len(got) != len(want) {
		t.Fatalf("%d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if d := int(got[i]) - int(want[i]); d < -2 || d > 2 {
			t.Fatalf("sample %d: %d, want %d±2 (NEAR=2)", i, got[i], want[i])
		}
	}
}

func TestDecodeRefusesMismatch(t *testing.T) {
	skipWithoutCodec(t)
	data := read(t, "gray12.jls")
	with := func(f func(*dicom.FrameInfo)) dicom.FrameInfo {
		i := gray12
		f(&i)
		return i
	}
	for name, info := range map[string]dicom.FrameInfo{
		"rows":           with(func(i *dicom.FrameInfo) { i.Rows++ }),
		"columns":        with(func(i *dicom.FrameInfo) { i.Columns = 36 }),
		"components":     with(func(i *dicom.FrameInfo) { i.SamplesPerPixel = 3 }),
		"bits allocated": with(func(i *dicom.FrameInfo) { i.BitsAllocated, i.BitsStored = 8, 8 }),
		"bad info":       with(func(i *dicom.FrameInfo) { i.BitsAllocated = 12 }),
		"no rows":        with(func(i *dicom.FrameInfo) { i.Rows = 0 }),
	} {
		if out, err := jpegls.Decode(data, info); err == nil {
			t.Errorf("%s: decoded %d bytes, want an error", name, len(out))
		}
	}
}

func TestDecodeRefusesCorruptStreams(t *testing.T) {
	skipWithoutCodec(t)
	data := read(t, "gray8.jls")
	for name, b := range map[string][]byte{
		"empty":       nil,
		"marker only": data[:2],
		"header only": data[:20],
		"half":        data[:len(data)/2],
		"no EOI":      data[:len(data)-2],
		"cut, EOI":    append(data[:len(data)/2:len(data)/2], 0xFF, 0xD9),
		"EOI only":    {0xFF, 0xD9},
		"not JPEG-LS": bytes.Repeat([]byte{0x55}, 100),
	} {
		start := time.Now()
		if out, err := jpegls.Decode(b, gray8); err == nil {
			t.Errorf("%s: decoded %d bytes, want an error", name, len(out))
		}
		// CharLS 2.4 spins for ~10 s on a scan cut short by the buffer end.
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %v", name, d)
		}
	}
}

// sof55 returns the offset of the SOF-55 marker segment in a JPEG-LS stream.
func sof55(t testing.TB, b []byte) int {
	i := bytes.Index(b, []byte{0xFF, 0xF7})
	if i < 0 || i+9 > len(b) {
		t.Fatal("no SOF-55 in fixture")
	}
	return i
}

func TestDecodeRefusesHugeHeaderWithoutAllocating(t *testing.T) {
	skipWithoutCodec(t)
	data := bytes.Clone(read(t, "gray8.jls"))
	i := sof55(t, data)
	copy(data[i+5:], []byte{0xEA, 0x60, 0xEA, 0x60}) // Y = X = 60000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const runs = 10
	for range runs {
		if _, err := jpegls.Decode(data, gray8); err == nil {
			t.Fatal("a 60000×60000 stream decoded as 37×29")
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4096 {
		t.Errorf("refusing a huge header allocated %d bytes per call", per)
	}
}

func FuzzDecode(f *testing.F) {
	infos := []dicom.FrameInfo{gray8, gray12, s16, rgb8}
	for _, c := range lossless {
		for k, info := range infos {
			if info == c.info {
				f.Add(read(f, c.stream), uint8(k))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		if !jpegls.Available {
			t.Skip("built without cgo")
		}
		info := infos[int(k)%len(infos)]
		out, err := jpegls.Decode(data, info)
		if err == nil && len(out) != info.FrameBytes() {
			t.Fatalf("%d bytes, want %d", len(out), info.FrameBytes())
		}
	})
}
