package dicomweb_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg2000"
	"github.com/didicm/didicm/imaging/dicom/jpegls"
	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/storage"
	"github.com/didicm/didicm/workers"
)

// The cgo codecs, installed as the command installs them.
func init() {
	for _, c := range []struct {
		ok       bool
		syntaxes []string
		decode   dicom.Decoder
	}{{jpegls.Available, jpegls.TransferSyntaxes, jpegls.Decode}, {jpeg2000.Available, jpeg2000.TransferSyntaxes, jpeg2000.Decode}} {
		for _, uid := range c.syntaxes {
			if c.ok {
				dicom.RegisterDecoder(uid, c.decode)
			}
		}
	}
}

// worker is a real worker (real ONNX Runtime, real redis-server) that runs
// the jobs a test enqueues.
type worker struct {
	t       *testing.T
	redis   asynq.RedisConnOpt
	metrics *workers.Metrics
	out     string // the output bucket
}

func startWorker(t *testing.T) *worker {
	model, err := ort.Open("../testdata/score-k10.onnx", ort.Config{IntraOpThreads: 1}, nil)
	if err != nil {
		if os.Getenv("DIDICM_SKIP_ORT") == "1" {
			t.Skipf("DIDICM_SKIP_ORT=1: %v", err)
		}
		t.Fatal(err)
	}
	opt := asynq.RedisClientOpt{Addr: redistest.Start(t)}
	tracker, err := pipeline.NewTracker(opt)
	if err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.DiscardHandler)
	w := &worker{t: t, redis: opt, metrics: workers.NewMetrics(prometheus.NewRegistry()),
		out: "file://" + t.TempDir() + "?create_dir=true"}
	proc := &workers.Processor{Model: model, Tracker: tracker, Name: "test", Log: discard, Metrics: w.metrics}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- workers.Serve(ctx, workers.ServerConfig{Redis: opt, Concurrency: 2, RetryBase: time.Millisecond,
			RetryMax: 5 * time.Millisecond}, proc, prometheus.NewRegistry(), discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		proc.Close()
		tracker.Close()
		model.Close()
	})
	return w
}

// run enqueues a job of input and waits until it is summarised or its
// remaining batches have failed; it returns the progress and the records
// by key (and frame).
func (w *worker) run(id, input string, edit ...func(*jobs.Spec)) (pipeline.Progress, map[string]pipeline.Record) {
	t := w.t
	t.Helper()
	spec := jobs.Spec{ID: id, InputURL: input, OutputURL: w.out, OutputPrefix: "out", BatchSize: 4, Sampler: "cp",
		MaxRetry: 5, ReviewThreshold: 0.5}
	for _, e := range edit {
		e(&spec)
	}
	c := asynq.NewClient(w.redis)
	defer c.Close()
	if _, err := pipeline.Enqueue(context.Background(), spec, pipeline.Queue{Client: c}); err != nil {
		t.Fatal(err)
	}
	var p pipeline.Progress
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var err error
		p, err = pipeline.Status(context.Background(), spec.Ref(), pipeline.Queue{})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if err == nil && (p.Summarized || p.PendingImages == 0 && p.FailedBatches > 0) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not done: %+v", id, p)
		}
		time.Sleep(20 * time.Millisecond) // polling storage, which has no change signal
	}
	return p, w.records(id)
}

func (w *worker) records(id string) map[string]pipeline.Record {
	t := w.t
	t.Helper()
	b, err := storage.Open(context.Background(), w.out)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	lay, _ := jobs.NewLayout("out", id)
	objs, err := b.List(context.Background(), lay.ResultsDir(), storage.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]pipeline.Record{}
	for _, o := range objs {
		data, err := b.Read(context.Background(), o.Key, 0)
		if err != nil {
			t.Fatal(err)
		}
		for sc := bufio.NewScanner(bytes.NewReader(data)); sc.Scan(); {
			var r pipeline.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			if _, dup := recs[r.Key]; dup {
				t.Fatalf("two records for %s", r.Key)
			}
			recs[r.Key] = r
		}
	}
	return recs
}

// objects are the object keys the records came from (a multi-frame
// instance's frames are one object), sorted.
func objects(recs map[string]pipeline.Record) []string {
	var out []string
	for k := range recs {
		k, _, _ = strings.Cut(k, "#")
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// bucketOfCorpus writes the corpus into a file:// bucket under the keys the
// DICOMweb source lists it by.
func bucketOfCorpus(t *testing.T) string {
	dir := t.TempDir()
	for _, e := range loadCorpus() {
		path := filepath.Join(dir, filepath.FromSlash(e.key()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, e.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + dir
}

// withCorpus is an Orthanc of the test's own holding the corpus.
func withCorpus(t *testing.T) *orthanctest.Server {
	o := orthanctest.Start(t, orthanctest.Options{})
	for _, e := range loadCorpus() {
		if err := o.Upload(context.Background(), e.data); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// batchRetries is how many batch attempts the worker has failed and retried.
func (w *worker) batchRetries() float64 {
	return testutil.ToFloat64(w.metrics.Batches.WithLabelValues("retry"))
}

func TestJobsReadOverDICOMweb(t *testing.T) {
	w := startWorker(t)
	all := corpusKeys(func(entry) bool { return true })

	t.Run("records equal those of the same files read from a bucket", func(t *testing.T) {
		p, web := w.run("pacs", sourceURL(pacs.DICOMweb(), "page=2"))
		_, files := w.run("bucket", bucketOfCorpus(t))
		if p.FailedBatches != 0 || len(web) != 24 {
			t.Fatalf("progress %+v, %d records, want 24 (21 instances, two of them of 3 and 2 frames)", p, len(web))
		}
		sameKeys(t, objects(web), all)
		for k, r := range web {
			f := files[k]
			if r.Error != "" || r.SOPUID == "" {
				t.Fatalf("%s: error %q, SOP UID %q", k, r.Error, r.SOPUID)
			}
			r.Job, r.Batch, f.Job, f.Batch = "", 0, "", 0
			a, _ := json.Marshal(r)
			b, _ := json.Marshal(f)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s over DICOMweb:\n%s\nfrom the bucket:\n%s", k, a, b)
			}
		}
	})

	t.Run("a job's series rules choose the series it reads", func(t *testing.T) {
		rules := []dicomweb.SeriesRule{{Modality: []string{"CT"}, ImageType: []string{"axial"}, MinInstances: 5}}
		_, recs := w.run("rules", sourceURL(pacs.DICOMweb(), ""), func(s *jobs.Spec) { s.SeriesRules = rules })
		want := corpusKeys(func(e entry) bool { return strings.Contains(e.File, "chest-ct-axial") })
		if len(want) == 0 {
			t.Fatal("the corpus has no axial CT series")
		}
		sameKeys(t, objects(recs), want)
	})

	t.Run("a study deleted between listing and reading gives error records, not a failed job", func(t *testing.T) {
		o := withCorpus(t)
		gone := corpusEntry(t, "head-mr-t1-1-explicit").Study
		px := newProxy(t, o.URL)
		var once sync.Once
		px.setHook(func(_ http.ResponseWriter, r *http.Request) bool {
			if kind(r) == "wado" {
				once.Do(func() {
					if err := o.DeleteStudy(r.Context(), gone); err != nil {
						t.Error(err)
					}
				})
			}
			return false
		})
		p, recs := w.run("deleted", sourceURL(px.root(), ""))
		sameKeys(t, objects(recs), all)
		if p.FailedBatches != 0 || !p.Summarized {
			t.Fatalf("progress %+v", p)
		}
		failed := 0
		for k, r := range recs {
			if strings.Contains(k, gone) != (r.Error != "") {
				t.Fatalf("%s: error %q", k, r.Error)
			}
			if r.Error != "" {
				failed++
				if r.ErrorReason != "read" || !strings.Contains(r.Error, "404") || strings.Contains(r.Error, "http") {
					t.Fatalf("%s: %s %q", k, r.ErrorReason, r.Error)
				}
			}
		}
		if failed != 7 {
			t.Fatalf("%d error records, want the deleted study's 7 instances", failed)
		}
	})

	// One job for the faults that fail a batch: the worker's queue looks for
	// batches to retry every 5 s (Asynq's delayed-task check).
	t.Run("Orthanc restarted mid-job, a stalled answer and refusals: the batches are retried and complete", func(t *testing.T) {
		o := withCorpus(t)
		px := newProxy(t, o.URL)
		gaveUp := make(chan struct{}, 1)
		slow, refused, forward := stall("", gaveUp), refuse(3, http.StatusServiceUnavailable, "0"), px.proxyTo(t, o.URL)
		var mu sync.Mutex
		reads, asked := 0, map[string]int{}
		var stalled, crashed string
		var stalledAt, crashedAt int // asks of it until its fault
		px.setHook(func(w http.ResponseWriter, r *http.Request) bool {
			if kind(r) != "wado" {
				return false
			}
			mu.Lock()
			defer mu.Unlock()
			asked[r.URL.Path]++
			switch reads++; reads {
			case 1: // no answer until the client gives up: the batch fails
				stalled, stalledAt = r.URL.Path, asked[r.URL.Path]
				mu.Unlock()
				defer mu.Lock()
				return slow(w, r)
			case 8: // a crash: this read finds nobody (502), the batch fails
				crashed, crashedAt = r.URL.Path, asked[r.URL.Path]
				if err := o.Kill(); err != nil {
					t.Error(err)
				}
				forward.ServeHTTP(w, r)
				if err := o.Start(); err != nil {
					t.Error(err)
				}
				return true
			}
			return refused(w, r) // 503 thrice, retried within the read
		})
		before := w.batchRetries()
		p, recs := w.run("faults", sourceURL(px.root(), "timeout=500ms&backoff=1ms"))
		<-gaveUp
		sameKeys(t, objects(recs), all)
		for k, r := range recs {
			if r.Error != "" {
				t.Fatalf("%s: %s", k, r.Error)
			}
		}
		if p.FailedBatches != 0 || w.batchRetries() == before {
			t.Fatalf("progress %+v, %v batch retries", p, w.batchRetries()-before)
		}
		mu.Lock()
		defer mu.Unlock()
		// Read again after its fault: by a retried batch, as a timeout or a 502
		// is not retried within a read.
		if asked[stalled] == stalledAt || asked[crashed] == crashedAt {
			t.Fatalf("the stalled instance was not read again (%d asks), or the crashed one (%d)", asked[stalled], asked[crashed])
		}
	})
}
