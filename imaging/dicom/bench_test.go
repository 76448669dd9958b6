package dicom_test

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/didicm/didicm/imaging"
)

// BenchmarkCTSlice is one core turning DICOM files from
// $DIDICM_BENCH_DICOM/<kind>/ (scripts/bench-dicom.sh writes 512×512 16-bit
// CT slices there, uncompressed and JPEG Lossless) into a 224×224 grey
// model input with a fixed window: images/s and bytes allocated per image.
func BenchmarkCTSlice(b *testing.B) {
	root := os.Getenv("DIDICM_BENCH_DICOM")
	if root == "" {
		b.Skip("DIDICM_BENCH_DICOM not set (scripts/bench-dicom.sh)")
	}
	in := imaging.Input{Channels: 1, Height: 224, Width: 224, Mean: []float32{0.5}, Std: []float32{0.25},
		Intensity: imaging.Intensity{Kind: "window", Center: 40, Width: 400}}
	kinds, _ := os.ReadDir(root)
	for _, k := range kinds {
		paths, _ := filepath.Glob(filepath.Join(root, k.Name(), "*"))
		sort.Strings(paths)
		var files [][]byte
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, data)
		}
		b.Run(k.Name(), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				s, err := imaging.PreprocessAll(files[n%len(files)], in, imaging.Limits{})
				if err != nil || s[0].Err != nil {
					b.Fatal(err, s)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
