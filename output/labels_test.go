package output_test

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/didicm/didicm/output"
)

// Each reviewer's last decision counts (by time, not by where it is
// stored), a torn line is skipped, and the agreement rule labels what
// every reviewer agreed on and lists the rest as conflicts.
func TestTheAgreementRuleLabelsWhatReviewersAgreedOnAndListsTheRest(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	ds, err := output.ReadDecisions(context.Background(), rv.job.Store)
	if err != nil {
		t.Fatal(err)
	}
	labels, conflicts := map[string]string{}, map[string]string{}
	err = ds.Each(func(l output.Label) error {
		labels[l.Key] = l.Class
		return nil
	}, func(c output.Conflict) error {
		conflicts[c.Key] = c.Reason
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(labels, wantLabels) || !maps.Equal(conflicts, wantConflicts) {
		t.Fatalf("labels %v\nwant   %v\nconflicts %v\nwant      %v", labels, wantLabels, conflicts, wantConflicts)
	}
	l, _, _ := ds.Resolve("a/0.png")
	if !slices.Equal(l.Reviewers(), []string{"ana", "ben"}) || l.DecidedAt() != "2026-12-02T09:00:01.000Z" {
		t.Fatalf("a/0.png: reviewers %v at %s", l.Reviewers(), l.DecidedAt())
	}
	if _, c, _ := ds.Resolve("a/2.png"); len(c.Decisions) != 2 || c.Decisions[0].Class != "one" || c.Decisions[1].Class != "two" {
		t.Fatalf("a/2.png's conflict lists %+v", c.Decisions)
	}
	if _, _, ok := ds.Resolve("scans/cine.dcm#frame=1"); ok || ds.Len() != len(wantLabels)+len(wantConflicts) {
		t.Fatalf("%d images decided; want %d, and frame 1 not", ds.Len(), len(wantLabels)+len(wantConflicts))
	}
}

// readConflicts reads a conflicts.jsonl: key to reason.
func readConflicts(t *testing.T, dir string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, output.ConflictsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c output.Conflict
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		out[c.Key] = c.Reason
	}
	return out
}
