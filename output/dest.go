package output

import (
	"context"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/storage"
)

// Dest is where an export writes its files: a local folder, or a folder in
// a bucket. Each file appears whole or not at all: a local one is renamed
// into place once written, a bucket's object is published on Close.
type Dest struct {
	dir    string          // the local folder; "" for a bucket
	bucket *storage.Bucket // nil for a local folder
	prefix string          // the folder in the bucket
	name   string          // for messages, without credentials
}

// OpenDest opens where: a path or a file:// URL is a local folder, made if
// missing; any other URL names a bucket and a folder in it, as
// s3://bucket/some/folder?region=eu-west-1 (the path is the folder, the
// rest the bucket's URL). Close releases a bucket.
func OpenDest(ctx context.Context, where string) (*Dest, error) {
	if where == "" {
		return nil, errors.New("no destination")
	}
	u, err := neturl.Parse(where)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // a path (C: is a drive)
		return localDest(where)
	}
	if u.Scheme == "file" {
		return localDest(u.Path)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		if err := storage.CheckKey(prefix); err != nil {
			return nil, fmt.Errorf("destination folder: %w", err)
		}
	}
	u.Path, u.RawPath = "", ""
	b, err := storage.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	return &Dest{bucket: b, prefix: prefix, name: redact.URL(where)}, nil
}

func localDest(dir string) (*Dest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("destination %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	return &Dest{dir: abs, name: abs}, nil
}

// Local returns the local folder, if the destination is one.
func (d *Dest) Local() (string, bool) { return d.dir, d.dir != "" }

// String names the destination without credentials.
func (d *Dest) String() string { return d.name }

// Close releases the bucket, if any.
func (d *Dest) Close() error {
	if d.bucket != nil {
		return d.bucket.Close()
	}
	return nil
}

// Write writes the file name (a slash-separated path in the destination)
// with what fn writes; when fn fails, nothing is written and any earlier
// file of that name is kept.
func (d *Dest) Write(ctx context.Context, name, contentType string, fn func(io.Writer) error) error {
	if err := storage.CheckKey(name); err != nil {
		return err
	}
	if d.bucket == nil {
		return writeLocal(filepath.Join(d.dir, filepath.FromSlash(name)), fn)
	}
	key, err := storage.Join(d.prefix, name)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := d.bucket.NewWriter(wctx, key, contentType)
	if err != nil {
		return err
	}
	if err := fn(w); err != nil {
		cancel() // the object is not published
		_ = w.Close()
		return err
	}
	return w.Close()
}

// writeLocal writes path through a temporary file renamed into place.
func writeLocal(path string, fn func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }() // fails harmlessly once renamed
	err = f.Chmod(0o644)                       // CreateTemp's 0600 is for secrets
	if err == nil {
		err = fn(f)
	}
	if err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
