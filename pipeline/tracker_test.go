package pipeline_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

func TestTrackerCountsDistinctBatchesAndSurvivesALostSet(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Start(t)
	tr, err := pipeline.NewTracker(asynq.RedisClientOpt{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	url := "mem://"
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	store, _ := jobs.NewStore(b, jobs.Ref{OutputURL: url, Prefix: "out", ID: "night"})
	finish := func(i int) bool { // a worker writes batch i's results, then records it
		t.Helper()
		if err := store.WriteResults(ctx, i, []byte("{}\n"), "p"); err != nil {
			t.Fatal(err)
		}
		all, err := tr.Done(ctx, store, i, 6)
		if err != nil {
			t.Fatal(err)
		}
		return all
	}
	for i := range 3 {
		if finish(i) {
			t.Fatalf("done after batch %d of 6", i)
		}
	}
	// Batch 1 again (delivered twice): counted once.
	for range 3 {
		if finish(1) {
			t.Fatal("a batch delivered again counted as another")
		}
	}
	if n, _ := tr.Finished(ctx, store.Ref); n != 3 {
		t.Fatalf("%d finished batches recorded for 3 distinct ones", n)
	}
	// Redis restarted empty: the next batch seeds the set from the bucket.
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if finish(3) || finish(4) {
		t.Fatal("done after 5 batches of 6 (set seeded after the loss)")
	}
	if !finish(5) {
		t.Fatal("not done after the last batch")
	}
	// Another job in the same bucket has its own set.
	other, _ := jobs.NewStore(b, jobs.Ref{OutputURL: url, Prefix: "out", ID: "other"})
	if all, err := tr.Done(ctx, other, 0, 2); err != nil || all {
		t.Fatalf("other job: %v, %v after its first batch of 2", all, err)
	}
}

func TestTrackerKeepsTheFailureList(t *testing.T) {
	ctx := context.Background()
	tr, err := pipeline.NewTracker(asynq.RedisClientOpt{Addr: redistest.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ref := jobs.Ref{OutputURL: "s3://b", ID: "j"}
	for _, i := range []int{4, 1} {
		if err := tr.RecordFailure(ctx, ref, jobs.Failure{Batch: i, Error: "denied", Attempts: 6, Final: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.ClearFailure(ctx, ref, 4); err != nil {
		t.Fatal(err)
	}
	fs, err := tr.Failures(ctx, ref)
	if err != nil || len(fs) != 1 || fs[0].Batch != 1 || fs[0].Error != "denied" {
		t.Fatalf("failures %+v, %v", fs, err)
	}
	if fs, _ := tr.Failures(ctx, jobs.Ref{OutputURL: "s3://other", ID: "j"}); len(fs) != 0 {
		t.Fatalf("another bucket's job sees %+v", fs)
	}
}
