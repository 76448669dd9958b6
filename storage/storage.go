// Package storage is the object storage the pipeline reads archives from and
// writes results to: gocloud.dev/blob opened by URL (file://, mem://, s3://
// including S3-compatible endpoints, gs://, azblob://), with paged listing,
// include/exclude patterns, size limits, validated keys and writes that a
// reader never sees half done (gocloud writers publish an object only when
// Close succeeds; fileblob renames a finished temporary file into place).
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/bmatcuk/doublestar/v4"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/memblob"   // mem://
	_ "gocloud.dev/blob/s3blob"    // s3://
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned for a missing object.
var ErrNotFound = errors.New("object not found")

// ErrTooLarge is returned by Read for an object over its limit.
var ErrTooLarge = errors.New("object too large")

// ErrBadKey is returned for keys that are empty, absolute or escape their prefix.
var ErrBadKey = errors.New("invalid object key")

// Bucket is an open bucket.
type Bucket struct {
	URL string
	// ListWorkers is how many folders Walk lists at once on a bucket
	// without a local folder. Zero means DefaultListWorkers.
	ListWorkers int
	// FailWrite, when set, runs before each write and fails it with its
	// error: fault injection for tests and failure drills. Nil in production.
	FailWrite func(key string) error
	b         *blob.Bucket
	scheme    string // of URL
	// local is the folder of a file:// bucket: gocloud's fileblob escapes
	// some bytes of a key (control characters among them) when it opens a
	// file but lists the file under its plain name, so such a key is read
	// from the folder directly. root is the folder with its symbolic links
	// resolved: every file read must resolve inside it (inside).
	local, root string
}

// Open opens a bucket URL, e.g. file:///data/archive?create_dir=true,
// s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true.
func Open(ctx context.Context, url string) (*Bucket, error) {
	b, err := blob.OpenBucket(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open bucket %q: %w", url, err)
	}
	bk := &Bucket{URL: url, b: b}
	if u, err := neturl.Parse(url); err == nil {
		bk.scheme = u.Scheme
		if u.Scheme == "file" {
			bk.local = u.Path
			bk.root, _ = filepath.EvalSymlinks(u.Path) // "" if it cannot be resolved: then nothing is read
		}
	}
	return bk, nil
}

// Close releases the bucket.
func (b *Bucket) Close() error { return b.b.Close() }

// Object is a listed object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Filter selects objects by their key relative to the listed prefix, with
// doublestar patterns ("**/*.png"). Empty Include means everything.
type Filter struct {
	Include, Exclude []string
}

// Validate reports malformed patterns.
func (f Filter) Validate() error {
	for _, p := range append(append([]string{}, f.Include...), f.Exclude...) {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("pattern %q is not valid", p)
		}
	}
	return nil
}

func (f Filter) match(rel string) bool {
	ok := len(f.Include) == 0
	for _, p := range f.Include {
		if m, _ := doublestar.Match(p, rel); m {
			ok = true
			break
		}
	}
	for _, p := range f.Exclude {
		if m, _ := doublestar.Match(p, rel); m {
			return false
		}
	}
	return ok
}

// List returns the objects under prefix that pass f, sorted by key. It
// holds them all: for an archive's listing, Walk streams instead.
func (b *Bucket) List(ctx context.Context, prefix string, f Filter) ([]Object, error) {
	var out []Object
	err := b.Walk(ctx, prefix, f, func(o Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Read returns an object's bytes; over max bytes (max > 0) it returns ErrTooLarge.
func (b *Bucket) Read(ctx context.Context, key string, max int64) ([]byte, error) {
	r, err := b.b.NewReader(ctx, key, b.readerOptions())
	if gcerrors.Code(err) == gcerrors.NotFound && b.local != "" {
		return b.readLocal(key, max)
	}
	if err != nil {
		return nil, wrapErr("read", key, err)
	}
	defer r.Close()
	if max > 0 && r.Size() > max {
		return nil, fmt.Errorf("read %q: %d bytes, limit %d: %w", key, r.Size(), max, ErrTooLarge)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, wrapErr("read", key, err)
	}
	return data, nil
}

// Write stores data at key; readers see the old object or the whole new one.
func (b *Bucket) Write(ctx context.Context, key string, data []byte, contentType string) error {
	return b.WriteWithMetadata(ctx, key, data, contentType, nil)
}

// WriteWithMetadata is Write with user metadata (lower-case keys) stored
// beside the object, read back by Metadata.
func (b *Bucket) WriteWithMetadata(ctx context.Context, key string, data []byte, contentType string, md map[string]string) error {
	if b.FailWrite != nil {
		if err := b.FailWrite(key); err != nil {
			return fmt.Errorf("write %q: %w", key, err)
		}
	}
	if err := b.b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType, Metadata: md}); err != nil {
		return wrapErr("write", key, err)
	}
	return nil
}

// Metadata returns an object's user metadata without reading the object.
func (b *Bucket) Metadata(ctx context.Context, key string) (map[string]string, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return nil, wrapErr("stat", key, err)
	}
	return a.Metadata, nil
}

// Exists reports whether key exists.
func (b *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := b.b.Exists(ctx, key)
	if err != nil {
		return false, wrapErr("stat", key, err)
	}
	return ok, nil
}

// Delete removes key; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	err := b.b.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return wrapErr("delete", key, err)
	}
	return nil
}

func wrapErr(verb, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s %q: %w", verb, key, ErrNotFound)
	}
	return fmt.Errorf("%s %q: %w", verb, key, err)
}

// Join appends rel to prefix as an object key and rejects keys that would
// escape prefix or that object stores treat badly: empty, absolute, "." or
// ".." segments, backslashes, control characters.
func Join(prefix string, rel ...string) (string, error) {
	parts := []string{}
	if prefix != "" {
		if err := CheckKey(prefix); err != nil {
			return "", err
		}
		parts = append(parts, strings.TrimSuffix(prefix, "/"))
	}
	for _, r := range rel {
		if err := CheckKey(r); err != nil {
			return "", err
		}
		parts = append(parts, r)
	}
	return strings.Join(parts, "/"), nil
}

// CheckKey validates one key or key fragment.
func CheckKey(k string) error {
	k = strings.TrimSuffix(k, "/")
	if k == "" || strings.HasPrefix(k, "/") || strings.Contains(k, `\`) || path.Clean(k) != k {
		return fmt.Errorf("%w: %q", ErrBadKey, k)
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q", ErrBadKey, k)
		}
	}
	for _, c := range k {
		if unicode.IsControl(c) {
			return fmt.Errorf("%w: %q has a control character", ErrBadKey, k)
		}
	}
	return nil
}

// NewReader opens key for reading as a stream; storage.ErrNotFound when it
// is missing. The caller closes it.
func (b *Bucket) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := b.b.NewReader(ctx, key, b.readerOptions())
	if err != nil {
		return nil, wrapErr("read", key, err)
	}
	return r, nil
}

// NewWriter opens key for writing as a stream. Readers see the object only
// once Close returns nil: a writer whose ctx ends, or whose Close fails,
// leaves the old object (or none) in place.
func (b *Bucket) NewWriter(ctx context.Context, key, contentType string) (io.WriteCloser, error) {
	if b.FailWrite != nil {
		if err := b.FailWrite(key); err != nil {
			return nil, fmt.Errorf("write %q: %w", key, err)
		}
	}
	w, err := b.b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return nil, wrapErr("write", key, err)
	}
	return &writer{w: w, key: key}, nil
}

// writer names its key in the errors it returns.
type writer struct {
	w   *blob.Writer
	key string
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = wrapErr("write", w.key, err)
	}
	return n, err
}

func (w *writer) Close() error {
	if err := w.w.Close(); err != nil {
		return wrapErr("write", w.key, err)
	}
	return nil
}
