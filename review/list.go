package review

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// maxShown is how many of an image's most probable classes the page lists
// (digit keys 1-9 pick one).
const maxShown = 9

// maxLine bounds one line of review.jsonl: a full posterior at K=10⁶ is
// ~15 MB of JSON.
const maxLine = 64 << 20

// item is one image of the review list, as compact as the page allows: at
// 10⁵ items the server keeps a few hundred bytes each, never a posterior.
type item struct {
	key     string
	class   string // the predicted class's name as recorded; "" when failed or unnamed
	index   int32  // the predicted class's index; -1 when failed
	top     []choice
	set     []string // the prediction set, names shared between items
	setSize int32    // -1: the record has no prediction set
	maxProb float32
	entropy float64 // normalised
	err     string
	reason  string
	study   string // the DICOM study's UID, shared between its items; "" for none
}

// choice is one of an image's most probable classes.
type choice struct {
	index int32
	prob  float32
}

func (it *item) failed() bool { return it.err != "" }

// listLine is what the page reads of a review.jsonl line (the JSON names of
// pipeline.Record): the posterior is read as its most probable classes only.
type listLine struct {
	Key           string       `json:"key"`
	Class         string       `json:"class"`
	ClassIndex    *int         `json:"class_index"`
	Posterior     topPosterior `json:"posterior"`
	TopK          []classProb  `json:"top_k"`
	MaxProb       float64      `json:"max_prob"`
	EntropyNorm   float64      `json:"entropy_norm"`
	Error         string       `json:"error"`
	ErrorReason   string       `json:"error_reason"`
	PredictionSet []string     `json:"prediction_set"`
	SetSize       *int         `json:"set_size"`
	StudyUID      string       `json:"study_uid"`
}

type classProb struct {
	Class string  `json:"class"`
	Index int     `json:"index"`
	Prob  float64 `json:"prob"`
}

// readList reads review.jsonl line by line into items, most uncertain
// first, noting the class names its records give in names.
func readList(r io.Reader, names *classNames) ([]item, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var items []item
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l listLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("review.jsonl line %d: %w", n, err)
		}
		items = append(items, names.itemOf(&l))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("review.jsonl: %w", err)
	}
	sortItems(items)
	return items, nil
}

// itemOf makes a line's item, noting the names it gives.
func (c *classNames) itemOf(l *listLine) item {
	it := item{key: l.Key, index: -1, setSize: -1, maxProb: float32(l.MaxProb), entropy: l.EntropyNorm,
		err: l.Error, reason: c.intern(l.ErrorReason), study: c.intern(l.StudyUID)}
	if l.ClassIndex != nil && l.Error == "" {
		it.index = int32(*l.ClassIndex)
		c.note(*l.ClassIndex, l.Class)
	}
	it.class = c.intern(l.Class)
	if len(l.TopK) > 0 {
		for _, p := range l.TopK {
			c.note(p.Index, p.Class)
			it.top = append(it.top, choice{index: int32(p.Index), prob: float32(p.Prob)})
		}
		slices.SortStableFunc(it.top, func(a, b choice) int { return cmp.Compare(b.prob, a.prob) })
		it.top = slices.Clip(it.top[:min(len(it.top), maxShown)])
	} else if len(l.Posterior) > 0 {
		it.top = slices.Clone([]choice(l.Posterior))
	}
	if l.SetSize != nil {
		it.setSize = int32(*l.SetSize)
	}
	for _, name := range l.PredictionSet {
		c.known[name] = true
		it.set = append(it.set, c.intern(name))
	}
	return it
}

// sortItems orders items by uncertainty: the larger prediction set first
// (a record without one counts as 0), then the higher normalised entropy;
// failed images last; ties by key.
func sortItems(items []item) {
	slices.SortFunc(items, func(a, b item) int {
		if a.failed() != b.failed() {
			if a.failed() {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(max(b.setSize, 0), max(a.setSize, 0)), cmp.Compare(b.entropy, a.entropy), cmp.Compare(a.key, b.key))
	})
}
