package grouping_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// BenchmarkRun groups 10⁴ records held in memory (both passes): studies of
// DICOM images at K=10, or frames of videos.
func BenchmarkRun(b *testing.B) {
	names := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	r := rand.New(rand.NewPCG(1, 2))
	studies, frames := make([]pipeline.Record, 10_000), make([]pipeline.Record, 10_000)
	for i := range studies {
		studies[i] = classified(fmt.Sprintf("studies/%d/series/%d/instances/%d", i/100, i/50, i), randomPosterior(r, 10), names)
		studies[i].StudyUID, studies[i].SeriesUID = fmt.Sprintf("1.2.%d", i/100), fmt.Sprintf("1.2.%d.%d", i/100, i/50)
		frames[i] = frameAt(fmt.Sprintf("drive/%d.mp4", i/1000), "", int64(i%1000)*1000, r.Float64())
	}
	for name, recs := range map[string][]pipeline.Record{"studies": studies, "frames": frames} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := grouping.Run(grouping.Config{Review: entropyRule}, from(recs)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
