package imaging

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// halves is 10×6: red on the left half, blue on the right.
func halves() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 10, 6))
	for y := range 6 {
		for x := range 10 {
			c := color.NRGBA{255, 0, 0, 255}
			if x >= 5 {
				c = color.NRGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func encode(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, halves()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEveryFormatDecodesToTheSamePicture(t *testing.T) {
	files := map[string][]byte{
		"png":  encode(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }),
		"jpeg": encode(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, &jpeg.Options{Quality: 100}) }),
		"gif":  encode(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }),
		"bmp":  encode(t, func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) }),
		"tiff": encode(t, func(b *bytes.Buffer, m image.Image) error { return tiff.Encode(b, m, nil) }),
		"webp": read(t, "halves.webp"),
	}
	rgb := Input{Channels: 3, Height: 2, Width: 2, Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	for format, b := range files {
		t.Run(format, func(t *testing.T) {
			_, got, err := Decode(b, Limits{})
			if err != nil || got != format {
				t.Fatalf("format %q, err %v", got, err)
			}
			x, err := Preprocess(b, rgb, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			// C×H×W: red plane left column ≈ 1, right ≈ 0; blue the opposite.
			want := []float32{1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1}
			tol := 0.02
			if format == "jpeg" {
				tol = 0.15 // 4:2:0 chroma subsampling blurs the colour edge
			}
			for i := range want {
				if math.Abs(float64(x[i]-want[i])) > tol {
					t.Fatalf("tensor %v, want about %v", x, want)
				}
			}
		})
	}
}

func TestJPEGExifOrientationIsApplied(t *testing.T) {
	img, _, err := Decode(read(t, "rotated.jpg"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// Stored 10 wide × 6 high with orientation 6 (rotate 90° clockwise): shown 6 × 10, red on top.
	if b := img.Bounds(); b.Dx() != 6 || b.Dy() != 10 {
		t.Fatalf("size %v, want 6x10", b)
	}
	r, _, bl, _ := img.At(3, 1).RGBA()
	if r < bl {
		t.Fatalf("top is not red: r=%d b=%d", r, bl)
	}
}

func TestGrayConversionAndNormalisation(t *testing.T) {
	gray := Input{Channels: 1, Height: 1, Width: 2, Mean: []float32{0.5}, Std: []float32{0.25}}
	x := Tensor(halves(), gray)
	// luma of red 0.299, of blue 0.114; normalised (v - 0.5) / 0.25.
	want := []float64{(0.299 - 0.5) / 0.25, (0.114 - 0.5) / 0.25}
	for i := range want {
		if math.Abs(float64(x[i])-want[i]) > 1e-6 {
			t.Fatalf("got %v, want %v", x, want)
		}
	}
}

func TestResizeMatchesPyTorch(t *testing.T) {
	var cases []struct {
		H, W, OH, OW int
		In, Out      []float64
	}
	if err := json.Unmarshal(read(t, "resize.json"), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got := Resize(c.In, c.W, c.H, c.OW, c.OH)
		for i := range got {
			if math.Abs(got[i]-c.Out[i]) > 1e-12 {
				t.Fatalf("%dx%d -> %dx%d: entry %d is %v, PyTorch %v", c.H, c.W, c.OH, c.OW, i, got[i], c.Out[i])
			}
		}
	}
}

// pngHeader is a PNG signature and IHDR chunk claiming w×h pixels, and nothing else.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(13))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestHugeHeaderIsRejectedWithoutAllocatingPixels(t *testing.T) {
	b := pngHeader(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := Decode(b, Limits{})
	runtime.ReadMemStats(&after)
	var e *Error
	if !errors.As(err, &e) || e.Reason != "too_many_pixels" || !errors.Is(err, ErrTooManyPix) {
		t.Fatalf("err %v, want too_many_pixels", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Fatalf("allocated %d bytes rejecting a header", grew)
	}
}

func TestBrokenInputsGiveTypedErrors(t *testing.T) {
	good := encode(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
	tests := []struct {
		name   string
		b      []byte
		lim    Limits
		reason string
	}{
		{"empty file", nil, Limits{}, "empty"},
		{"text file", []byte("hello, this is not an image"), Limits{}, "unsupported_format"},
		{"truncated PNG", good[:len(good)/2], Limits{}, "corrupt"},
		{"header only", pngHeader(4, 4), Limits{}, "corrupt"},
		{"over the byte limit", good, Limits{MaxBytes: 10}, "too_large"},
		{"over the pixel limit", good, Limits{MaxPixels: 59}, "too_many_pixels"},
		{"zero width", pngHeader(0, 5), Limits{}, "corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(tt.b, tt.lim)
			var e *Error
			if !errors.As(err, &e) || e.Reason != tt.reason {
				t.Fatalf("err %v, want reason %q", err, tt.reason)
			}
		})
	}
}

// An error says what a file is not, never what its bytes are: a link to
// /etc/passwd in an archive must not put its first line in a record.
func TestErrorsNeverQuoteTheFile(t *testing.T) {
	secret := []byte("root:x:0:0:root:/root:/bin/bash\n")
	_, _, err := Decode(secret, Limits{})
	var e *Error
	if !errors.As(err, &e) || e.Reason != "unsupported_format" {
		t.Fatalf("err %v, want unsupported_format", err)
	}
	if strings.Contains(err.Error(), "root") || strings.Contains(err.Error(), `\x`) {
		t.Fatalf("the error quotes the file: %v", err)
	}
}

func FuzzPreprocess(f *testing.F) {
	f.Add(pngHeader(3, 3))
	f.Add(encode(&testing.T{}, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }))
	f.Add(encode(&testing.T{}, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }))
	f.Add(encode(&testing.T{}, func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) }))
	for _, name := range []string{"rotated.jpg", "halves.webp"} {
		if b, err := os.ReadFile("testdata/" + name); err == nil {
			f.Add(b)
		}
	}
	in := Input{Channels: 1, Height: 4, Width: 4, Mean: []float32{0}, Std: []float32{1}}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Preprocess(b, in, Limits{MaxPixels: 1 << 20})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(x) != 16 {
			t.Fatalf("%d values", len(x))
		}
		for _, v := range x {
			if math.IsNaN(float64(v)) {
				t.Fatal("NaN in tensor")
			}
		}
	})
}

func TestPeekReaderPeeksWithoutAdvancing(t *testing.T) {
	r := newPeekReader([]byte("\x89PNG rest"))
	if p, err := r.Peek(4); string(p) != "\x89PNG" || err != nil {
		t.Fatalf("Peek(4) = %q, %v", p, err)
	}
	buf := make([]byte, 5)
	if n, _ := r.Read(buf); string(buf[:n]) != "\x89PNG " {
		t.Fatalf("Read after Peek = %q", buf[:n])
	}
	if p, err := r.Peek(10); string(p) != "rest" || !errors.Is(err, io.EOF) {
		t.Fatalf("Peek past the end = %q, %v; want the rest and io.EOF", p, err)
	}
}
