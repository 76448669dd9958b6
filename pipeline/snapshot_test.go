package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// An interrupted listing leaves no manifest index, so nothing trusts its
// batches; the next run lists again, and its batches (fewer and larger
// here) hold every key exactly once, with the first run's extra batch
// manifests gone.
func TestInterruptedListingIsListedAgainWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	c := asynq.NewClient(asynq.RedisClientOpt{Addr: redistest.Start(t)})
	defer c.Close()
	url := "file://" + t.TempDir()
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var want []string
	for i := range 1000 {
		k := fmt.Sprintf("in/%d/%04d.png", i%7, i)
		want = append(want, k)
		if err := b.Write(ctx, k, []byte("x"), ""); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	spec := jobs.Spec{ID: "cut", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out", BatchSize: 10}
	cctx, cancel := context.WithCancel(ctx)
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var reports []pipeline.EnqueueProgress
	streamed := false
	prod := pipeline.Producer{Queue: pipeline.Queue{Client: c}, ProgressEvery: 1, Progress: func(p pipeline.EnqueueProgress) {
		reports = append(reports, p)
		if p.Done >= 512 && !streamed {
			// Half-way through the listing, the first batches' manifests
			// are being written: wait for the first, then Ctrl-C.
			for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
				if _, err := store.ReadBatchKeys(ctx, 0); err == nil {
					streamed = true
					break
				}
				time.Sleep(time.Millisecond) // polling storage, which has no change signal
			}
			cancel()
		}
	}}
	if _, err := prod.Enqueue(cctx, spec); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted enqueue: %v", err)
	}
	if last := reports[len(reports)-1]; !last.Final || !last.Stopped || last.Stage != pipeline.StageList || last.Done >= 1000 {
		t.Fatalf("last report of the interrupted run: %+v", last)
	}
	if _, err := store.ReadManifest(ctx); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the interrupted run left a manifest index: %v", err)
	}
	if !streamed {
		t.Fatal("no batch manifest was written while the listing went on")
	}

	spec.BatchSize = 100
	reports = nil
	prod.Progress = func(p pipeline.EnqueueProgress) { reports = append(reports, p) }
	rep, err := prod.Enqueue(ctx, spec)
	if err != nil || rep.Resumed || rep.Images != 1000 || rep.Batches != 10 || rep.Queued != 10 {
		t.Fatalf("second run %+v %v", rep, err)
	}
	var got []string
	for i := range rep.Batches {
		keys, err := store.ReadBatchKeys(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, keys...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("the batches hold %d keys, want each of %d once", len(got), len(want))
	}
	if _, err := store.ReadBatchKeys(ctx, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("batch 10 of the interrupted run is still there: %v", err)
	}
	stages := map[string]pipeline.EnqueueProgress{}
	for _, p := range reports {
		if p.Final {
			stages[p.Stage] = p
		}
	}
	if l, q := stages[pipeline.StageList], stages[pipeline.StageQueue]; l.Done != 1000 || l.Stopped || q.Done != 10 || q.Total != 10 {
		t.Fatalf("final reports: list %+v, queue %+v", l, q)
	}
}
