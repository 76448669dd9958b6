package review

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func TestADICOMFrameRendersWindowed(t *testing.T) {
	files, err := filepath.Glob("../cmd/didicm/demodicom/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no DICOM fixture: %v", err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, frame := range []int{0, 1} {
		out, err := renderPNG(data, frame, 64)
		if err != nil {
			t.Fatalf("frame %d: %v", frame, err)
		}
		img, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); max(b.Dx(), b.Dy()) > 64 || b.Dx() == 0 {
			t.Fatalf("frame %d: %v, want at most 64 px", frame, b)
		}
		g, ok := img.(*image.Gray)
		if !ok {
			continue
		}
		lo, hi := uint8(255), uint8(0)
		for _, v := range g.Pix {
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi <= lo {
			t.Fatalf("frame %d is flat (%d)", frame, lo)
		}
	}
	if _, err := renderPNG(data, 99, 64); err == nil {
		t.Fatal("frame 99 of a short file rendered")
	}
}

func TestSplitFrame(t *testing.T) {
	for key, want := range map[string]struct {
		obj   string
		frame int
	}{
		"a/scan.dcm":         {"a/scan.dcm", 0},
		"a/scan.dcm#frame=3": {"a/scan.dcm", 3},
		"a/scan.dcm#frame=x": {"a/scan.dcm#frame=x", 0},
		"a/scan.dcm#frame=0": {"a/scan.dcm#frame=0", 0},
	} {
		if obj, f := splitFrame(key); obj != want.obj || f != want.frame {
			t.Errorf("splitFrame(%q) = %q, %d", key, obj, f)
		}
	}
}
