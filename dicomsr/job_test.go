package dicomsr_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg2000"
	"github.com/didicm/didicm/imaging/dicom/jpegls"
	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
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

// signalled runs a writer and says when it has run: the test's signal
// that the worker finished the job.
type signalled struct {
	output.Writer
	done chan error
}

func (s signalled) Write(ctx context.Context, j *output.Job) error {
	err := s.Writer.Write(ctx, j)
	s.done <- err
	return err
}

const testModelPath = "../testdata/score-k10.onnx"

// TestAJobOverDICOMwebWritesItsReportsBackIntoEachStudy runs a real worker
// (ONNX Runtime, redis-server) over a real Orthanc holding the corpus,
// with the sr writer as the worker's output: when the job finishes, each
// study holds one report referencing each of its instances, and the
// report's findings are the records' classes.
func TestAJobOverDICOMwebWritesItsReportsBackIntoEachStudy(t *testing.T) {
	model, err := ort.Open(testModelPath, ort.Config{IntraOpThreads: 1}, nil)
	if err != nil {
		if os.Getenv("DIDICM_SKIP_ORT") == "1" {
			t.Skipf("DIDICM_SKIP_ORT=1: %v", err)
		}
		t.Fatal(err)
	}
	defer model.Close()
	corpus := loadCorpus(t)
	srv := startPACS(t, nil, corpus)
	sha, err := modelmeta.FileSHA256(testModelPath)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := dicomsr.New(dicomsr.Config{Model: dicomsr.ModelOf(model.Metadata(), testModelPath, sha), Send: dicomsr.SendToSource})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	opt := asynq.RedisClientOpt{Addr: redistest.Start(t)}
	tracker, err := pipeline.NewTracker(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer tracker.Close()
	discard := slog.New(slog.DiscardHandler)
	proc := &workers.Processor{Model: model, Tracker: tracker, Name: "test", Log: discard,
		Metrics: workers.NewMetrics(prometheus.NewRegistry()), Outputs: []output.Writer{signalled{sr, done}}}
	defer proc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- workers.Serve(ctx, workers.ServerConfig{Redis: opt, Concurrency: 2, RetryBase: time.Millisecond,
			RetryMax: 5 * time.Millisecond}, proc, prometheus.NewRegistry(), discard)
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	spec := jobs.Spec{ID: "pacs-sr", InputURL: "dicomweb+" + srv.DICOMweb() + "?rate=0",
		OutputURL: "file://" + t.TempDir() + "?create_dir=true", BatchSize: 4, Sampler: "cp", MaxRetry: 2,
		ReviewThreshold: 0.5, ModelSHA256: sha}
	c := asynq.NewClient(opt)
	defer c.Close()
	if _, err := pipeline.Enqueue(context.Background(), spec, pipeline.Queue{Client: c}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the job did not finish in 3 minutes")
	}
	checkReportsInPACS(t, srv.DICOMweb(), spec, corpus)
}

// checkReportsInPACS checks each study's one report in the PACS against
// the job's records: every classified record's instance is referenced,
// with its class's code as a finding.
func checkReportsInPACS(t *testing.T, root string, spec jobs.Spec, corpus []corpusEntry) {
	t.Helper()
	ctx := context.Background()
	store, err := jobs.OpenStore(ctx, spec.Ref())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	job, err := output.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string][]string{} // study -> "SOP class" lines
	if err := job.Records(ctx, func(r pipeline.Record) error {
		if r.Error == "" {
			classes[r.StudyUID] = append(classes[r.StudyUID], r.SOPUID+" "+r.Class)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, err := dicomweb.NewClient(dicomweb.Config{Base: root, Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, study := range studiesOf(corpus) {
		keys := reportsInPACS(t, c, study)
		if len(keys) != 1 {
			t.Fatalf("study %s holds %d reports", study, len(keys))
		}
		data, err := c.RetrieveInstance(ctx, keys[0], 0)
		if err != nil {
			t.Fatal(err)
		}
		dump := validate(t, data)
		if len(classes[study]) == 0 {
			t.Fatalf("study %s: no classified records", study)
		}
		for _, line := range classes[study] {
			sop, class, _ := strings.Cut(line, " ")
			if !strings.Contains(dump, sop) || !strings.Contains(dump, `,"`+class+`")>`) {
				t.Errorf("study %s: instance %s or class %s missing from the report", study, sop, class)
			}
		}
	}
}
