package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/didicm/didicm/storage"
)

// Pieces read at random offsets equal the object's bytes there, across
// windows, at the end and past it, on every kind of bucket.
func TestRangeReaderReadsAnyPiece(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 9<<20+123) // more than two windows
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for name, url := range buckets(t) {
		t.Run(name, func(t *testing.T) {
			b, err := storage.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := b.Write(ctx, "v/clip.mp4", data, "video/mp4"); err != nil {
				t.Fatal(err)
			}
			r, err := b.OpenRange(ctx, "v/clip.mp4")
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() != int64(len(data)) {
				t.Fatalf("size %d, want %d", r.Size(), len(data))
			}
			for range 50 {
				off, n := rng.Int64N(int64(len(data))), 1+rng.IntN(600<<10)
				p := make([]byte, n)
				got, err := r.ReadAt(p, off)
				want := min(n, len(data)-int(off))
				if got != want || !bytes.Equal(p[:got], data[off:off+int64(got)]) {
					t.Fatalf("ReadAt(%d bytes at %d) = %d, want %d equal bytes", n, off, got, want)
				}
				if (got < n) != errors.Is(err, io.EOF) {
					t.Fatalf("ReadAt(%d bytes at %d): %d and %v", n, off, got, err)
				}
			}
			if _, err := b.OpenRange(ctx, "v/missing.mp4"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("missing: %v", err)
			}
		})
	}
}
