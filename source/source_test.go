package source_test

import (
	"context"
	"errors"
	"testing"

	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

type fake struct{ url string }

func (f *fake) Walk(context.Context, string, storage.Filter, func(storage.Object) error) error {
	return nil
}
func (f *fake) Read(context.Context, string, int64) ([]byte, error) { return nil, storage.ErrNotFound }
func (f *fake) Close() error                                        { return nil }

func TestOpenPicksTheRegisteredSchemeElseABucket(t *testing.T) {
	source.Register("fake+http", func(_ context.Context, url string) (source.Source, error) { return &fake{url}, nil })
	s, err := source.Open(context.Background(), "fake+http://pacs:8042/x")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := s.(*fake); !ok || f.url != "fake+http://pacs:8042/x" {
		t.Fatalf("got %T %+v", s, s)
	}
	b, err := source.Open(context.Background(), "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, ok := b.(*storage.Bucket); !ok {
		t.Fatalf("a file URL opened as %T", b)
	}
	if _, err := b.Read(context.Background(), "missing", 0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("read: %v", err)
	}
}
