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

func TestBatchCounterSaysDoneAtTheLastBatchAndSurvivesALostCount(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Start(t)
	c, err := pipeline.NewBatchCounter(asynq.RedisClientOpt{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	url := "mem://"
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	store, _ := jobs.NewStore(b, jobs.Ref{OutputURL: url, Prefix: "out", ID: "night"})
	lay := store.Layout()
	finish := func(i int) bool { // a worker writes batch i's results, then counts it
		t.Helper()
		if err := b.Write(ctx, lay.Results(i), []byte("{}\n"), ""); err != nil {
			t.Fatal(err)
		}
		all, err := c.Done(ctx, store, 6)
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
	// Batch 1 again (a worker died after writing its results): counted twice,
	// so the count runs ahead of the truth; Finish checks the bucket.
	if finish(1) {
		t.Fatal("done after 4 counts for 3 batches of 6")
	}
	// Redis restarted empty: the next batch seeds the count from the bucket.
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// (the duplicate is forgotten: the seed is the truth).
	if finish(3) || finish(4) {
		t.Fatal("done after 5 batches of 6 (count seeded after the loss)")
	}
	if !finish(5) {
		t.Fatal("not done after the last batch")
	}
	// Another job in the same bucket has its own count.
	other, _ := jobs.NewStore(b, jobs.Ref{OutputURL: url, Prefix: "out", ID: "other"})
	if all, err := c.Done(ctx, other, 2); err != nil || all {
		t.Fatalf("other job: %v, %v after its first batch of 2", all, err)
	}
}
