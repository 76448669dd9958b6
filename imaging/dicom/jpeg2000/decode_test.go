package jpeg2000_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg2000"
)

// Fixtures come from ../testdata/make-codec-fixtures.sh (opj_compress).
const fixtures = "../testdata/codecs"

var (
	gray8  = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	gray12 = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12}
	s16    = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16, Signed: true}
	s12    = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12, Signed: true}
	rgb8   = dicom.FrameInfo{Rows: 29, Columns: 37, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8}
)

var lossless = []struct {
	stream, raw string
	info        dicom.FrameInfo
}{
	{"gray8.j2k", "gray8.raw", gray8},
	{"gray8.jp2", "gray8.raw", gray8},
	{"gray8-tiles.j2k", "gray8.raw", gray8}, // 3×2 tiles of 16×16
	{"gray12.j2k", "gray12.raw", gray12},
	{"s16.j2k", "s16.raw", s16},
	{"s12.j2k", "s12.raw", s12},    // sign-extended to 16 bits
	{"rgb8.j2k", "rgb8.raw", rgb8}, // reversible colour transform
	{"rgb8.jp2", "rgb8.raw", rgb8},
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
	if !jpeg2000.Available {
		t.Skip("built without cgo")
	}
}

func TestDecodeLossless(t *testing.T) {
	skipWithoutCodec(t)
	for _, c := range lossless {
		t.Run(c.stream, func(t *testing.T) {
			data, want := read(t, c.stream), read(t, c.raw)
			got, err := jpeg2000.Decode(data, c.info)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("decoded frame differs from %s (%d bytes, want %d)", c.raw, len(got), len(want))
			}
			// A DICOM fragment may end with a pad byte.
			got, err = jpeg2000.Decode(append(data[:len(data):len(data)], 0), c.info)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("with a trailing pad byte: err %v, equal %v", err, bytes.Equal(got, want))
			}
		})
	}
}

func TestDecodeLossy(t *testing.T) {
	skipWithoutCodec(t)
	got, err := jpeg2000.Decode(read(t, "gray8-lossy.j2k"), gray8)
	if err != nil {
		t.Fatal(err)
	}
	want := read(t, "gray8.raw")
	if len(got) != len(want) {
		t.Fatalf("%d bytes, want %d", len(got), len(want))
	}
	sum := 0
	for i := range got {
		sum += max(int(got[i])-int(want[i]), int(want[i])-int(got[i]))
	}
	if mean := float64(sum) / float64(len(got)); mean > 20 {
		t.Errorf("mean absolute error %.1f for 8:1 compression", mean)
	}
}

func TestDecodeRefusesMismatch(t *testing.T) {
	skipWithoutCodec(t)
	with := func(i dicom.FrameInfo, f func(*dicom.FrameInfo)) dicom.FrameInfo {
		f(&i)
		return i
	}
	for _, c := range []struct {
		name, stream string
		info         dicom.FrameInfo
	}{
		{"rows", "gray12.j2k", with(gray12, func(i *dicom.FrameInfo) { i.Rows++ })},
		{"columns", "gray8.jp2", with(gray8, func(i *dicom.FrameInfo) { i.Columns = 36 })},
		{"components", "gray8.j2k", rgb8},
		{"components", "rgb8.j2k", gray8},
		{"precision", "gray12.j2k", with(gray12, func(i *dicom.FrameInfo) { i.BitsAllocated, i.BitsStored = 8, 8 })},
		{"signed", "s16.j2k", with(s16, func(i *dicom.FrameInfo) { i.Signed = false })},
		{"subsampled", "sub420.j2k", rgb8},
		{"bad info", "gray8.j2k", with(gray8, func(i *dicom.FrameInfo) { i.BitsAllocated = 12 })},
		{"no rows", "gray8.j2k", with(gray8, func(i *dicom.FrameInfo) { i.Rows = 0 })},
	} {
		if out, err := jpeg2000.Decode(read(t, c.stream), c.info); err == nil {
			t.Errorf("%s (%s): decoded %d bytes, want an error", c.name, c.stream, len(out))
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
}

// withPalette inserts an empty pclr box into a JP2 file's header box.
func withPalette(t testing.TB, jp2 []byte) []byte {
	var out []byte
	for b := jp2; len(b) > 0; {
		n := int(binary.BigEndian.Uint32(b))
		if n < 8 || n > len(b) {
			t.Fatal("fixture uses a box length this helper does not handle")
		}
		bx := b[:n]
		if string(bx[4:8]) == "jp2h" {
			pclr := []byte{0, 0, 0, 8, 'p', 'c', 'l', 'r'}
			bx = append(binary.BigEndian.AppendUint32(nil, uint32(n+len(pclr))), bx[4:]...)
			bx = append(bx, pclr...)
		}
		out = append(out, bx...)
		b = b[n:]
	}
	return out
}

func TestDecodeRefusesCorruptStreams(t *testing.T) {
	skipWithoutCodec(t)
	j2k, jp2 := read(t, "gray8.j2k"), read(t, "gray8.jp2")
	for name, b := range map[string][]byte{
		"empty":           nil,
		"SOC, SIZ only":   j2k[:4],
		"SIZ only":        j2k[:50],
		"half":            j2k[:len(j2k)/2],
		"no EOC":          j2k[:len(j2k)-2],
		"cut, EOC":        append(j2k[:len(j2k)/2:len(j2k)/2], 0xFF, 0xD9),
		"not JPEG 2000":   bytes.Repeat([]byte{0x55}, 100),
		"JP2 signature":   jp2[:12],
		"JP2 half":        jp2[:len(jp2)/2],
		"JP2 with pclr":   withPalette(t, jp2),
		"JP2 no EOC":      jp2[:len(jp2)-2],
		"SIZ 0 comps":     patch(j2k, 4, 0, 38),
		"SIZ zero tile":   patch(j2k, 24, 0, 0, 0, 0),
		"SIZ empty image": patch(j2k, 8, 0, 0, 0, 0),
	} {
		start := time.Now()
		if out, err := jpeg2000.Decode(b, gray8); err == nil {
			t.Errorf("%s: decoded %d bytes, want an error", name, len(out))
		} else {
			t.Logf("%s: %v", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %v", name, d)
		}
	}
}

// patch returns a copy of b with p written at offset i.
func patch(b []byte, i int, p ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[i:], p)
	return b
}

func TestDecodeRefusesHugeHeaderWithoutAllocating(t *testing.T) {
	skipWithoutCodec(t)
	j2k, jp2 := read(t, "gray8.j2k"), read(t, "gray8.jp2")
	at := bytes.Index(jp2, []byte{0xFF, 0x4F, 0xFF, 0x51})
	if at < 0 {
		t.Fatal("no codestream in gray8.jp2")
	}
	huge := []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60} // 60000
	for name, b := range map[string][]byte{
		"image":      patch(j2k, 8, huge...),                 // Xsiz, Ysiz
		"image, JP2": patch(jp2, at+8, huge...),              // in the jp2c box
		"tiles":      patch(j2k, 24, 0, 0, 0, 1, 0, 0, 0, 1), // 1×1 tiles: 1073 of them
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 10
		for range runs {
			if _, err := jpeg2000.Decode(b, gray8); err == nil {
				t.Fatalf("%s: decoded as 37×29", name)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 4096 {
			t.Errorf("%s: refusing allocated %d bytes per call", name, per)
		}
	}
}

func FuzzDecode(f *testing.F) {
	infos := []dicom.FrameInfo{gray8, gray12, s16, s12, rgb8}
	for _, c := range lossless {
		for k, info := range infos {
			if info == c.info {
				f.Add(read(f, c.stream), uint8(k))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		if !jpeg2000.Available {
			t.Skip("built without cgo")
		}
		info := infos[int(k)%len(infos)]
		out, err := jpeg2000.Decode(data, info)
		if err == nil && len(out) != info.FrameBytes() {
			t.Fatalf("%d bytes, want %d", len(out), info.FrameBytes())
		}
	})
}
