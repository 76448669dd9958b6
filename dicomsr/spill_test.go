package dicomsr

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

type rec struct {
	Study string
	N     int
}

func collect(t *testing.T, g *spill[rec], key string, limit int) []int {
	t.Helper()
	var out []int
	if err := g.Read(key, limit, func(r rec) error {
		if r.Study != key {
			t.Fatalf("group %s got a value of %s", key, r.Study)
		}
		out = append(out, r.N)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSpilledEntriesComeBackByGroupInTheirOrder(t *testing.T) {
	dir := t.TempDir()
	g, err := newSpill[rec](dir)
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"a", "a", "b", "a", "c", "b", "b", "a"}
	for i, k := range order {
		if err := g.Add(k, rec{k, i}); err != nil {
			t.Fatal(err)
		}
	}
	if keys := g.Keys(); !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("keys %v", keys)
	}
	for key, want := range map[string][]int{"a": {0, 1, 3, 7}, "b": {2, 5, 6}, "c": {4}, "none": nil} {
		if got := collect(t, g, key, 0); !slices.Equal(got, want) || g.Len(key) != len(want) {
			t.Errorf("%s: %v (len %d), want %v", key, got, g.Len(key), want)
		}
	}
	if got := collect(t, g, "a", 2); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("first 2 of a: %v", got)
	}
	if err := g.Add("a", rec{}); err == nil {
		t.Error("Add after Read was accepted")
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Fatalf("Close left %v", left)
	}
}

func TestASpilledGroupIsReadBackAloneFromTheFile(t *testing.T) {
	g, err := newSpill[rec](t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for i := range 20000 {
		if err := g.Add(fmt.Sprintf("study-%d", i/1000), rec{fmt.Sprintf("study-%d", i/1000), i}); err != nil {
			t.Fatal(err)
		}
	}
	if got := collect(t, g, "study-7", 0); len(got) != 1000 || got[0] != 7000 || got[999] != 7999 {
		t.Fatalf("study-7: %d values from %v", len(got), got[:1])
	}
}

// TestSpillingHoldsTheIndexNotTheEntries adds 20 MB of entries of 200
// studies, interleaved in runs of 100: the heap grows by the index (one
// run per 100 entries), not by the entries, which are in the file.
func TestSpillingHoldsTheIndexNotTheEntries(t *testing.T) {
	g, err := newSpill[entry](t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	uid := strings.Repeat("1.2.826.0.1.3680043.8.498.", 2)
	const entries = 100_000
	for i := range entries {
		study := fmt.Sprintf("%s%d", uid, (i/100)%200)
		e := entry{Key: study + "/" + fmt.Sprint(i), Series: study + ".1", SOP: fmt.Sprintf("%s.1.%d", study, i),
			Class: i % 10, Name: fmt.Sprint(i % 10), Prob: 0.5, Entropy: 0.5}
		if err := g.Add(study, e); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fi, err := g.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("file %d bytes, heap grew %d bytes", fi.Size(), grew)
	if fi.Size() < 15<<20 || grew > 2<<20 {
		t.Fatalf("file %d bytes, heap grew %d bytes: want the entries in the file and under 2 MiB held", fi.Size(), grew)
	}
	n := 0
	if err := g.Read(uid+"7", 0, func(entry) error { n++; return nil }); err != nil || n != entries/200 {
		t.Fatalf("read back %d entries of one study (%v), want %d", n, err, entries/200)
	}
}
