package workers_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
	"github.com/didicm/didicm/workers"
)

// gateModel holds every model call until the test passes it (pass) or
// opens the gate for good (release); entered says a call is waiting.
type gateModel struct {
	workers.Model
	entered chan struct{}
	pass    chan struct{}
	release chan struct{}
}

func newGate(m workers.Model) *gateModel {
	return &gateModel{Model: m, entered: make(chan struct{}), pass: make(chan struct{}), release: make(chan struct{})}
}

func (m *gateModel) LogScores(ctx context.Context, images [][]float32, labels []int64, sigmas []float32, out []float32) error {
	select {
	case m.entered <- struct{}{}:
		select {
		case <-m.pass:
		case <-m.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	case <-m.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return m.Model.LogScores(ctx, images, labels, sigmas, out)
}

// holdAfter lets model calls through one at a time until the job has done
// batches, and returns with the worker held inside the next call.
func (m *gateModel) holdAfter(t *testing.T, spec jobs.Spec, q pipeline.Queue, batches int) {
	t.Helper()
	for {
		select {
		case <-m.entered:
		case <-time.After(time.Minute):
			t.Fatal("the worker made no model call for a minute")
		}
		if p, err := pipeline.Status(context.Background(), spec.Ref(), q); err == nil && p.DoneBatches >= batches {
			return
		}
		m.pass <- struct{}{}
	}
}

// lockedBuffer collects a logger's lines while the worker writes them.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// serveWatching runs a worker that checks for lost batches every 20 ms.
func serveWatching(t *testing.T, h *harness, redrive bool) *lockedBuffer {
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- workers.Serve(ctx, workers.ServerConfig{Redis: h.redis, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
			LostCheck: 20 * time.Millisecond, RedriveLost: redrive}, h.proc, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(logs, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		h.proc.Close()
	})
	return logs
}

// loseRedisMidJob runs the job until two batches are done, holds the worker
// inside a batch, empties Redis (as a failover to a replica that had not
// synced would), and lets the worker go on.
func loseRedisMidJob(t *testing.T, h *harness, gate *gateModel, spec jobs.Spec, q pipeline.Queue) {
	gate.holdAfter(t, spec, q, 2)
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.(asynq.RedisClientOpt).Addr})
	defer rdb.Close()
	if err := rdb.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	close(gate.release)
}

func TestAWorkerReportsBatchesRedisLostAndCanRedriveThem(t *testing.T) {
	for _, redrive := range []bool{false, true} {
		name := map[bool]string{false: "reported, then re-queued as status --redrive does", true: "re-queued by the worker itself"}[redrive]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			gate := newGate(h.proc.Model)
			h.proc.Model = gate
			url := "file://" + t.TempDir() + "?create_dir=true"
			b, _ := storage.Open(context.Background(), url)
			defer b.Close()
			writeArchive(t, b, "in", 36) // 40 files: 10 batches of 4
			spec := jobs.Spec{ID: "lost", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 4, Sampler: "cp"}
			h.enqueue(spec)
			logs := serveWatching(t, h, redrive)
			c, insp := asynq.NewClient(h.redis), asynq.NewInspector(h.redis)
			defer c.Close()
			defer insp.Close()
			q := pipeline.Queue{Client: c, Inspector: insp, Tracker: h.proc.Tracker}
			spec.Defaults()
			loseRedisMidJob(t, h, gate, spec, q)
			if !redrive {
				p := waitQueue(t, spec, q, func(p pipeline.Progress) bool {
					return p.Stalled() && strings.Contains(logs.String(), "batches lost from Redis")
				})
				if n := testutil.ToFloat64(h.proc.Metrics.LostBatches.WithLabelValues("lost")); n != float64(len(p.Lost)) {
					t.Fatalf("didicm_lost_batches %v; status counts %d lost", n, len(p.Lost))
				}
				if _, err := pipeline.Redrive(context.Background(), spec.Ref(), q, p.Lost); err != nil {
					t.Fatal(err)
				}
			}
			p := waitQueue(t, spec, q, func(p pipeline.Progress) bool { return p.Summarized })
			if p.DoneImages != 40 || len(p.Lost) != 0 {
				t.Fatalf("after the redrive: %+v", p)
			}
			lay, _ := jobs.NewLayout("", spec.ID)
			checkOneRecordEach(t, readRecords(t, b, lay), 40)
			if n := testutil.ToFloat64(h.proc.Metrics.Redriven); redrive != (n > 0) {
				t.Fatalf("didicm_redriven_batches_total %v with redrive %v", n, redrive)
			}
			if !strings.Contains(logs.String(), "batches lost from Redis") || strings.Contains(logs.String(), "lost-batch check") {
				t.Fatalf("the worker did not warn, or its check failed; its log:\n%s", logs)
			}
		})
	}
}

func checkOneRecordEach(t *testing.T, recs []pipeline.Record, images int) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.Key] {
			t.Fatalf("%s has two records", r.Key)
		}
		seen[r.Key] = true
	}
	if len(seen) != images {
		t.Fatalf("%d records for %d images", len(seen), images)
	}
}

// A batch that ended while Redis was unreachable is missing from the
// tracker's count of finished batches: no worker writes the summary when
// the last batch ends. The watch does, once it sees every batch done.
func TestASummaryTheTrackerMissedIsWrittenByTheWatch(t *testing.T) {
	h := newHarness(t)
	gate := newGate(h.proc.Model)
	h.proc.Model = gate
	url := "file://" + t.TempDir() + "?create_dir=true"
	b, _ := storage.Open(context.Background(), url)
	defer b.Close()
	writeArchive(t, b, "in", 16) // 20 files: 5 batches of 4
	spec := jobs.Spec{ID: "short", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 4, Sampler: "cp"}
	h.enqueue(spec)
	logs := serveWatching(t, h, false)
	c, insp := asynq.NewClient(h.redis), asynq.NewInspector(h.redis)
	defer c.Close()
	defer insp.Close()
	q := pipeline.Queue{Client: c, Inspector: insp, Tracker: h.proc.Tracker}
	spec.Defaults()
	gate.holdAfter(t, spec, q, 4) // inside the last batch
	rdb := redis.NewClient(&redis.Options{Addr: h.redis.(asynq.RedisClientOpt).Addr})
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), "didicm:done:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("tracker keys %v, %v", keys, err)
	}
	if n, err := rdb.SRem(context.Background(), keys[0], "0").Result(); err != nil || n != 1 {
		t.Fatalf("SREM batch 0: %d, %v", n, err)
	}
	close(gate.release)
	if p := waitQueue(t, spec, q, func(p pipeline.Progress) bool { return p.Summarized }); p.DoneImages != 20 {
		t.Fatalf("%+v", p)
	}
	if !strings.Contains(logs.String(), "no summary was written") {
		t.Fatalf("the summary was not the watch's; the worker's log:\n%s", logs)
	}
}
