package review

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/didicm/didicm/pipeline"
)

// maxShown is how many of an image's most probable classes the page lists
// (digit keys 1-9 pick one).
const maxShown = 9

// Item is one image of the review list as the page shows it.
type Item struct {
	pipeline.Record
	// Top holds the most probable classes, most probable first.
	Top []Choice
}

// Choice is one class the reviewer can pick.
type Choice struct {
	Class string
	Prob  float64
}

// Failed reports whether the image has no posterior.
func (it Item) Failed() bool { return it.Error != "" }

// allows reports whether class is one the page offers for the item.
func (it Item) allows(class string) bool {
	for _, c := range it.Top {
		if c.Class == class {
			return true
		}
	}
	return slices.Contains(it.PredictionSet, class)
}

// parseList reads review.jsonl and returns its items, most uncertain first.
func parseList(data []byte) ([]Item, error) {
	var recs []pipeline.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r pipeline.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("review.jsonl line %d: %w", n, err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("review.jsonl: %w", err)
	}
	names := classNames(recs)
	items := make([]Item, len(recs))
	for i, r := range recs {
		items[i] = Item{Record: r, Top: topClasses(r, names)}
	}
	sortItems(items)
	return items, nil
}

// sortItems orders items by uncertainty: the larger prediction set first
// (a record without one counts as 0), then the higher normalised entropy;
// failed images last; ties by key.
func sortItems(items []Item) {
	setSize := func(it Item) int {
		if it.SetSize == nil {
			return 0
		}
		return *it.SetSize
	}
	slices.SortStableFunc(items, func(a, b Item) int {
		if a.Failed() != b.Failed() {
			if a.Failed() {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(setSize(b), setSize(a)), cmp.Compare(b.EntropyNorm, a.EntropyNorm), cmp.Compare(a.Key, b.Key))
	})
}

// classNames gathers the names of class indices that the records mention
// (a full posterior has only probabilities in class order).
func classNames(recs []pipeline.Record) map[int]string {
	names := map[int]string{}
	for _, r := range recs {
		if r.Class != "" && r.ClassIndex >= 0 {
			names[r.ClassIndex] = r.Class
		}
		for _, c := range r.TopK {
			names[c.Index] = c.Class
		}
	}
	return names
}

// topClasses lists a record's most probable classes, from its top_k or its
// full posterior; a class whose name no record gives shows as "#index".
func topClasses(r pipeline.Record, names map[int]string) []Choice {
	var out []Choice
	if len(r.TopK) > 0 {
		for _, c := range r.TopK {
			out = append(out, Choice{Class: c.Class, Prob: c.Prob})
		}
	} else {
		idx := make([]int, len(r.Posterior))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(r.Posterior[b], r.Posterior[a]) })
		for _, i := range idx {
			name, ok := names[i]
			if !ok {
				name = "#" + strconv.Itoa(i)
			}
			out = append(out, Choice{Class: name, Prob: r.Posterior[i]})
		}
	}
	slices.SortStableFunc(out, func(a, b Choice) int { return cmp.Compare(b.Prob, a.Prob) })
	return out[:min(len(out), maxShown)]
}
