package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

func synthetic(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 255), 255})
		}
	}
	return img
}

var mnistInput = Input{Channels: 1, Height: 28, Width: 28, Mean: []float32{0.1307}, Std: []float32{0.3081}}

func benchPreprocess(b *testing.B, data []byte, in Input) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Preprocess(data, in, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkPreprocessPNG28(b *testing.B) {
	var buf bytes.Buffer
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	png.Encode(&buf, g)
	benchPreprocess(b, buf.Bytes(), mnistInput)
}

func BenchmarkPreprocessJPEG1080p(b *testing.B) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, synthetic(1920, 1080), &jpeg.Options{Quality: 90})
	b.Run("to-28x28-gray", func(b *testing.B) { benchPreprocess(b, buf.Bytes(), mnistInput) })
	rgb224 := Input{Channels: 3, Height: 224, Width: 224, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}
	b.Run("to-224x224-rgb", func(b *testing.B) { benchPreprocess(b, buf.Bytes(), rgb224) })
}
