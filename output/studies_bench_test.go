package output_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// BenchmarkStudiesWriter writes the group files of a stored job of 10⁴
// DICOM images in 100 studies (K=5, JSON Lines in a file:// bucket): both
// passes over the records, as the worker does when the job ends.
func BenchmarkStudiesWriter(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var recs []pipeline.Record
	for s := range 100 {
		recs = append(recs, groupingtest.Study(r, fmt.Sprintf("1.2.840.%d", s), 2, 50, s%5, 0.7, true)...)
	}
	dir := b.TempDir()
	store, err := jobs.OpenStore(context.Background(), jobs.Ref{OutputURL: "file://" + dir, ID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	spec := jobs.Spec{ID: "bench", InputURL: "file://" + dir, OutputURL: "file://" + dir, ReviewThreshold: 0.5,
		ClassNames: groupingtest.Classes}
	spec.Defaults()
	groupingtest.Finish(b, store, spec, recs, 256)
	job, err := output.Open(context.Background(), store)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := (output.Studies{}).Write(context.Background(), job); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
}
