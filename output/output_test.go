package output_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// Open refuses a job that has not finished; a finished job's records come
// back in batch order.
func TestOpenReadsAFinishedJobsRecordsInOrder(t *testing.T) {
	ctx := context.Background()
	url := "file://" + t.TempDir()
	spec := jobs.Spec{ID: "done", InputURL: url, OutputURL: url}
	spec.Defaults()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.WriteSpec(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := store.WriteManifest(ctx, jobs.Manifest{JobID: "done", Images: 3, Batches: []int{2, 1}}); err != nil {
		t.Fatal(err)
	}
	lines := [][]string{{"a.png", "b.png"}, {"c.png"}}
	for i, keys := range lines {
		var data []byte
		for _, k := range keys {
			data = fmt.Appendf(data, "{\"key\":%q,\"class\":\"3\",\"class_index\":3}\n", k)
		}
		if err := store.WriteResults(ctx, i, data, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := output.Open(ctx, store); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("an unfinished job opened: %v", err)
	}
	if done, err := pipeline.Finish(ctx, store, spec); !done || err != nil {
		t.Fatalf("finish: %v %v", done, err)
	}
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := job.Records(ctx, func(r pipeline.Record) error {
		keys = append(keys, r.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keys) != "[a.png b.png c.png]" || job.Summary.Images != 3 {
		t.Fatalf("records %v, summary %+v", keys, job.Summary)
	}
}
