package workers_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
	"github.com/didicm/didicm/workers"
)

// waitQueue polls like wait, with Redis as a source of failures too.
func waitQueue(t testing.TB, spec jobs.Spec, q pipeline.Queue, until func(pipeline.Progress) bool) pipeline.Progress {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		p, err := pipeline.Status(context.Background(), spec.Ref(), q)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if err == nil && until(p) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: %+v", spec.ID, p)
		}
		time.Sleep(50 * time.Millisecond) // polling storage and Redis, which have no change signal
	}
}

func TestAJobWhoseOutputBucketFailsIsRecoverable(t *testing.T) {
	h := newHarness(t)
	url := "file://" + t.TempDir() + "?create_dir=true"
	b, _ := storage.Open(context.Background(), url)
	defer b.Close()
	writeArchive(t, b, "in", 14) // 18 files: 3 batches of 6
	var denied atomic.Bool
	denied.Store(true)
	h.proc.OpenBucket = func(ctx context.Context, u string) (*storage.Bucket, error) {
		bk, err := storage.Open(ctx, u)
		if err == nil {
			bk.FailWrite = func(key string) error { // the worker's credentials cannot write the job's folder
				if denied.Load() && !strings.HasPrefix(key, "in/") {
					return errors.New("AccessDenied: injected")
				}
				return nil
			}
		}
		return bk, err
	}
	specs := []jobs.Spec{
		{ID: "by-retry", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 6, MaxRetry: 1},
		{ID: "by-enqueue", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 6, MaxRetry: 1},
	}
	for _, s := range specs {
		h.enqueue(s)
	}
	h.start()
	c, insp := asynq.NewClient(h.redis), asynq.NewInspector(h.redis)
	defer c.Close()
	defer insp.Close()
	q := pipeline.Queue{Client: c, Inspector: insp, Tracker: h.proc.Tracker}
	allFailed := func(p pipeline.Progress) bool { return p.FailedBatches == p.Batches && p.PendingImages == 0 }
	for i := range specs {
		specs[i].Defaults()
		p := waitQueue(t, specs[i], q, allFailed)
		if len(p.Failures) != 3 || !strings.Contains(p.Failures[0].Error, "AccessDenied") {
			t.Fatalf("%s: failures %+v", specs[i].ID, p.Failures)
		}
	}
	// Without the tracker, status still finds the failures in Asynq's archive.
	if p := waitQueue(t, specs[0], pipeline.Queue{Inspector: insp}, allFailed); p.FailedBatches != 3 {
		t.Fatalf("from the archive alone: %+v", p)
	}
	denied.Store(false) // the credentials are fixed
	requeued, err := pipeline.Retry(context.Background(), specs[0].Ref(), q)
	if err != nil || len(requeued) != 3 {
		t.Fatalf("retry re-queued %v, %v; want the 3 batches", requeued, err)
	}
	rep, err := pipeline.Enqueue(context.Background(), specs[1], q)
	if err != nil || rep.Redriven != 3 || !rep.Resumed {
		t.Fatalf("resumed enqueue: %+v, %v; want the 3 archived batches re-driven", rep, err)
	}
	for _, s := range specs {
		p := waitQueue(t, s, q, func(p pipeline.Progress) bool { return p.Summarized })
		if p.DoneImages != 18 || p.FailedBatches != 0 || len(p.Failures) != 0 {
			t.Fatalf("%s after recovery: %+v", s.ID, p)
		}
		if fs, _ := h.proc.Tracker.Failures(context.Background(), s.Ref()); len(fs) != 0 {
			t.Fatalf("%s: the tracker still lists %+v", s.ID, fs)
		}
	}
}

// countingModel counts score-model calls.
type countingModel struct {
	workers.Model
	calls atomic.Int64
}

func (m *countingModel) LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	m.calls.Add(1)
	return m.Model.LogScores(ctx, images, labels, sigmas, out)
}

func TestABatchDeliveredTwiceIsNotRecomputed(t *testing.T) {
	h := newHarness(t)
	cm := &countingModel{Model: h.proc.Model}
	h.proc.Model = cm
	url := "file://" + t.TempDir() + "?create_dir=true"
	b, _ := storage.Open(context.Background(), url)
	defer b.Close()
	writeArchive(t, b, "in", 8) // 12 files: 2 batches
	spec := jobs.Spec{ID: "twice", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 6}
	h.enqueue(spec)
	h.start()
	if p := wait(t, spec); !p.Summarized {
		t.Fatalf("%+v", p)
	}
	lay, _ := jobs.NewLayout("", spec.ID)
	before, _ := b.Read(context.Background(), lay.Results(0), 0)
	calls := cm.calls.Load()
	task, err := jobs.NewTask(jobs.Batch{JobID: spec.ID, Index: 0, OutputURL: url})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // as after a lease recovery, or Asynq's re-run after a Redis outage
		if err := h.proc.ProcessTask(context.Background(), task); err != nil {
			t.Fatal(err)
		}
	}
	if n := cm.calls.Load(); n != calls {
		t.Fatalf("the duplicate made %d model calls", n-calls)
	}
	if after, _ := b.Read(context.Background(), lay.Results(0), 0); !bytes.Equal(before, after) {
		t.Fatal("the duplicate rewrote the results")
	}
	if n, _ := h.proc.Tracker.Finished(context.Background(), spec.Ref()); n != 2 {
		t.Fatalf("%d finished batches recorded for a job of 2", n)
	}
	// Another spec for the same job folder (a rerun with other settings) is recomputed.
	stale := jobs.Spec{ID: "twice", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 6, Steps: 3}
	stale.Defaults()
	st, _ := jobs.NewStore(b, stale.Ref())
	if err := st.WriteSpec(context.Background(), stale); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t) // a fresh worker: it reads the new spec
	h2.proc.Model = cm
	if err := h2.proc.ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if cm.calls.Load() == calls {
		t.Fatal("results of another spec were taken as this spec's")
	}
}
