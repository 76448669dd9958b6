package pipeline_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
)

func TestEnqueueResumesFromTheManifest(t *testing.T) {
	ctx := context.Background()
	opt := asynq.RedisClientOpt{Addr: redistest.Start(t)}
	c, insp := asynq.NewClient(opt), asynq.NewInspector(opt)
	defer c.Close()
	defer insp.Close()
	url := "file://" + t.TempDir()
	b, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range 10 {
		b.Write(ctx, fmt.Sprintf("in/%02d.png", i), []byte("x"), "")
	}
	spec := jobs.Spec{ID: "resume", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out", BatchSize: 3}
	rep, err := pipeline.Enqueue(ctx, spec, pipeline.Queue{Client: c})
	if err != nil || rep.Images != 10 || rep.Batches != 4 || rep.Queued != 4 || rep.Resumed {
		t.Fatalf("first enqueue %+v %v", rep, err)
	}
	// Again while queued: the task IDs are taken.
	if rep, err = pipeline.Enqueue(ctx, spec, pipeline.Queue{Client: c}); err != nil || rep.InQueue != 4 || rep.Queued != 0 || !rep.Resumed {
		t.Fatalf("second enqueue %+v %v", rep, err)
	}
	// A crash: Redis lost its queue; batches 0 and 2 have results; the archive grew.
	if _, err := insp.DeleteAllPendingTasks("default"); err != nil {
		t.Fatal(err)
	}
	lay, _ := jobs.NewLayout("out", "resume")
	b.Write(ctx, lay.Results(0), []byte("{}\n"), "")
	b.Write(ctx, lay.Results(2), []byte("{}\n"), "")
	b.Write(ctx, "in/new.png", []byte("x"), "")
	rep, err = pipeline.Enqueue(ctx, spec, pipeline.Queue{Client: c})
	if err != nil || rep.Images != 10 || rep.Done != 2 || rep.Queued != 2 {
		t.Fatalf("resume %+v %v", rep, err)
	}
	p, err := pipeline.Status(ctx, jobs.Ref{OutputURL: url, Prefix: "out", ID: "resume"}, pipeline.Queue{})
	if err != nil || p.DoneImages != 6 || p.PendingImages != 4 || p.Done() {
		t.Fatalf("status %+v %v", p, err)
	}
}

func TestEnqueueRejectsAnEmptyListingAndBadSpecs(t *testing.T) {
	opt := asynq.RedisClientOpt{Addr: redistest.Start(t)}
	c := asynq.NewClient(opt)
	defer c.Close()
	url := "file://" + t.TempDir()
	if _, err := pipeline.Enqueue(context.Background(), jobs.Spec{ID: "empty", InputURL: url, OutputURL: url}, pipeline.Queue{Client: c}); err == nil {
		t.Fatal("a job with no images was accepted")
	}
	if _, err := pipeline.Enqueue(context.Background(), jobs.Spec{ID: "Bad!", InputURL: url, OutputURL: url}, pipeline.Queue{Client: c}); err == nil {
		t.Fatal("a bad job id was accepted")
	}
}

func TestBatchStatsRoundTripAndTruncation(t *testing.T) {
	s := pipeline.NewBatchStats()
	sure := pipeline.Record{}
	sure.Class, sure.MaxProb, sure.EntropyNorm = "7", 0.99, 0.05
	bad := pipeline.Record{}
	bad.Error, bad.ErrorReason = "corrupt", "corrupt"
	s.Add(sure, []byte("{\"key\":\"b\"}\n"), pipeline.ReviewRule{Threshold: 0.5})            // confident: not for review
	s.Add(bad, []byte(`{"key":"a","error":"corrupt"}`), pipeline.ReviewRule{Threshold: 0.5}) // failed: for review
	data, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := pipeline.DecodeBatchStats(data)
	if err != nil || got.Images != 2 || got.Classified != 1 || got.ReviewCount != 1 ||
		string(got.Review) != "{\"key\":\"a\",\"error\":\"corrupt\"}\n" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	if _, err := pipeline.DecodeBatchStats(data[:len(data)-3]); err == nil {
		t.Fatal("a stats object cut short decoded without error")
	}
}
