package storage

import (
	"context"
	"sync"

	gcs "cloud.google.com/go/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

// DefaultListWorkers is how many key ranges of a bucket without a local
// folder (S3, GCS, Azure, mem) are listed at once when Bucket.ListWorkers
// is zero.
const DefaultListWorkers = 16

// listPageSize is the keys asked for per listing request (S3's maximum).
const listPageSize = 1000

// maxSplitDepth bounds how far splitPoints descends through folders that
// are alone in their parent.
const maxSplitDepth = 8

// keyRange is the keys k with lo <= k < hi (no hi: up to the prefix's end).
type keyRange struct{ lo, hi string }

// walkRanges lists a bucket without a local folder. The prefix's
// subfolders (one listing with "/" as the delimiter) cut its keys into
// ranges, and ListWorkers ranges are listed at once, each as a plain
// listing from its first key that stops at its last. Every request reads a
// new page, so the cost is linear in the keys, on S3 and on servers that
// would scan to the bucket's end for every folder listed with a delimiter
// (gofakes3, which the tests use). A prefix without subfolders is one
// range, listed page after page; so is every prefix of a bucket whose
// listing cannot be asked to start at a key (Azure, mem), where each range
// would list again the keys before it.
func (b *Bucket) walkRanges(ctx context.Context, prefix string, fn func(Object) error) error {
	var bounds []string
	if b.seeks() {
		var err error
		if bounds, err = b.splitPoints(ctx, prefix); err != nil {
			return err
		}
	}
	ranges := make(chan keyRange, len(bounds)+1)
	lo := prefix
	for _, hi := range bounds {
		ranges <- keyRange{lo, hi}
		lo = hi
	}
	ranges <- keyRange{lo: lo}
	close(ranges)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	objs := make(chan Object, listPageSize)
	var wg sync.WaitGroup
	for range max(1, b.listWorkers()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range ranges {
				if err := b.listRange(ctx, prefix, r, objs); err != nil {
					cancel(err)
					return
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
		}
	}
	return context.Cause(ctx)
}

// seeks says whether the bucket's listing can start at a key: S3's
// StartAfter, GCS's StartOffset.
func (b *Bucket) seeks() bool { return b.scheme == "s3" || b.scheme == "gs" }

func (b *Bucket) listWorkers() int {
	if b.ListWorkers > 0 {
		return b.ListWorkers
	}
	return DefaultListWorkers
}

// splitPoints returns the subfolders of prefix in key order, descending
// into a subfolder that is alone in its folder with no objects beside it.
func (b *Bucket) splitPoints(ctx context.Context, prefix string) ([]string, error) {
	for range maxSplitDepth {
		var dirs []string
		objects := 0
		err := b.pages(ctx, &blob.ListOptions{Prefix: prefix, Delimiter: "/"}, prefix, func(page []*blob.ListObject) bool {
			for _, o := range page {
				if o.IsDir {
					dirs = append(dirs, o.Key)
				} else {
					objects++
				}
			}
			return true
		})
		if err != nil || len(dirs) != 1 || objects > 0 {
			return dirs, err
		}
		prefix = dirs[0]
	}
	return nil, nil
}

// listRange lists the keys of r under prefix into out.
func (b *Bucket) listRange(ctx context.Context, prefix string, r keyRange, out chan<- Object) error {
	var sendErr error
	err := b.pages(ctx, &blob.ListOptions{Prefix: prefix}, r.lo, func(page []*blob.ListObject) bool {
		for _, o := range page {
			if o.Key < r.lo {
				continue
			}
			if r.hi != "" && o.Key >= r.hi {
				return false
			}
			select {
			case out <- Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime}:
			case <-ctx.Done():
				sendErr = context.Cause(ctx)
				return false
			}
		}
		return true
	})
	if err == nil {
		err = sendErr
	}
	return err
}

// pages lists opts page by page, starting at the key from (an S3 listing
// is asked to start after the key just before it), while page returns true.
func (b *Bucket) pages(ctx context.Context, opts *blob.ListOptions, from string, page func([]*blob.ListObject) bool) error {
	token := blob.FirstPageToken
	for first := true; ; first = false {
		o := *opts
		if first && from != "" {
			o.BeforeList = startAfter(from)
		}
		objs, next, err := b.b.ListPage(ctx, token, listPageSize, &o)
		if err != nil {
			return err
		}
		if !page(objs) || len(next) == 0 {
			return nil
		}
		token = next
	}
}

// startAfter asks a listing to start at key from: S3's StartAfter (the
// key before it: S3 itself starts at the listing's prefix, but some
// S3-compatible servers, gofakes3 among them, scan from the bucket's first
// key unless told), GCS's StartOffset.
func startAfter(from string) func(func(any) bool) error {
	return func(as func(any) bool) error {
		var in *s3.ListObjectsV2Input
		if as(&in) && in != nil {
			in.StartAfter = aws.String(from[:len(from)-1])
		}
		var q *gcs.Query
		if as(&q) && q != nil {
			q.StartOffset = from
		}
		return nil
	}
}
