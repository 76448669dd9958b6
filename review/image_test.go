package review

import (
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/recordkey"
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
	rd := &renderer{lim: imaging.Limits{MaxDecodedBytes: imaging.DefaultMaxDecodedBytes}}
	for _, frame := range []int{0, 1} {
		img, err := rd.decode(data, frame, 64)
		if err != nil {
			t.Fatalf("frame %d: %v", frame, err)
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
	if _, err := rd.decode(data, 99, 64); err == nil {
		t.Fatal("frame 99 of a short file rendered")
	}
}

func TestKeysOfOlderJobsNameTheirObject(t *testing.T) {
	for key, want := range map[string]recordkey.Key{
		"a/scan.dcm":         {Object: "a/scan.dcm"},
		"a/scan.dcm#frame=3": {Object: "a/scan.dcm", Frame: 3},
		"a/x%23frame=3#":     {Object: "a/x#frame=3"},
		"a/odd#name.png":     {Object: "a/odd#name.png"},
		"a/scan.dcm#frame=x": {Object: "a/scan.dcm#frame=x"},
		"a/100%.png#frame=2": {Object: "a/100%.png#frame=2"},
		"a/cr\r.png#frame=1": {Object: "a/cr\r.png", Frame: 1},
	} {
		if got := locate(&item{key: key}); got != want {
			t.Errorf("locate(%q) = %+v, want %+v", key, got, want)
		}
	}
}
