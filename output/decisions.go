package output

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/review"
	"github.com/didicm/didicm/storage"
)

// Decisions is each reviewer's last decision on each image of a job, over
// every review session and every older reviews/NAME.jsonl. Decisions on
// keys that have since left the review list are kept: a person's label of
// an image is a label whatever list showed it.
type Decisions struct {
	byKey map[string][]review.Decision // each reviewer's last, by reviewer name
}

// placed is a decision and where it is stored: the review page's order
// (the later time, then the later object key, then the later line).
type placed struct {
	review.Decision
	at   int64
	obj  string
	line int
}

func (d *placed) after(e *placed) bool {
	return cmp.Or(cmp.Compare(d.at, e.at), cmp.Compare(d.obj, e.obj), cmp.Compare(d.line, e.line)) > 0
}

// ReadDecisions reads every decisions object of the job, eight at a time,
// and keeps each reviewer's last decision per image in the review page's
// order. Lines that do not parse are skipped, as the page skips them (a
// torn write must not hide the rest); an object removed since the listing
// is skipped too.
func ReadDecisions(ctx context.Context, store *jobs.Store) (*Decisions, error) {
	objs, err := store.ListReviews(ctx)
	if err != nil {
		return nil, err
	}
	parsed := make([][]placed, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, o := range objs {
		g.Go(func() error {
			data, err := store.ReadReviewObject(gctx, o.Key)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			parsed[i] = parseDecisions(o.Key, o.Reviewer, data)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return lastPerReviewer(parsed), nil
}

// lastPerReviewer keeps each reviewer's last decision per key.
func lastPerReviewer(parsed [][]placed) *Decisions {
	last := map[string]map[string]*placed{}
	for _, ds := range parsed {
		for i := range ds {
			d := &ds[i]
			byReviewer := last[d.Key]
			if byReviewer == nil {
				byReviewer = map[string]*placed{}
				last[d.Key] = byReviewer
			}
			if old := byReviewer[d.Reviewer]; old == nil || d.after(old) {
				byReviewer[d.Reviewer] = d
			}
		}
	}
	out := &Decisions{byKey: make(map[string][]review.Decision, len(last))}
	for key, byReviewer := range last {
		ds := make([]review.Decision, 0, len(byReviewer))
		for _, d := range byReviewer {
			ds = append(ds, d.Decision)
		}
		slices.SortFunc(ds, func(a, b review.Decision) int { return cmp.Compare(a.Reviewer, b.Reviewer) })
		out.byKey[key] = ds
	}
	return out
}

// parseDecisions reads one decisions object's lines; a line without a
// reviewer is the object's reviewer's.
func parseDecisions(obj, reviewer string, data []byte) []placed {
	var out []placed
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 0; sc.Scan(); line++ {
		var d review.Decision
		if json.Unmarshal(sc.Bytes(), &d) != nil || d.Key == "" || !knownKind(d) {
			continue
		}
		d.Reviewer = cmp.Or(d.Reviewer, reviewer)
		out = append(out, placed{Decision: d, at: unixNano(d.Time), obj: obj, line: line})
	}
	return out
}

// knownKind reports whether d is a decision the review page makes: accept
// or class with a class, or unsure.
func knownKind(d review.Decision) bool {
	switch d.Decision {
	case review.Accept, review.Pick:
		return d.Class != ""
	case review.Unsure:
		return true
	}
	return false
}

func unixNano(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// Len is how many images have at least one decision.
func (d *Decisions) Len() int { return len(d.byKey) }

// Of returns each reviewer's last decision on key, by reviewer name; nil
// when nobody decided it.
func (d *Decisions) Of(key string) []review.Decision { return d.byKey[key] }

// Keys returns the decided keys, sorted.
func (d *Decisions) Keys() []string {
	keys := make([]string, 0, len(d.byKey))
	for k := range d.byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
