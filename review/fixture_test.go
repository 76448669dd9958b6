package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// jobOn writes a finished job "night-1" to the bucket at url: its spec
// (edit may change it), the review list recs (in list order) and the input
// files, by object key. On file:// the inputs are written as plain files,
// so that any byte a file name allows survives.
func jobOn(t testing.TB, url string, recs []pipeline.Record, inputs map[string][]byte, edit func(*jobs.Spec)) *testJob {
	t.Helper()
	ctx := context.Background()
	j := &testJob{url: url, sizes: map[string][2]int{}}
	if dir, ok := strings.CutPrefix(url, "file://"); ok {
		j.dir = dir
	}
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: url, Prefix: "out", ID: "night-1"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	j.store = store
	spec := jobs.Spec{ID: "night-1", InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
		Sampler: "cp", BatchSize: 10}
	spec.Defaults()
	if edit != nil {
		edit(&spec)
	}
	must(t, store.WriteSpec(ctx, spec))
	var list bytes.Buffer
	for _, r := range recs {
		line, err := json.Marshal(r)
		must(t, err)
		list.Write(append(line, '\n'))
	}
	must(t, store.WriteSummary(ctx, pipeline.Summary{JobID: "night-1"}, list.Bytes()))
	writeInputs(t, j, inputs)
	return j
}

func writeInputs(t testing.TB, j *testJob, inputs map[string][]byte) {
	t.Helper()
	if len(inputs) == 0 {
		return
	}
	if j.dir != "" {
		for key, data := range inputs {
			path := filepath.Join(j.dir, filepath.FromSlash(key))
			must(t, os.MkdirAll(filepath.Dir(path), 0o755))
			must(t, os.WriteFile(path, data, 0o644))
		}
		return
	}
	b, err := storage.Open(context.Background(), j.url)
	must(t, err)
	defer b.Close()
	for key, data := range inputs {
		must(t, b.Write(context.Background(), key, data, "application/octet-stream"))
	}
}

// greyPNG is a w×h 8-bit grey PNG of a gradient (with fill 0) or of one
// value.
func greyPNG(w, h int, fill uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := fill
			if fill == 0 {
				v = uint8(255 * x / w)
			}
			img.Pix[y*img.Stride+x] = v
		}
	}
	return encodePNG(img)
}

// rgbaPNG is a w×h RGBA PNG of one colour.
func rgbaPNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < len(img.Pix); p += 4 {
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = 200, 100, 50, 255
	}
	return encodePNG(img)
}

// encodePNG encodes img, which cannot fail in memory.
func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// decodePNG decodes a served image.
func decodePNG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG (%v): %.200s", err, b)
	}
	return img
}

// meanGrey is an image's mean brightness in [0, 255].
func meanGrey(img image.Image) float64 {
	b := img.Bounds()
	var sum float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}
