package pipeline_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

// lostJob enqueues a job of ten batches of 3 images (the last of 1) on a
// real Redis, without workers, and returns its spec and the queue.
func lostJob(t *testing.T) (jobs.Spec, pipeline.Queue, *redis.Client, *jobs.Store) {
	ctx := context.Background()
	addr := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: addr}
	tr, err := pipeline.NewTracker(opt)
	if err != nil {
		t.Fatal(err)
	}
	q := pipeline.Queue{Client: asynq.NewClient(opt), Inspector: asynq.NewInspector(opt), Tracker: tr}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { q.Client.Close(); q.Inspector.Close(); tr.Close(); rdb.Close() })
	url := "file://" + t.TempDir()
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	for i := range 28 {
		b.Write(ctx, fmt.Sprintf("in/%02d.png", i), []byte("x"), "")
	}
	spec := jobs.Spec{ID: "night", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out", BatchSize: 3, Queue: "model-test"}
	if rep, err := pipeline.Enqueue(ctx, spec, q); err != nil || rep.Queued != 10 {
		t.Fatalf("enqueue %+v, %v", rep, err)
	}
	store, _ := jobs.NewStore(b, spec.Ref())
	return spec, q, rdb, store
}

func lostStatus(t *testing.T, spec jobs.Spec, q pipeline.Queue) pipeline.Progress {
	t.Helper()
	p, err := pipeline.Status(context.Background(), spec.Ref(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStatusFindsTheBatchesRedisLost(t *testing.T) {
	ctx := context.Background()
	spec, q, rdb, store := lostJob(t)
	if p := lostStatus(t, spec, q); len(p.Lost) != 0 || p.Stalled() {
		t.Fatalf("a freshly queued job has lost batches: %+v", p)
	}
	// Batches 0 and 1 finished (results, then the task acknowledged); batch 2
	// failed for good and its archived task was since trimmed.
	for _, i := range []int{0, 1, 2} {
		if err := q.Inspector.DeleteTask(spec.Queue, jobs.TaskID(spec.ID, i)); err != nil {
			t.Fatal(err)
		}
	}
	store.WriteResults(ctx, 0, []byte("{}\n"), "p")
	store.WriteResults(ctx, 1, []byte("{}\n"), "p")
	store.WriteFailure(ctx, jobs.Failure{Batch: 2, Error: "injected", Final: true})
	t.Run("a task gone without results is lost", func(t *testing.T) {
		for _, i := range []int{5, 9} {
			if err := q.Inspector.DeleteTask(spec.Queue, jobs.TaskID(spec.ID, i)); err != nil {
				t.Fatal(err)
			}
		}
		p := lostStatus(t, spec, q)
		if !reflect.DeepEqual(p.Lost, []int{5, 9}) || p.LostImages != 4 || p.Stalled() {
			t.Fatalf("lost %v (%d images), stalled %v; want batches 5 and 9 (4 images), not stalled", p.Lost, p.LostImages, p.Stalled())
		}
	})
	t.Run("deleting the queue's keys loses every batch still to run", func(t *testing.T) {
		deleteQueue(t, rdb, spec.Queue)
		p := lostStatus(t, spec, q)
		if want := []int{3, 4, 5, 6, 7, 8, 9}; !reflect.DeepEqual(p.Lost, want) || p.LostImages != 19 || !p.Stalled() {
			t.Fatalf("lost %v (%d images), stalled %v; want %v (19 images), stalled", p.Lost, p.LostImages, p.Stalled(), want)
		}
		if p.FailedBatches != 1 || p.DoneBatches != 2 {
			t.Fatalf("done %d, failed %d; want 2 and 1", p.DoneBatches, p.FailedBatches)
		}
	})
	t.Run("redrive queues them once, under their own task IDs", func(t *testing.T) {
		lost := lostStatus(t, spec, q).Lost
		queued, err := pipeline.Redrive(ctx, spec.Ref(), q, lost)
		if err != nil || !reflect.DeepEqual(queued, lost) {
			t.Fatalf("redrive queued %v, %v; want %v", queued, err, lost)
		}
		if again, err := pipeline.Redrive(ctx, spec.Ref(), q, lost); err != nil || len(again) != 0 {
			t.Fatalf("a second redrive queued %v, %v; want nothing", again, err)
		}
		if p := lostStatus(t, spec, q); len(p.Lost) != 0 {
			t.Fatalf("still lost after the redrive: %v", p.Lost)
		}
		info, err := q.Inspector.GetQueueInfo(spec.Queue)
		if err != nil || info.Pending != len(lost) {
			t.Fatalf("queue %+v, %v; want %d pending", info, err, len(lost))
		}
	})
	t.Run("without the tracker's connection nothing is counted", func(t *testing.T) {
		deleteQueue(t, rdb, spec.Queue)
		if p := lostStatus(t, spec, pipeline.Queue{Inspector: q.Inspector}); p.Lost != nil {
			t.Fatalf("lost %v without a tracker", p.Lost)
		}
	})
}

func TestStillLostKeepsBatchesSeenTwice(t *testing.T) {
	if got := pipeline.StillLost([]int{1, 3, 4}, []int{3, 4, 7}); !reflect.DeepEqual(got, []int{3, 4}) {
		t.Fatalf("StillLost = %v", got)
	}
	if got := pipeline.StillLost(nil, []int{3}); got != nil {
		t.Fatalf("one observation confirmed %v", got)
	}
}

// deleteQueue deletes every key of an Asynq queue, as a Redis that lost its
// data would hold none.
func deleteQueue(t *testing.T, rdb *redis.Client, queue string) {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "asynq:{"+queue+"}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys of %s: %v, %v", queue, keys, err)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
}
