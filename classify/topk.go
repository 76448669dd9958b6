package classify

import "slices"

// topK returns the k most probable classes, most probable first (ties:
// lower index). It keeps the best k seen so far in a heap whose root is
// the worst of them, so that a class that does not beat the root, as
// almost all do at large K, costs one comparison: O(K log k) against a
// full sort's O(K log K): the top 5 of K=10⁵ in 0.06-0.07 ms against the
// sort's 30-32 ms (BenchmarkTopK, docs/benchmarks.md).
func topK(p []float64, k int) []int {
	k = min(k, len(p))
	if k <= 0 {
		return nil
	}
	// worse reports whether class a ranks below class b.
	worse := func(a, b int) bool { return p[a] < p[b] || (p[a] == p[b] && a > b) }
	h := make([]int, k)
	for i := range h {
		h[i] = i
	}
	for i := k/2 - 1; i >= 0; i-- {
		siftDown(h, i, worse)
	}
	for i := k; i < len(p); i++ {
		if worse(h[0], i) {
			h[0] = i
			siftDown(h, 0, worse)
		}
	}
	slices.SortFunc(h, func(a, b int) int {
		if worse(b, a) {
			return -1
		}
		return 1
	})
	return h
}

// siftDown restores the heap below i, the worst class at the root.
func siftDown(h []int, i int, worse func(a, b int) bool) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && worse(h[c+1], h[c]) {
			c++
		}
		if !worse(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
