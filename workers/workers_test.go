package workers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
	"github.com/didicm/didicm/workers"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hibiken/asynq/internal/rdb.(*RDB).ClearServerState"))
}

var (
	modelOnce sync.Once
	model     *ort.Model
	modelErr  error
)

func loadModel(t testing.TB) *ort.Model {
	modelOnce.Do(func() { model, modelErr = ort.Open("../testdata/score-k10.onnx", ort.Config{IntraOpThreads: 1}, nil) })
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return model
}

// writeArchive puts n PNGs and four broken files into the bucket under prefix.
func writeArchive(t testing.TB, b *storage.Bucket, prefix string, n int) map[string][]byte {
	t.Helper()
	files := archiveFiles(prefix, n)
	for k, v := range files {
		if err := b.Write(context.Background(), k, v, ""); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// archiveFiles returns n small grey PNGs in three folders and four broken files.
func archiveFiles(prefix string, n int) map[string][]byte {
	files := map[string][]byte{}
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 7+i%3, 7))
		for p := range img.Pix {
			img.Pix[p] = uint8((p*37 + i*11) % 256)
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		files[fmt.Sprintf("%s/d%d/img-%03d.png", prefix, i%3, i)] = buf.Bytes()
	}
	good := files[prefix+"/d0/img-000.png"]
	files[prefix+"/broken/empty.png"] = nil
	files[prefix+"/broken/truncated.png"] = good[:len(good)/2]
	files[prefix+"/broken/text.jpg"] = []byte("not an image")
	files[prefix+"/broken/huge.png"] = hugeHeader()
	return files
}

// hugeHeader is a PNG signature and a valid IHDR claiming 100000×100000 pixels.
func hugeHeader() []byte {
	ihdr := []byte("IHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x02\x00\x00\x00")
	out := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

type harness struct {
	t           testing.TB
	redis       asynq.RedisConnOpt
	proc        *workers.Processor
	concurrency int // batches in flight; zero means the worker's default
}

func newHarness(t testing.TB) *harness {
	addr := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: addr}
	counter, err := pipeline.NewTracker(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { counter.Close() })
	return &harness{t: t, redis: opt, proc: &workers.Processor{Model: loadModel(t), Tracker: counter,
		Name: "test", Log: slog.New(slog.DiscardHandler), Metrics: workers.NewMetrics(prometheus.NewRegistry())}}
}

// start runs a worker until the test ends.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- workers.Serve(ctx, workers.ServerConfig{Redis: h.redis, Concurrency: h.concurrency, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond},
			h.proc, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	}()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Error(err)
		}
		h.proc.Close()
	})
}

func (h *harness) enqueue(spec jobs.Spec) pipeline.EnqueueReport {
	c := asynq.NewClient(h.redis)
	defer c.Close()
	rep, err := pipeline.Enqueue(context.Background(), spec, pipeline.Queue{Client: c})
	if err != nil {
		h.t.Fatal(err)
	}
	return rep
}

// wait polls the output bucket until the job is summarised or every
// remaining batch is in the failure list.
func wait(t testing.TB, spec jobs.Spec) pipeline.Progress {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		p, err := pipeline.Status(context.Background(), spec.Ref(), pipeline.Queue{})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if err == nil && (p.Summarized || p.PendingImages == 0 && p.FailedBatches > 0) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not done: %+v", spec.ID, p)
		}
		time.Sleep(50 * time.Millisecond) // polling storage, which has no change signal
	}
}

func readRecords(t *testing.T, b *storage.Bucket, lay jobs.Layout) []pipeline.Record {
	t.Helper()
	objs, err := b.List(context.Background(), lay.ResultsDir(), storage.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var recs []pipeline.Record
	for _, o := range objs {
		data, err := b.Read(context.Background(), o.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var r pipeline.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
	}
	return recs
}

func TestEndToEndEveryImageGetsExactlyOneRecord(t *testing.T) {
	urls := map[string]string{"file": "file://" + t.TempDir() + "?create_dir=true", "s3": s3test.Start(t, "night")}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			b, err := storage.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			files := writeArchive(t, b, "archive", 37)
			spec := jobs.Spec{ID: "night-" + name, InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
				BatchSize: 8, Sampler: "cp"}
			rep := h.enqueue(spec)
			if rep.Images != 41 || rep.Batches != 6 || rep.Queued != 6 {
				t.Fatalf("enqueue %+v", rep)
			}
			h.start()
			p := wait(t, spec)
			if p.DoneImages != 41 || p.FailedBatches != 0 {
				t.Fatalf("progress %+v", p)
			}
			lay, _ := jobs.NewLayout("out", spec.ID)
			recs := readRecords(t, b, lay)
			seen := map[string]int{}
			for _, r := range recs {
				seen[r.Key]++
			}
			for k := range files {
				if seen[k] != 1 {
					t.Fatalf("%s has %d records", k, seen[k])
				}
			}
			if len(recs) != len(files) {
				t.Fatalf("%d records for %d files", len(recs), len(files))
			}
			compareWithClassify(t, recs, files)
			var sum pipeline.Summary
			data, _ := b.Read(context.Background(), lay.Summary(), 0)
			json.Unmarshal(data, &sum)
			if sum.Images != 41 || sum.Errors != 4 || sum.ErrorReasons["too_many_pixels"] != 1 || sum.Samplers["cp T=2"] != 37 {
				t.Fatalf("summary %+v", sum)
			}
			checkSummaryAgainstRecords(t, sum, recs, sum.ReviewThreshold)
			// The worker writes report.html just after summary.json.
			for deadline := time.Now().Add(time.Minute); ; {
				if ok, _ := b.Exists(context.Background(), lay.Report()); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no report.html a minute after the summary")
				}
				time.Sleep(20 * time.Millisecond) // polling storage
			}
			checkSummaryWithoutStats(t, b, lay)
			// Enqueueing the finished job again queues nothing.
			if rep := h.enqueue(spec); rep.Queued != 0 || rep.Done != 6 || !rep.Resumed {
				t.Fatalf("re-enqueue %+v", rep)
			}
		})
	}
}

// checkSummaryAgainstRecords recounts the summary (merged from per-batch
// stats) from the records themselves.
func checkSummaryAgainstRecords(t *testing.T, sum pipeline.Summary, recs []pipeline.Record, threshold float64) {
	t.Helper()
	classes, review, classified, nfe, hist := map[string]int{}, 0, 0, 0, 0
	for _, r := range recs {
		nfe += r.NFE
		if r.Error != "" || r.EntropyNorm > threshold {
			review++
		}
		if r.Error == "" {
			classes[r.Class]++
			classified++
		}
	}
	for _, n := range sum.EntropyNormHistogram {
		hist += n
	}
	if sum.Classified != classified || sum.Review != review || sum.NFE != nfe || hist != classified ||
		fmt.Sprint(sum.Classes) != fmt.Sprint(classes) || sum.MaxProbQuantiles["p50"] <= 0 {
		t.Fatalf("summary %+v; records give %d classified, %d to review, NFE %d, classes %v",
			sum, classified, review, nfe, classes)
	}
}

// checkSummaryWithoutStats removes the per-batch stats (as from an older
// worker) and checks that Finish rebuilds the same summary and review list
// from the results.
func checkSummaryWithoutStats(t *testing.T, b *storage.Bucket, lay jobs.Layout) {
	t.Helper()
	ctx := context.Background()
	var spec jobs.Spec // as stored by enqueue, defaults filled in
	data, err := b.Read(ctx, lay.Spec(), 0)
	if err != nil || json.Unmarshal(data, &spec) != nil {
		t.Fatalf("read spec: %v", err)
	}
	before := map[string][]byte{}
	for _, key := range []string{lay.Summary(), lay.Review()} {
		before[key], _ = b.Read(ctx, key, 0)
	}
	for i := range 6 {
		if err := b.Delete(ctx, lay.Stats(i)); err != nil {
			t.Fatal(err)
		}
	}
	store, err := jobs.NewStore(b, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := pipeline.Finish(ctx, store, spec); !wrote || err != nil {
		t.Fatalf("Finish without stats: %v, %v", wrote, err)
	}
	for key, want := range before {
		if got, _ := b.Read(ctx, key, 0); !bytes.Equal(got, want) {
			t.Fatalf("%s from results differs from the one from stats:\n%s\n%s", key, got, want)
		}
	}
}

// compareWithClassify runs the engine directly on the same bytes.
func compareWithClassify(t *testing.T, recs []pipeline.Record, files map[string][]byte) {
	eng, err := classify.New(loadModel(t), classify.Options{Sampler: "cp", Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		want, err := eng.Classify(context.Background(), []classify.Item{{Key: r.Key, Data: files[r.Key]}})
		if err != nil {
			t.Fatal(err)
		}
		if want[0].ErrorReason != r.ErrorReason || len(want[0].Posterior) != len(r.Posterior) {
			t.Fatalf("%s: pipeline %+v, classify %+v", r.Key, r.Record, want[0])
		}
		for i := range r.Posterior {
			if math.Abs(r.Posterior[i]-want[0].Posterior[i]) > 1e-6 {
				t.Fatalf("%s: posterior %v, classify %v", r.Key, r.Posterior, want[0].Posterior)
			}
		}
	}
}

// faults fails writes of chosen result objects: n times, or always until cleared.
type faults struct {
	mu     sync.Mutex
	counts map[string]int // remaining failures; -1 = always
}

func (f *faults) set(key string, n int) { f.mu.Lock(); f.counts[key] = n; f.mu.Unlock() }

func (f *faults) check(key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch n := f.counts[key]; {
	case n < 0:
		return errors.New("injected permanent fault")
	case n > 0:
		f.counts[key] = n - 1
		return errors.New("injected transient fault")
	}
	return nil
}

func TestTransientWriteFaultIsRetriedAndPermanentOneIsRedrivenByRetry(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	url := "file://" + dir + "?create_dir=true"
	b, _ := storage.Open(context.Background(), url)
	defer b.Close()
	writeArchive(t, b, "in", 20)
	f := &faults{counts: map[string]int{}}
	h.proc.OpenBucket = func(ctx context.Context, u string) (*storage.Bucket, error) {
		bk, err := storage.Open(ctx, u)
		if err == nil {
			bk.FailWrite = f.check
		}
		return bk, err
	}
	spec := jobs.Spec{ID: "faulty", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 6, MaxRetry: 2}
	lay, _ := jobs.NewLayout("", spec.ID)
	f.set(lay.Results(1), 2)  // fails twice, then works: within MaxRetry
	f.set(lay.Results(2), -1) // fails every time
	h.enqueue(spec)
	h.start()
	p := wait(t, spec)
	if p.FailedBatches != 1 || len(p.Failures) != 1 || p.Failures[0].Batch != 2 || p.Failures[0].Attempts != 3 {
		t.Fatalf("progress %+v", p)
	}
	if ok, _ := b.Exists(context.Background(), lay.Results(1)); !ok {
		t.Fatal("the transiently failing batch has no results")
	}
	f.set(lay.Results(2), 0) // the fault is fixed
	c, insp := asynq.NewClient(h.redis), asynq.NewInspector(h.redis)
	defer c.Close()
	defer insp.Close()
	requeued, err := pipeline.Retry(context.Background(), jobs.Ref{OutputURL: url, ID: spec.ID}, pipeline.Queue{Client: c, Inspector: insp, Tracker: h.proc.Tracker})
	if err != nil || len(requeued) != 1 || requeued[0] != 2 {
		t.Fatalf("retry %v %v", requeued, err)
	}
	p = wait(t, spec)
	if !p.Summarized || p.DoneImages != p.Images || p.FailedBatches != 0 {
		t.Fatalf("after retry %+v", p)
	}
	if n := len(readRecords(t, b, lay)); n != 24 {
		t.Fatalf("%d records for 24 files", n)
	}
}

func TestBadPayloadIsNotRetried(t *testing.T) {
	h := newHarness(t)
	for _, payload := range []string{`{`, `{"job":"x","batch":-1,"out":"mem://"}`, `{"job":"../x","batch":1,"out":"mem://"}`} {
		err := h.proc.ProcessTask(context.Background(), asynq.NewTask(jobs.TypeBatch, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("payload %s: %v", payload, err)
		}
	}
}

func TestWorkerRefusesAJobEnqueuedForAnotherModel(t *testing.T) {
	h := newHarness(t)
	url := "file://" + t.TempDir()
	b, _ := storage.Open(context.Background(), url)
	defer b.Close()
	writeArchive(t, b, "in", 5)
	spec := jobs.Spec{ID: "other-model", InputURL: url, InputPrefix: "in", OutputURL: url, BatchSize: 100,
		ModelSHA256: strings.Repeat("ab", 32)}
	h.enqueue(spec)
	h.start()
	p := wait(t, spec)
	if p.FailedBatches != 1 || p.DoneBatches != 0 || !strings.Contains(p.Failures[0].Error, "job wants model abab") ||
		p.Failures[0].Attempts != 1 {
		t.Fatalf("progress %+v", p)
	}
}

// A job ID may be reused in another bucket once the first job is done: the
// worker must not take the second job for the first (it caches specs).
func TestSameJobIDInTwoBucketsAreTwoJobs(t *testing.T) {
	h := newHarness(t)
	h.start()
	for i, steps := range []int{2, 3} {
		url := "file://" + t.TempDir()
		b, err := storage.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		files := writeArchive(t, b, fmt.Sprintf("archive-%d", i), 5)
		spec := jobs.Spec{ID: "nightly", InputURL: url, InputPrefix: fmt.Sprintf("archive-%d", i), OutputURL: url,
			BatchSize: 4, Sampler: "cp", Steps: steps}
		h.enqueue(spec)
		if p := wait(t, spec); p.DoneImages != len(files) || p.FailedBatches != 0 {
			t.Fatalf("bucket %d: progress %+v", i, p)
		}
		lay, _ := jobs.NewLayout("", spec.ID)
		classified := 0
		for _, r := range readRecords(t, b, lay) {
			if r.Error != "" {
				continue // the four broken files
			}
			classified++
			if _, ok := files[r.Key]; !ok || r.Steps != steps {
				t.Fatalf("bucket %d: record %s with T=%d; want this bucket's images at T=%d", i, r.Key, r.Steps, steps)
			}
		}
		if classified != 5 {
			t.Fatalf("bucket %d: %d images classified, want 5", i, classified)
		}
	}
}
