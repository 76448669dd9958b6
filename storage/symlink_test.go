package storage_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/didicm/didicm/storage"
)

// linkedBucket is a file:// bucket holding a.png and links: relative and
// absolute ones to a.png, one to a file outside the folder, one to a
// folder outside it, and one whose name fileblob cannot open (a control
// character) to the outside file.
func linkedBucket(t *testing.T) (*storage.Bucket, string) {
	t.Helper()
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "passwd")
	for path, body := range map[string]string{filepath.Join(root, "a.png"): "inside", secret: "root:x:0:0:secret"} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"rel.png": "a.png", "sub/up.png": "../a.png", "abs.png": filepath.Join(root, "a.png"),
		"out.png": secret, "outdir": outside, "sub/rel-out.png": "../../" + filepath.Base(outside) + "/passwd",
		"ctl\x01out.png": secret,
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := storage.Open(context.Background(), "file://"+root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, root
}

func TestLinksInsideTheBucketAreReadAndLinksOutOfItRefused(t *testing.T) {
	ctx := context.Background()
	b, _ := linkedBucket(t)
	for _, key := range []string{"a.png", "rel.png", "sub/up.png", "abs.png"} {
		data, err := b.Read(ctx, key, 0)
		if err != nil || string(data) != "inside" {
			t.Fatalf("read %q: %q, %v; want the file inside the bucket", key, data, err)
		}
	}
	for _, key := range []string{"out.png", "outdir/passwd", "sub/rel-out.png", "ctl\x01out.png"} {
		t.Run(key, func(t *testing.T) {
			data, err := b.Read(ctx, key, 0)
			if !errors.Is(err, storage.ErrOutside) || !errors.Is(err, storage.ErrNotFound) || len(data) != 0 {
				t.Fatalf("Read: %q, %v; want ErrOutside, which is also ErrNotFound", data, err)
			}
			if strings.Contains(err.Error(), "root:x") || strings.Contains(err.Error(), "passwd\"") && key != "outdir/passwd" {
				t.Fatalf("the error tells what is outside: %v", err)
			}
			if strings.ContainsRune(key, '\x01') {
				return // only Read opens a name fileblob cannot: NewReader and OpenRange find no such object
			}
			if r, err := b.NewReader(ctx, key); !errors.Is(err, storage.ErrOutside) {
				if r != nil {
					got, _ := io.ReadAll(r)
					r.Close()
					t.Fatalf("NewReader read %q", got)
				}
				t.Fatalf("NewReader: %v; want ErrOutside", err)
			}
			if _, err := b.OpenRange(ctx, key); !errors.Is(err, storage.ErrOutside) {
				t.Fatalf("OpenRange: %v; want ErrOutside", err)
			}
		})
	}
}
