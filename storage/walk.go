package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Walk calls fn for every object under prefix that passes f, as the
// listing streams in; fn is called from one goroutine at a time, and an
// error from it (or ctx's end) stops the walk and is returned.
//
// A file:// bucket is walked once, one directory read per folder, in key
// order (directories sort as name+"/"): gocloud's fileblob re-walks the
// whole tree for every page of 1,000 keys, which made listing quadratic.
// Other buckets are listed in key ranges cut at the prefix's subfolders,
// ListWorkers ranges at a time, in no particular order (walkRanges).
//
// Keys ending in "/" (the empty "folder" objects some S3 consoles make)
// are not objects of an archive and are skipped.
func (b *Bucket) Walk(ctx context.Context, prefix string, f Filter, fn func(Object) error) error {
	keep := func(o Object) error {
		if strings.HasSuffix(o.Key, "/") || !f.match(strings.TrimPrefix(strings.TrimPrefix(o.Key, prefix), "/")) {
			return nil
		}
		return fn(o)
	}
	var err error
	if b.local != "" {
		err = (&dirWalker{root: b.local, prefix: prefix, ctx: ctx, fn: keep}).walk()
	} else {
		err = b.walkRanges(ctx, prefix, keep)
	}
	if err != nil {
		return fmt.Errorf("list %s%s: %w", b.URL, prefix, err)
	}
	return nil
}

// dirWalker walks a file:// bucket's folder as gocloud's fileblob lists
// it: its escaped names unescaped, its ".attrs" sidecars left out, and a
// symbolic link listed as an object (never followed). Reading a link reads
// its target only when that resolves inside the folder (ErrOutside).
type dirWalker struct {
	root, prefix string
	ctx          context.Context
	fn           func(Object) error
	seen         int
}

// walk lists the folder that holds every key with the prefix: the
// prefix's part up to its last "/".
func (w *dirWalker) walk() error {
	dir := ""
	if i := strings.LastIndex(w.prefix, "/"); i >= 0 {
		dir = w.prefix[:i+1]
	}
	rel := filepath.FromSlash(strings.TrimSuffix(dir, "/"))
	if rel != "" && !filepath.IsLocal(rel) {
		return fmt.Errorf("prefix %q: %w", w.prefix, ErrBadKey)
	}
	err := w.dir(filepath.Join(w.root, rel), dir)
	if errors.Is(err, fs.ErrNotExist) && dir != "" {
		return nil // no folder, no keys: as an object store answers
	}
	return err
}

// dir lists one folder whose entries' keys start with keyDir.
func (w *dirWalker) dir(path, keyDir string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	type entry struct {
		fs.DirEntry
		sortKey string
	}
	sorted := make([]entry, 0, len(entries))
	for _, e := range entries {
		k := e.Name()
		if e.IsDir() {
			k += "/"
		}
		sorted = append(sorted, entry{e, k})
	}
	slices.SortFunc(sorted, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, e := range sorted {
		if err := w.entry(path, keyDir, e.DirEntry); err != nil {
			return err
		}
	}
	return nil
}

// entry lists one directory entry: a folder is descended into when keys
// under it can have the prefix, a file is an object when its key has it.
func (w *dirWalker) entry(path, keyDir string, e fs.DirEntry) error {
	if w.seen++; w.seen%256 == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	name := e.Name()
	if strings.HasSuffix(name, attrsSuffix) {
		return nil
	}
	key := keyDir + unescapeName(name)
	if e.IsDir() {
		sub := key + "/"
		if !strings.HasPrefix(sub, w.prefix) && !strings.HasPrefix(w.prefix, sub) {
			return nil
		}
		return w.dir(filepath.Join(path, name), sub)
	}
	if !strings.HasPrefix(key, w.prefix) {
		return nil
	}
	info, err := e.Info()
	if errors.Is(err, fs.ErrNotExist) { // removed since the folder was read
		return nil
	}
	if err != nil {
		return err
	}
	return w.fn(Object{Key: key, Size: info.Size(), ModTime: info.ModTime()})
}

// attrsSuffix ends the sidecar files in which fileblob keeps an object's
// attributes; fileblob neither lists nor opens such names.
const attrsSuffix = ".attrs"

// unescapeName undoes fileblob's escaping of bytes it cannot put in a file
// name: "__0x" hex digits "__" stands for that code point.
func unescapeName(s string) string {
	if !strings.Contains(s, "__0x") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "__0x")
		if i < 0 {
			break
		}
		hex, rest, ok := strings.Cut(s[i+4:], "__")
		r, err := strconv.ParseInt(hex, 16, 32)
		if !ok || err != nil || strings.Contains(hex, "_") || hex == "" {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteRune(rune(r))
		s = rest
	}
	b.WriteString(s)
	return b.String()
}
