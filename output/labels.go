package output

import (
	"cmp"
	"context"
	"encoding/json"
	"io"

	"github.com/didicm/didicm/review"
)

// The agreement rule turns each reviewer's last decision on an image into
// the image's label or a conflict, never resolving a disagreement:
//
//   - every reviewer who decided the image chose the same class (accept or
//     class): that class is its label;
//   - reviewers chose different classes: a conflict (ConflictDisagree);
//   - a reviewer was unsure, alone or beside others' classes: a conflict
//     (ConflictUnsure). Unsure is a vote against every class: an image one
//     person could not tell is not a training example until a second
//     review settles it.
//
// Conflicts are listed (WriteConflicts) for a second review; a decision
// made later in that review replaces its reviewer's earlier one.

// The reasons for a conflict.
const (
	ConflictDisagree = "disagree" // reviewers chose different classes
	ConflictUnsure   = "unsure"   // a reviewer could not tell
)

// Label is an image's label under the agreement rule.
type Label struct {
	Key   string
	Class string
	// Decisions are the agreeing decisions, one per reviewer, by name.
	Decisions []review.Decision
}

// DecidedAt is the time of the label's last decision (RFC 3339).
func (l Label) DecidedAt() string {
	last := ""
	for _, d := range l.Decisions {
		if unixNano(d.Time) >= unixNano(last) {
			last = d.Time
		}
	}
	return last
}

// Reviewers are the names of those who decided it, in name order.
func (l Label) Reviewers() []string {
	names := make([]string, len(l.Decisions))
	for i, d := range l.Decisions {
		names[i] = d.Reviewer
	}
	return names
}

// Conflict is an image the agreement rule leaves unlabelled.
type Conflict struct {
	Key    string `json:"key"`
	Reason string `json:"reason"` // ConflictDisagree or ConflictUnsure
	// Decisions are each reviewer's last decision, by name.
	Decisions []review.Decision `json:"decisions"`
}

// Resolve applies the agreement rule to key's decisions; ok is false when
// nobody decided it.
func (d *Decisions) Resolve(key string) (l Label, c *Conflict, ok bool) {
	ds := d.byKey[key]
	if len(ds) == 0 {
		return Label{}, nil, false
	}
	class, reason := "", ""
	for _, dec := range ds {
		switch {
		case dec.Decision == review.Unsure:
			reason = cmp.Or(reason, ConflictUnsure)
		case class == "":
			class = dec.Class
		case dec.Class != class:
			reason = ConflictDisagree
		}
	}
	if reason != "" {
		return Label{}, &Conflict{Key: key, Reason: reason, Decisions: ds}, true
	}
	return Label{Key: key, Class: class, Decisions: ds}, nil, true
}

// Each calls label or conflict for every decided key, in key order.
func (d *Decisions) Each(label func(Label) error, conflict func(Conflict) error) error {
	for _, key := range d.Keys() {
		l, c, _ := d.Resolve(key)
		var err error
		if c != nil {
			err = conflict(*c)
		} else {
			err = label(l)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ConflictsFile is the listing of conflicts the decision exports write
// beside their output: one JSON Conflict a line, in key order.
const ConflictsFile = "conflicts.jsonl"

// WriteConflicts writes the job's conflicts to dest's ConflictsFile (an
// empty file when there are none, so a rerun never leaves an old listing)
// and returns how many there are.
func WriteConflicts(ctx context.Context, dest *Dest, d *Decisions) (int, error) {
	n := 0
	err := dest.Write(ctx, ConflictsFile, "application/x-ndjson", func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetEscapeHTML(false)
		return d.Each(func(Label) error { return nil }, func(c Conflict) error {
			n++
			return e.Encode(c)
		})
	})
	return n, err
}
