package review

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// topPosterior reads a record's posterior (K probabilities in class order)
// keeping only its maxShown most probable classes, most probable first
// (ties: the lower index first): at K=10⁵ the page must not hold 10⁵
// floats per image.
type topPosterior []choice

// UnmarshalJSON scans the array once without building it.
func (p *topPosterior) UnmarshalJSON(b []byte) error {
	*p = nil
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return errors.New("posterior: not an array")
	}
	var top topN
	body := b[1 : len(b)-1]
	for i := 0; len(bytes.TrimSpace(body)) > 0; i++ {
		tok, rest, _ := bytes.Cut(body, []byte{','})
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(tok)), 64)
		if err != nil {
			return fmt.Errorf("posterior[%d]: %w", i, err)
		}
		top.add(i, v)
		body = rest
	}
	*p = top.choices()
	return nil
}

// topN keeps the maxShown largest values seen, in order.
type topN struct {
	n   int
	idx [maxShown]int
	val [maxShown]float64
}

func (t *topN) add(i int, v float64) {
	if t.n == maxShown && v <= t.val[maxShown-1] {
		return
	}
	at := min(t.n, maxShown-1)
	for at > 0 && t.val[at-1] < v {
		at--
	}
	if t.n < maxShown {
		t.n++
	}
	copy(t.idx[at+1:t.n], t.idx[at:t.n-1])
	copy(t.val[at+1:t.n], t.val[at:t.n-1])
	t.idx[at], t.val[at] = i, v
}

func (t *topN) choices() []choice {
	out := make([]choice, t.n)
	for k := range out {
		out[k] = choice{index: int32(t.idx[k]), prob: float32(t.val[k])}
	}
	return out
}
