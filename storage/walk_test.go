package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/storage"
)

// walkKeys collects Walk's keys in the order it gives them.
func walkKeys(t *testing.T, b *storage.Bucket, prefix string, f storage.Filter) []string {
	t.Helper()
	var keys []string
	if err := b.Walk(context.Background(), prefix, f, func(o storage.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// gocloudKeys lists through gocloud's own driver, page by page: the
// independent answer Walk must match.
func gocloudKeys(t *testing.T, url, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var keys []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err != nil {
			break
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// A folder as people and other programs make it: nested folders, names
// that sort around "/", fileblob's escaped names and attribute sidecars
// (written through gocloud), and a symbolic link.
func TestFileWalkListsWhatFileblobListsInKeyOrder(t *testing.T) {
	dir := t.TempDir()
	url := "file://" + dir
	b, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, k := range []string{"a.png", "a/b.png", "a-b.png", "a/c/d.png", "z/y/x.png", "ctl\x01name.png", "in/many/0001.png"} {
		if err := b.Write(context.Background(), k, []byte(k), "image/png"); err != nil { // fileblob writes .attrs beside each
			t.Fatal(err)
		}
	}
	for _, p := range []string{"plain/q.png", "plain/deeper/r.png", "in/manyfold.png"} { // written by another program
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "a.png"), filepath.Join(dir, "link.png")); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "a", "a/", "in/many", "plain/", "nope/"} {
		t.Run(fmt.Sprintf("prefix %q", prefix), func(t *testing.T) {
			got := walkKeys(t, b, prefix, storage.Filter{})
			want := gocloudKeys(t, url, prefix)
			if !slices.IsSorted(got) {
				t.Errorf("not in key order: %q", got)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("walk %q\nfileblob %q", got, want)
			}
		})
	}
}

// The S3 walk lists folders in parallel; whatever the order, every key
// under the prefix comes exactly once, and "folder" objects are skipped.
func TestFolderWalkListsEveryKeyOnce(t *testing.T) {
	ctx := context.Background()
	url := s3test.Start(t, "archive")
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var want []string
	for i := range 2500 { // pages of 1,000 in several folders, two levels deep
		k := fmt.Sprintf("in/%d/%d/%04d.png", i%3, i%7, i)
		want = append(want, k)
	}
	want = append(want, "in/top.png", "in-sibling.png")
	for _, k := range append(slices.Clone(want), "out/x.png", "in/empty-folder/") {
		if err := b.Write(ctx, k, []byte("x"), ""); err != nil {
			t.Fatal(err)
		}
	}
	want = slices.DeleteFunc(want, func(k string) bool { return k == "in-sibling.png" })
	slices.Sort(want)
	for _, workers := range []int{1, 16} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			b.ListWorkers = workers
			got := walkKeys(t, b, "in/", storage.Filter{})
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%d keys, want %d; first %q", len(got), len(want), got[:min(3, len(got))])
			}
		})
	}
	b.ListWorkers = 0
	if got := walkKeys(t, b, "in", storage.Filter{}); len(got) != len(want)+1 { // "in-sibling.png" too
		t.Fatalf("prefix without a slash: %d keys, want %d", len(got), len(want)+1)
	}
}

// Cancelling stops a walk: the error says so, and no more keys come.
func TestWalkStopsWhenCancelledOrWhenFnFails(t *testing.T) {
	for name, url := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			b, err := storage.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for i := range 3000 {
				if err := b.Write(ctx, fmt.Sprintf("in/%d/%04d.png", i%5, i), []byte("x"), ""); err != nil {
					t.Fatal(err)
				}
			}
			cctx, cancel := context.WithCancel(ctx)
			n := 0
			err = b.Walk(cctx, "in/", storage.Filter{}, func(storage.Object) error {
				if n++; n == 10 {
					cancel()
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) || n >= 3000 {
				t.Fatalf("cancelled: %v after %d keys", err, n)
			}
			stop := errors.New("enough")
			n = 0
			err = b.Walk(ctx, "in/", storage.Filter{}, func(storage.Object) error {
				if n++; n == 5 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || n != 5 {
				t.Fatalf("fn's error: %v after %d keys", err, n)
			}
		})
	}
}
