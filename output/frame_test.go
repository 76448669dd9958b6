package output_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/output"
)

// Each frame renders as its own stored values under bits; a frame the file
// does not have is an error naming the count.
func TestFramePNGRendersTheOneFrameAsTheModelReadsIt(t *testing.T) {
	file := dicomtest.NativeFrames(3, 4, 8)
	for n, bright := range map[int]int{1: 2, 2: 4, 3: 6} { // frame k is bright left of 8·k/4
		data, err := output.FramePNG(context.Background(), file, n, imaging.Intensity{}, imaging.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		g := img.(*image.Gray)
		if g.Rect.Dx() != 8 || g.Rect.Dy() != 4 {
			t.Fatalf("frame %d is %v", n, g.Rect)
		}
		for x := range 8 {
			want := uint8(10)
			if x < bright {
				want = 200
			}
			if v := g.GrayAt(x, 3).Y; v != want {
				t.Fatalf("frame %d pixel %d = %d, want %d", n, x, v, want)
			}
		}
	}
	window := imaging.Intensity{Kind: "window", Center: 105, Width: 180} // 10 below it, 200 above
	data, err := output.FramePNG(context.Background(), file, 1, window, imaging.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := png.Decode(bytes.NewReader(data))
	if g := img.(*image.Gray); g.GrayAt(0, 0).Y != 255 || g.GrayAt(7, 0).Y != 0 {
		t.Fatalf("windowed frame: %d and %d, want 255 and 0", g.GrayAt(0, 0).Y, g.GrayAt(7, 0).Y)
	}
	if _, err := output.FramePNG(context.Background(), file, 4, imaging.Intensity{}, imaging.Limits{}); err == nil ||
		!strings.Contains(err.Error(), "frame 4 of 3") {
		t.Fatalf("frame 4 of 3: %v", err)
	}
}
