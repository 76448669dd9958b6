package output_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/storage"
)

// A bucket URL's path is the folder the export writes in; a file whose
// writing fails is not published.
func TestADestInABucketWritesUnderItsFolder(t *testing.T) {
	ctx := context.Background()
	bucket := s3test.Start(t, "exports")
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	dest := openDest(t, strings.Replace(bucket, "s3://exports?", "s3://exports/night/decisions?", 1))
	if err := (&output.CSV{Dest: dest}).Write(ctx, rv.job); err != nil {
		t.Fatal(err)
	}
	b, err := storage.Open(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := b.Read(ctx, "night/decisions/"+output.LabelsFile, 0)
	if err != nil || !strings.HasPrefix(string(data), "key,label,reviewer,decided_at\n") {
		t.Fatalf("labels.csv in the bucket: %v %q", err, data)
	}
	failed := errors.New("disk on fire")
	err = dest.Write(ctx, "half.csv", "text/csv", func(w io.Writer) error {
		_, _ = io.WriteString(w, "key,label\n")
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("the writer's error: %v", err)
	}
	if ok, err := b.Exists(ctx, "night/decisions/half.csv"); ok || err != nil {
		t.Fatalf("a failed file was published: %v %v", ok, err)
	}
	if local, ok := dest.Local(); ok || local != "" || strings.Contains(dest.String(), "secret") {
		t.Fatalf("a bucket destination says it is local (%q) or names %s", local, dest)
	}
}
