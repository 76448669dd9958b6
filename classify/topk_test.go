package classify

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// sortedTopK is the reference: every class sorted, most probable first,
// ties in index order (the implementation before the heap).
func sortedTopK(p []float64, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	return idx[:min(k, len(idx))]
}

func TestTopKIsTheSortedPrefix(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 7, 100, 1000} {
		for _, k := range []int{1, 2, 5, n - 1, n, n + 3} {
			if k < 1 {
				continue
			}
			t.Run(fmt.Sprintf("K=%d k=%d", n, k), func(t *testing.T) {
				for range 20 {
					p := make([]float64, n)
					levels := 1 + r.IntN(n) // few levels: many ties
					for i := range p {
						p[i] = float64(r.IntN(levels)) / float64(levels)
					}
					if got, want := topK(p, k), sortedTopK(p, k); !slices.Equal(got, want) {
						t.Fatalf("topK(%v, %d) = %v, want %v", p, k, got, want)
					}
				}
			})
		}
	}
}

func TestTopKOfNothingIsEmpty(t *testing.T) {
	if got := topK(nil, 5); len(got) != 0 {
		t.Fatalf("topK(nil, 5) = %v", got)
	}
	if got := topK([]float64{1}, 0); len(got) != 0 {
		t.Fatalf("topK(p, 0) = %v", got)
	}
}

func BenchmarkTopK(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1000, 100000} {
		p := randomPosterior(r, k)
		for _, impl := range []struct {
			name string
			f    func([]float64, int) []int
		}{{"sort", sortedTopK}, {"heap", topK}} {
			b.Run(fmt.Sprintf("K=%d/top-5/%s", k, impl.name), func(b *testing.B) {
				for b.Loop() {
					impl.f(p, 5)
				}
			})
		}
	}
}
