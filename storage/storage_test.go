package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/storage"
)

func buckets(t *testing.T) map[string]string {
	return map[string]string{
		"mem":  "mem://",
		"file": "file://" + t.TempDir() + "?create_dir=true",
		"s3":   s3test.Start(t, "archive"),
	}
}

func TestListFiltersPagesAndSorts(t *testing.T) {
	ctx := context.Background()
	for name, url := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			b, err := storage.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			keys := []string{"in/a/1.png", "in/a/2.jpg", "in/b/c/3.png", "in/skip/4.png", "other/5.png"}
			for i := 0; i < 1100; i++ { // more than one listing page
				keys = append(keys, fmt.Sprintf("in/many/%04d.png", i))
			}
			for _, k := range keys {
				if err := b.Write(ctx, k, []byte(k), ""); err != nil {
					t.Fatal(err)
				}
			}
			objs, err := b.List(ctx, "in/", storage.Filter{Include: []string{"**/*.png"}, Exclude: []string{"skip/**"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != 1102 || objs[0].Key != "in/a/1.png" || objs[1].Key != "in/b/c/3.png" || objs[1].Size != 12 {
				t.Fatalf("%d objects, first %+v", len(objs), objs[:2])
			}
			data, err := b.Read(ctx, "in/a/2.jpg", 100)
			if err != nil || string(data) != "in/a/2.jpg" {
				t.Fatalf("read %q %v", data, err)
			}
			if _, err := b.Read(ctx, "in/a/2.jpg", 5); !errors.Is(err, storage.ErrTooLarge) {
				t.Fatalf("limit: %v", err)
			}
			if _, err := b.Read(ctx, "in/nope", 0); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("missing: %v", err)
			}
			if err := b.Delete(ctx, "in/nope"); err != nil {
				t.Fatalf("delete missing: %v", err)
			}
		})
	}
}

func TestFailedWriteLeavesNoObject(t *testing.T) {
	dir := t.TempDir()
	b, err := storage.Open(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Write(ctx, "results/batch-000001.jsonl", []byte("partial"), ""); err == nil {
		t.Fatal("write with a cancelled context succeeded")
	}
	if ok, _ := b.Exists(context.Background(), "results/batch-000001.jsonl"); ok {
		t.Fatal("a failed write left an object behind")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "results", "*"))
	for _, f := range left {
		if st, _ := os.Stat(f); st != nil && !st.IsDir() {
			t.Fatalf("left a file: %s", f)
		}
	}
}

func TestJoinRejectsEscapingKeys(t *testing.T) {
	good := map[string][]string{"out/job/results/b.jsonl": {"out/job", "results/b.jsonl"}, "x/y": {"x/", "y"}}
	for want, in := range good {
		if got, err := storage.Join(in[0], in[1:]...); err != nil || got != want {
			t.Errorf("Join(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"../up", "a/../../b", "/abs", "a//b", `a\b`, "a/./b", "", "a\x00b"} {
		if _, err := storage.Join("out", bad); !errors.Is(err, storage.ErrBadKey) {
			t.Errorf("Join(out, %q): %v", bad, err)
		}
	}
}
