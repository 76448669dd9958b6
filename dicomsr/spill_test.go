package dicomsr

import (
	"fmt"
	"path/filepath"
	"slices"
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
