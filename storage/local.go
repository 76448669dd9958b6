package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
)

// ErrOutside is returned for a key of a file:// bucket that resolves,
// through symbolic links, to a file outside the bucket's folder: such a
// link is listed (Walk never follows links) but never read. A link to a
// file inside the folder, relative or absolute, reads as that file.
//
// It is also ErrNotFound (errors.Is): the name holds no object of this
// bucket, so a job gives it an error record, as for a file removed since
// the listing, rather than retrying its batch as a storage fault.
var ErrOutside error = outsideError{}

type outsideError struct{}

func (outsideError) Error() string { return "object resolves outside the bucket's folder" }

func (outsideError) Is(target error) bool { return target == ErrNotFound }

// inside checks that f, a file opened by a name under the bucket's folder,
// is a file inside that folder once every symbolic link on the way is
// resolved. It compares the open file with the file at the resolved path
// (os.SameFile), so a link swapped after the open is caught as well.
func (b *Bucket) inside(f *os.File) error {
	if b.root == "" {
		return ErrOutside // the folder could not be resolved at Open
	}
	real, err := filepath.EvalSymlinks(f.Name())
	if err != nil {
		return ErrOutside // the name changed since the open
	}
	if rel, err := filepath.Rel(b.root, real); err != nil || !filepath.IsLocal(rel) {
		return ErrOutside
	}
	opened, err := f.Stat()
	if err != nil {
		return err
	}
	if there, err := os.Stat(real); err != nil || !os.SameFile(opened, there) {
		return ErrOutside
	}
	return nil
}

// readerOptions make gocloud's fileblob check the file it opened before
// it reads a byte (inside); nil for other buckets.
func (b *Bucket) readerOptions() *blob.ReaderOptions {
	if b.local == "" {
		return nil
	}
	return &blob.ReaderOptions{BeforeRead: func(as func(any) bool) error {
		var f *os.File
		if !as(&f) {
			return ErrOutside // not fileblob's reader: nothing to check with, so nothing read
		}
		return b.inside(f)
	}}
}

// readLocal reads key as a file under the bucket's folder, for the names
// fileblob lists but cannot open. The key must stay inside the folder, and
// so must the file it resolves to.
func (b *Bucket) readLocal(key string, max int64) ([]byte, error) {
	rel := filepath.FromSlash(key)
	if key == "" || filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("read %q: %w", key, ErrBadKey)
	}
	f, err := os.Open(filepath.Join(b.local, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	defer f.Close()
	if err := b.inside(f); err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %q: not a file: %w", key, ErrNotFound)
	}
	if max > 0 && st.Size() > max {
		return nil, fmt.Errorf("read %q: %d bytes, limit %d: %w", key, st.Size(), max, ErrTooLarge)
	}
	return io.ReadAll(io.LimitReader(f, st.Size()+1))
}
