package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestAKeyWithANewlineIsReadLikeAnyOther(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	names := map[string]string{"a\nb.png": "newline", "tab\there.png": "tab", "c%d.png": "percent", "sub/plain.png": "plain"}
	for name, body := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	objs, err := b.List(ctx, "", Filter{})
	if err != nil || len(objs) != len(names) {
		t.Fatalf("listed %v, %v", objs, err)
	}
	for _, o := range objs {
		data, err := b.Read(ctx, o.Key, 1<<20)
		if err != nil || string(data) != names[o.Key] {
			t.Errorf("listed %q, read %q, %v", o.Key, data, err)
		}
	}
	if _, err := b.Read(ctx, "a\nb.png", 3); err == nil {
		t.Error("the size limit does not hold for such a key")
	}
	if _, err := b.Read(ctx, "../"+filepath.Base(dir)+"/c%d.png", 0); err == nil {
		t.Error("a key escaping the bucket's folder was read")
	}
}
