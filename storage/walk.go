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
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

// DefaultListWorkers is how many folders of a bucket without a local
// folder (S3, GCS, Azure, mem) are listed at once when Bucket.ListWorkers
// is zero.
const DefaultListWorkers = 16

// listPageSize is the keys asked for per listing request (S3's maximum).
const listPageSize = 1000

// Walk calls fn for every object under prefix that passes f, as the
// listing streams in; fn is called from one goroutine at a time, and an
// error from it (or ctx's end) stops the walk and is returned.
//
// A file:// bucket is walked once, one directory read per folder, in key
// order (directories sort as name+"/"): gocloud's fileblob re-walks the
// whole tree for every page of 1,000 keys, which made listing quadratic.
// Other buckets are listed folder by folder ("/" as the delimiter),
// ListWorkers folders at a time, in no particular order.
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
		err = b.walkFolders(ctx, prefix, keep)
	}
	if err != nil {
		return fmt.Errorf("list %s%s: %w", b.URL, prefix, err)
	}
	return nil
}

// dirWalker walks a file:// bucket's folder as gocloud's fileblob lists
// it: its escaped names unescaped, its ".attrs" sidecars left out, and a
// symbolic link listed as an object (never followed).
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

// walkFolders lists a bucket that has no local folder: each folder's
// listing (with "/" as the delimiter) names its objects and its
// subfolders, and subfolders are listed by ListWorkers goroutines.
func (b *Bucket) walkFolders(ctx context.Context, prefix string, fn func(Object) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	objs := make(chan Object, listPageSize)
	q := newFolderQueue(prefix)
	var wg sync.WaitGroup
	for range max(1, b.listWorkers()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p, ok := q.next(); ok; p, ok = q.next() {
				err := b.listFolder(ctx, p, q, objs)
				q.done()
				if err != nil {
					cancel(err)
					q.stop()
				}
			}
		}()
	}
	go func() { wg.Wait(); close(objs) }()
	for o := range objs {
		if ctx.Err() != nil {
			continue // drain, so that the listers can finish
		}
		if err := fn(o); err != nil {
			cancel(err)
			q.stop()
		}
	}
	return context.Cause(ctx)
}

func (b *Bucket) listWorkers() int {
	if b.ListWorkers > 0 {
		return b.ListWorkers
	}
	return DefaultListWorkers
}

// listFolder lists one folder page by page: objects go to out, subfolders
// to q.
func (b *Bucket) listFolder(ctx context.Context, prefix string, q *folderQueue, out chan<- Object) error {
	token := blob.FirstPageToken
	for {
		opts := &blob.ListOptions{Prefix: prefix, Delimiter: "/"}
		if len(token) == 0 && prefix != "" {
			opts.BeforeList = startAfter(prefix)
		}
		page, next, err := b.b.ListPage(ctx, token, listPageSize, opts)
		if err != nil {
			return err
		}
		for _, o := range page {
			if o.IsDir {
				q.add(o.Key)
				continue
			}
			select {
			case out <- Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		if len(next) == 0 {
			return nil
		}
		token = next
	}
}

// startAfter asks an S3 listing to start at prefix: S3 itself starts
// there, but some S3-compatible servers (gofakes3, which the tests use)
// scan from the bucket's first key for every prefix unless told.
func startAfter(prefix string) func(func(any) bool) error {
	return func(as func(any) bool) error {
		var in *s3.ListObjectsV2Input
		if as(&in) && in != nil {
			in.StartAfter = aws.String(prefix[:len(prefix)-1])
		}
		return nil
	}
}

// folderQueue holds the folders still to list; next blocks until one is
// there or every folder is listed.
type folderQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	todo    []string
	active  int
	stopped bool
}

func newFolderQueue(first string) *folderQueue {
	q := &folderQueue{todo: []string{first}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// next takes a folder to list; false means the walk is over.
func (q *folderQueue) next() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.todo) == 0 && q.active > 0 && !q.stopped {
		q.cond.Wait()
	}
	if len(q.todo) == 0 || q.stopped {
		return "", false
	}
	p := q.todo[len(q.todo)-1]
	q.todo = q.todo[:len(q.todo)-1]
	q.active++
	return p, true
}

// add queues a subfolder found while listing.
func (q *folderQueue) add(p string) {
	q.mu.Lock()
	q.todo = append(q.todo, p)
	q.mu.Unlock()
	q.cond.Signal()
}

// done says a folder taken by next is listed.
func (q *folderQueue) done() {
	q.mu.Lock()
	q.active--
	q.mu.Unlock()
	q.cond.Broadcast()
}

// stop ends the walk: next returns false from now on.
func (q *folderQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
