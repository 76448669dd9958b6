package output_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/labelcsv"
	"github.com/didicm/didicm/output"
)

// labels.csv reads back through the reader `calibrate --labels` uses as
// the agreed labels, with who decided and when; conflicts are beside it.
func TestTheCSVExportIsTheLabelsFileCalibrateReads(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	dir := t.TempDir()
	w := &output.CSV{Dest: openDest(t, dir)}
	if err := w.Write(context.Background(), rv.job); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, output.LabelsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := labelcsv.NewReader(f)
	if err != nil || r.LabelColumn != "label" {
		t.Fatalf("header: %v, label column %q", err, r.LabelColumn)
	}
	got := map[string]string{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[row.Key] = row.Label
	}
	if !maps.Equal(got, wantLabels) {
		t.Fatalf("labels %v\nwant   %v", got, wantLabels)
	}
	data, _ := os.ReadFile(filepath.Join(dir, output.LabelsFile))
	if want := "a/0.png,zero,ana;ben,2026-12-02T09:00:01.000Z\n"; !strings.Contains(string(data), want) {
		t.Fatalf("labels.csv has no row %q:\n%s", want, data)
	}
	if c := readConflicts(t, dir); !maps.Equal(c, wantConflicts) {
		t.Fatalf("conflicts %v, want %v", c, wantConflicts)
	}
	if w.Written != (output.Counts{Labels: len(wantLabels), Conflicts: len(wantConflicts)}) {
		t.Fatalf("counts %+v", w.Written)
	}
}
