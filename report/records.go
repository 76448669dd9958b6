package report

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// hits counts right predictions out of n.
type hits struct{ n, correct int }

func (h *hits) add(ok bool) {
	h.n++
	if ok {
		h.correct++
	}
}

func (h hits) rate() float64 { return ratio(h.correct, h.n) }

// tally is what the report counts from the records themselves: the sizes
// of the prediction sets and, with labels, accuracy and calibration.
type tally struct {
	classified int
	setSizes   map[int]int // classified images by set size; nil when the job makes no sets
	noSet      int         // classified images without a set on a job that makes them

	labels       Labels
	inputPrefix  string
	rule         pipeline.ReviewRule
	matched      int                   // records with a label
	failed       int                   // labelled images that could not be classified
	cal          calibration           // labelled classified images
	review, rest hits                  // labelled classified images sent to review, and the others
	covered      hits                  // labelled (by name) classified images whose set holds the label
	classNames   []string              // the job's, for labels given by index
	perClass     map[string]*classHits // labelled classified images by true class; nil when none
}

// newTally counts set sizes when the job makes prediction sets, and
// accuracy when labels are given.
func newTally(spec jobs.Spec, labels Labels) *tally {
	t := &tally{labels: labels, inputPrefix: strings.TrimSuffix(spec.InputPrefix, "/"), rule: pipeline.RuleOf(spec),
		classNames: spec.ClassNames}
	if spec.Calibration != nil {
		t.setSizes = map[int]int{}
	}
	return t
}

// readAll counts the records of every batch.
func (t *tally) readAll(ctx context.Context, store *jobs.Store, batches int) error {
	for i := range batches {
		data, err := store.ReadResults(ctx, i)
		if err != nil {
			return err
		}
		if err := t.addBatch(data); err != nil {
			return fmt.Errorf("%s: %w", store.Layout().Results(i), err)
		}
	}
	return nil
}

// addBatch counts the records of one results file (JSON Lines).
func (t *tally) addBatch(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		var r pipeline.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		t.add(r)
	}
	return sc.Err()
}

func (t *tally) add(r pipeline.Record) {
	if r.Error == "" {
		t.classified++
		switch {
		case t.setSizes == nil:
		case r.SetSize == nil:
			t.noSet++
		default:
			t.setSizes[*r.SetSize]++
		}
	}
	l, ok := t.label(r.Key)
	if !ok {
		return
	}
	t.matched++
	if r.Error != "" {
		t.failed++
		return
	}
	right := l.matches(r.Class, r.ClassIndex)
	t.cal.add(r.MaxProb, right)
	if t.rule.Wants(r) {
		t.review.add(right)
	} else {
		t.rest.add(right)
	}
	if t.setSizes != nil && l.Class != "" {
		t.covered.add(slices.Contains(r.PredictionSet, l.Class))
	}
	t.addClass(l, r, right)
}

// label finds a record's label by its key, or by its key relative to the
// job's input prefix.
func (t *tally) label(key string) (Label, bool) {
	if t.labels == nil {
		return Label{}, false
	}
	if l, ok := t.labels[key]; ok {
		return l, true
	}
	if rel, ok := strings.CutPrefix(key, t.inputPrefix+"/"); ok && t.inputPrefix != "" {
		l, ok := t.labels[rel]
		return l, ok
	}
	return Label{}, false
}
