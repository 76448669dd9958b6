package review_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/review"
)

// benchList is a review list of n images of a K=10 model with full
// posteriors and prediction sets, as a calibrated night of 10⁶ images
// gives ~10⁵.
func benchList(n int) []pipeline.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]pipeline.Record, n)
	for i := range recs {
		p := make([]float64, 10)
		var sum float64
		for k := range p {
			p[k] = rng.Float64()
			sum += p[k]
		}
		for k := range p {
			p[k] /= sum
		}
		set := 2 + rng.IntN(4)
		recs[i] = rec(fmt.Sprintf("scans/2026/11/27/site-%02d/img-%07d.png", i%40, i), digits[i%10], i%10, rng.Float64(), &set, p, nil)
		recs[i].PredictionSet = digits[:set]
	}
	return recs
}

// decideAll stores an unsure decision on every key by another reviewer,
// in one session of segments of 143 decisions.
func decideAll(b testing.TB, store *jobs.Store, keys []string) *jobs.ReviewSession {
	b.Helper()
	rs, err := store.NewReviewSession("carol")
	if err != nil {
		b.Fatal(err)
	}
	var lines []byte
	for i, key := range keys {
		lines = fmt.Appendf(lines, `{"key":%q,"decision":"unsure","class":"","reviewer":"carol","time":"2026-12-01T10:00:00.000Z"}`+"\n", key)
		if (i+1)%143 == 0 || i == len(keys)-1 {
			if _, _, err := rs.Append(context.Background(), lines); err != nil {
				b.Fatal(err)
			}
			lines = nil
		}
	}
	return rs
}

// BenchmarkReviewPage measures, at 10⁵ review items and 10⁵ decisions:
// Open (reading and ordering the list, reading the decisions), the
// server's memory after it, the page's first response, the state and one
// page of the list, and the state when another server has just stored a
// decision (a listing, one segment read again and a merge).
func BenchmarkReviewPage(b *testing.B) {
	const n = 100_000
	recs := benchList(n)
	j := jobOn(b, "file://"+b.TempDir(), recs, nil, func(s *jobs.Spec) { s.ClassNames = digits })
	keys := make([]string, n)
	for i, r := range recs {
		keys[i] = r.Key
	}
	carol := decideAll(b, j.store, keys)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, err := review.Open(context.Background(), review.Config{Store: j.store, Reviewer: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	opened := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.Logf("Open at %d items and %d decisions: %v, heap kept %.1f MiB", n, n, opened,
		float64(after.HeapAlloc-before.HeapAlloc)/(1<<20))
	h := s.Handler()
	for _, tc := range []struct{ name, path string }{
		{"page", "/"},
		{"state", "/state"},
		{"items", "/items?from=50000&n=100"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			size := 0
			for b.Loop() {
				w := get(h, tc.path)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "B/resp")
		})
	}
	b.Run("state-after-another-decision", func(b *testing.B) {
		line := []byte(`{"key":"` + keys[7] + `","decision":"unsure","class":"","reviewer":"carol","time":"2026-12-02T10:00:00.000Z"}` + "\n")
		for b.Loop() {
			b.StopTimer()
			if _, _, err := carol.Append(context.Background(), line); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if w := get(h, "/state"); w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkReadListAtLargeK reads review.jsonl lines of K=10⁵ full
// posteriors, keeping each one's top classes only.
func BenchmarkReadListAtLargeK(b *testing.B) {
	const k, lines = 100_000, 20
	rng := rand.New(rand.NewPCG(3, 4))
	recs := make([]pipeline.Record, lines)
	for i := range recs {
		p := make([]float64, k)
		for c := range p {
			p[c] = rng.Float64() / k
		}
		recs[i] = rec(fmt.Sprintf("img-%d.png", i), "", 7, 0.9, nil, p, nil)
	}
	j := jobOn(b, "file://"+b.TempDir(), recs, nil, nil)
	for b.Loop() {
		s, err := review.Open(context.Background(), review.Config{Store: j.store, Reviewer: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines)/1e6, "ms/line")
}
