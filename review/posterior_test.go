package review

import (
	"cmp"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// topOracle sorts every index by probability (ties: lower index first).
func topOracle(p []float64) []choice {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[b], p[a]) })
	out := []choice{}
	for _, i := range idx[:min(len(idx), maxShown)] {
		out = append(out, choice{index: int32(i), prob: float32(p[i])})
	}
	return out
}

func TestThePosteriorKeepsItsMostProbableClassesOnly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 2, 9, 10, 100, 10_000} {
		for range 20 {
			p := make([]float64, k)
			for i := range p {
				p[i] = float64(rng.IntN(50)) / 50 // many ties
			}
			line, _ := json.Marshal(map[string]any{"key": "x", "posterior": p})
			var l listLine
			if err := json.Unmarshal(line, &l); err != nil {
				t.Fatal(err)
			}
			if got, want := []choice(l.Posterior), topOracle(p); !slices.Equal(got, want) {
				t.Fatalf("K=%d: %v, want %v", k, got, want)
			}
		}
	}
}

func TestAPosteriorThatIsNotNumbersIsAnError(t *testing.T) {
	for _, post := range []string{`"x"`, `[1,"a"]`, `{}`, `[[1]]`} {
		var l listLine
		if err := json.Unmarshal([]byte(`{"key":"x","posterior":`+post+`}`), &l); err == nil {
			t.Errorf("posterior %s was read as %v", post, l.Posterior)
		}
	}
	var l listLine
	if err := json.Unmarshal([]byte(`{"key":"x","posterior":null}`), &l); err != nil || l.Posterior != nil {
		t.Errorf("a null posterior: %v, %v", l.Posterior, err)
	}
	if err := json.Unmarshal([]byte(`{"key":"x","posterior":[ 0.5 , 1e-3,0.25 ]}`), &l); err != nil || len(l.Posterior) != 3 || l.Posterior[0].index != 0 {
		t.Errorf("a posterior with spaces: %v, %v", l.Posterior, err)
	}
}

func FuzzTopPosterior(f *testing.F) {
	f.Add(uint64(1), uint16(12))
	f.Fuzz(func(t *testing.T, seed uint64, k uint16) {
		rng := rand.New(rand.NewPCG(seed, 0))
		p := make([]float64, int(k)%2000)
		var parts []string
		for i := range p {
			p[i] = float64(rng.IntN(1000)) / 1000
			parts = append(parts, strconv.FormatFloat(p[i], 'g', -1, 64))
		}
		var got topPosterior
		if err := got.UnmarshalJSON([]byte("[" + strings.Join(parts, ",") + "]")); err != nil {
			t.Fatal(err)
		}
		if want := topOracle(p); !slices.Equal([]choice(got), want) && len(p) > 0 {
			t.Fatalf("%v, want %v", got, want)
		}
	})
}
