package jpegturbo_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/imaging/jpegturbo"
)

// benchFrames reads $DIDICM_BENCH_FRAMES/*.jpg (scripts/bench-jpeg.sh makes
// photo-like 1080p frames there), or makes two in memory.
func benchFrames(b *testing.B) [][]byte {
	var frames [][]byte
	if dir := os.Getenv("DIDICM_BENCH_FRAMES"); dir != "" {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
		sort.Strings(paths)
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			frames = append(frames, data)
		}
	}
	if len(frames) == 0 {
		frames = [][]byte{frame(b, 1920, 1080), frame(b, 1920, 1080)}
	}
	return frames
}

// BenchmarkJPEG1080p is one core's preprocessing of 1080p JPEG frames to
// the model input, with each decoder: images/s and bytes allocated per image.
func BenchmarkJPEG1080p(b *testing.B) {
	frames := benchFrames(b)
	for _, in := range []struct {
		name string
		in   imaging.Input
	}{{"rgb224", rgb224}, {"gray28", gray28}} {
		for _, dec := range []string{"turbo", "image-jpeg"} {
			b.Run(in.name+"/"+dec, func(b *testing.B) {
				if dec == "turbo" {
					if !jpegturbo.Available {
						b.Skip("no libjpeg-turbo in this build")
					}
					imaging.SetJPEGDecoder(jpegturbo.Decode, jpegturbo.Scale)
					defer imaging.SetJPEGDecoder(nil, nil)
				}
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if _, err := imaging.Preprocess(frames[n%len(frames)], in.in, imaging.Limits{}); err != nil {
						b.Fatal(err)
					}
					n++
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
