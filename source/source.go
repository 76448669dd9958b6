// Package source opens what a job reads its images from, by URL: a bucket
// (package storage: file://, s3://, gs://, azblob://, mem://) or a service
// that registers its schemes here (package dicomweb: dicomweb+http://,
// dicomweb+https://). The producer lists a source into the job's manifest
// and workers read each listed key from it; neither cares which kind it is.
package source

import (
	"context"
	"fmt"
	neturl "net/url"
	"sync"

	"github.com/didicm/didicm/storage"
)

// Source is an archive of images addressed by key.
type Source interface {
	// Walk calls fn for every key under prefix that passes f, as the
	// listing streams in, from one goroutine at a time; fn's error or
	// ctx's end stops it (storage.Bucket.Walk's contract).
	Walk(ctx context.Context, prefix string, f storage.Filter, fn func(storage.Object) error) error
	// Read returns the bytes of key: storage.ErrNotFound when it is gone,
	// storage.ErrTooLarge above max bytes (max > 0).
	Read(ctx context.Context, key string, max int64) ([]byte, error)
	// Close releases the source.
	Close() error
}

var _ Source = (*storage.Bucket)(nil)

// Opener opens a source of a registered scheme.
type Opener func(ctx context.Context, url string) (Source, error)

var (
	mu      sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes Open answer URLs of scheme with open; packages call it
// from init. Registering a scheme twice panics.
func Register(scheme string, open Opener) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("source: scheme " + scheme + " registered twice")
	}
	openers[scheme] = open
}

// Open opens url: a registered scheme through its opener, anything else as
// a bucket (storage.Open).
func Open(ctx context.Context, url string) (Source, error) {
	u, err := neturl.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	mu.RLock()
	open, ok := openers[u.Scheme]
	mu.RUnlock()
	if ok {
		return open(ctx, url)
	}
	b, err := storage.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return b, nil
}
