package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// corpusFiles copies files of the video and MCAP test corpora into dir/in.
func corpusFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		src := filepath.Join("../../build/video-corpus", n)
		if strings.HasSuffix(n, ".mcap") {
			src = filepath.Join("../../build/mcap-corpus", n)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("%v (make video-corpus mcap-corpus)", err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "in", n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonlRecords reads JSON Lines records by key, failing on a key seen twice.
func jsonlRecords(t *testing.T, into map[string]pipeline.Record, data []byte, what string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r pipeline.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v: %s", what, err, sc.Text())
		}
		if _, dup := into[r.Key]; dup {
			t.Fatalf("%s: %s has two records", what, r.Key)
		}
		into[r.Key] = r
	}
}

// A job over videos and logs cut into 7-second parts gives each sampled
// frame one record, the same records `didicm classify` gives reading each
// file whole, truncated files included.
func TestVideosAndLogsInPartsGiveTheRecordsOfWholeFiles(t *testing.T) {
	files := []string{"h264.mp4", "vp9.webm", "mjpeg.avi", "truncated.mp4", "zstd-indexed.mcap", "truncated.mcap"}
	dir := t.TempDir()
	corpusFiles(t, dir, files...)
	addr := redistest.Start(t)
	model := "../../testdata/score-k10.onnx"
	common := []string{"--model", model, "--every", "1s", "--sampler", "cp", "--steps", "2"}
	enq, out := didicm(t, append([]string{"enqueue", "--redis", "redis://" + addr, "--job", "drive", "--input", "file://" + dir,
		"--input-prefix", "in", "--output", "file://" + dir, "--output-prefix", "out", "--batch-size", "8", "--video-part", "7s"},
		common...)...)
	if err := enq.Wait(); err != nil {
		t.Fatalf("enqueue: %v\n%s", err, out)
	}
	ref := jobs.Ref{OutputURL: "file://" + dir, Prefix: "out", ID: "drive"}
	store, err := jobs.OpenStore(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	man, err := store.ReadManifest(context.Background())
	if err != nil || man.Files != len(files) || len(man.Batches) < 10 {
		t.Fatalf("manifest %+v %v: want %d files cut into parts", man, err, len(files))
	}
	w, wout := didicm(t, "worker", "--redis", "redis://"+addr, "--model", model, "--metrics-addr", "")
	defer w.Process.Kill()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		p, err := pipeline.Status(context.Background(), ref, pipeline.Queue{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Summarized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish: %+v\n%s", p, wout)
		}
		time.Sleep(200 * time.Millisecond) // polling storage
	}
	job := map[string]pipeline.Record{}
	for i := range man.Batches {
		data, err := store.ReadResults(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		jsonlRecords(t, job, data, fmt.Sprintf("batch %d", i))
	}
	whole := map[string]pipeline.Record{}
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, "in", f))
	}
	cmd := exec.Command(os.Args[0], append(append([]string{"classify", "--format", "jsonl"}, common...), paths...)...)
	cmd.Env = append(os.Environ(), "DIDICM_TEST_AS_MAIN=1")
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("classify: %v", err)
	}
	jsonlRecords(t, whole, []byte(strings.ReplaceAll(string(data), dir+"/", "")), "classify")
	for key, r := range job {
		if k, err := recordkey.Parse(key); err == nil && k.Spanned { // a part's own failure: the file's, read whole
			delete(job, key)
			key = k.Object
			job[key] = r
		}
		if _, ok := whole[key]; !ok {
			t.Errorf("the job's %s (%s) is not among classify's records", key, r.Error)
		}
	}
	if len(job) != len(whole) || len(job) < 100 {
		t.Fatalf("the job gave %d records, classify %d", len(job), len(whole))
	}
	for key, want := range whole {
		got, ok := job[key]
		if !ok {
			t.Fatalf("classify's %s is not among the job's records", key)
		}
		if got.Class != want.Class || got.ErrorReason != want.ErrorReason || math.Abs(got.MaxProb-want.MaxProb) > 1e-6 ||
			got.Topic != want.Topic || (got.T == nil) != (want.T == nil) || got.T != nil && *got.T != *want.T {
			t.Fatalf("%s: job %+v\nclassify %+v", key, got.Record, want.Record)
		}
	}
}

// A sampled video frame classifies as the frame the ffmpeg CLI extracts at
// that time (ffmpeg -ss T -frames:v 1, written as a PNG and read as one):
// the same class, and a posterior within postTolerance. The two differ only
// in scaling: FFmpeg's swscale scales the frame in the decoder, the PNG is
// scaled by imaging's area resampling.
func TestSampledFramesMatchFFmpegsFramesAtTheirTimes(t *testing.T) {
	const postTolerance = 0.05 // measured: at most 0.034 over these 12 frames
	dir := t.TempDir()
	corpusFiles(t, dir, "h264.mp4", "hevc.mkv", "vfr.mp4")
	model := "../../models/didirn-mnist-7px-5pct.onnx"
	for _, f := range []string{"h264.mp4", "hevc.mkv", "vfr.mp4"} {
		video := filepath.Join(dir, "in", f)
		recs := map[string]pipeline.Record{}
		jsonlRecords(t, recs, runClassify(t, "--model", model, "--every", "2500ms", "--format", "jsonl", video), f)
		for _, at := range []string{"0.000", "5.000", "12.500", "27.500"} {
			png := filepath.Join(dir, fmt.Sprintf("%s-%s.png", f, at))
			ff := exec.Command("ffmpeg", "-loglevel", "error", "-ss", at, "-i", video, "-frames:v", "1", png)
			if out, err := ff.CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v %s", err, out)
			}
			ref := map[string]pipeline.Record{}
			jsonlRecords(t, ref, runClassify(t, "--model", model, "--format", "jsonl", png), png)
			want := ref[png]
			got, ok := firstAtOrAfter(recs, at)
			if !ok {
				t.Fatalf("%s has no record at or after %s s", f, at)
			}
			diff := 0.0
			for i := range want.Posterior {
				diff = math.Max(diff, math.Abs(got.Posterior[i]-want.Posterior[i]))
			}
			t.Logf("%s at %s s: class %s, largest posterior difference %.4f", f, at, got.Class, diff)
			if got.Class != want.Class || diff > postTolerance {
				t.Fatalf("%s at %s s: %s %v; ffmpeg's frame %s %v", f, at, got.Class, got.Posterior, want.Class, want.Posterior)
			}
		}
	}
}

// firstAtOrAfter is the record with the least time at or after at (in
// seconds): the frame a sample time takes, as ffmpeg -ss takes it.
func firstAtOrAfter(recs map[string]pipeline.Record, at string) (pipeline.Record, bool) {
	var want float64
	fmt.Sscan(at, &want)
	var best pipeline.Record
	found := false
	for _, r := range recs {
		if r.T != nil && *r.T >= want && (!found || *r.T < *best.T) {
			best, found = r, true
		}
	}
	return best, found
}

// runClassify runs didicm classify and returns its standard output.
func runClassify(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"classify"}, args...)...)
	cmd.Env = append(os.Environ(), "DIDICM_TEST_AS_MAIN=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("classify %v: %v", args, err)
	}
	return out
}

// enqueue --sr series asks the job for structured reports: the worker
// writes one per series of the DICOM corpus when the job finishes, each a
// file dciodvfy finds no error in.
func TestEnqueueSRAsksTheWorkerForReports(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Glob("../../dicomweb/testdata/corpus/head-mr-*")
	if err != nil || len(src) == 0 {
		t.Fatalf("corpus: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range src {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "in", filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := redistest.Start(t)
	model := "../../models/didirn-mnist-7px-5pct.onnx"
	enq, out := didicm(t, "enqueue", "--redis", "redis://"+addr, "--job", "mr", "--model", model, "--input", "file://"+dir,
		"--input-prefix", "in", "--output", "file://"+dir, "--output-prefix", "out", "--sr", "series")
	if err := enq.Wait(); err != nil {
		t.Fatalf("enqueue: %v\n%s", err, out)
	}
	w, wout := didicm(t, "worker", "--redis", "redis://"+addr, "--model", model, "--metrics-addr", "")
	defer w.Process.Kill()
	deadline := time.Now().Add(2 * time.Minute)
	var reports []string
	for len(reports) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no reports for the two series: %v\n%s", reports, wout)
		}
		time.Sleep(200 * time.Millisecond) // polling storage
		reports, _ = filepath.Glob(filepath.Join(dir, "out", "mr", "sr", "*", "*.dcm"))
	}
	for _, r := range reports {
		check, err := exec.Command("dciodvfy", r).CombinedOutput()
		if strings.Contains(string(check), "Error") || err != nil && !strings.Contains(err.Error(), "exit status") {
			t.Fatalf("dciodvfy %s: %v\n%s", r, err, check)
		}
	}
	// The finished job exports a report per study too; with another
	// model it is refused.
	exp, eout := didicm(t, "export", "--to", "sr", "--job", "mr", "--output", "file://"+dir, "--output-prefix", "out", "--model", model)
	if err := exp.Wait(); err != nil {
		t.Fatalf("export --to sr: %v\n%s", err, eout)
	}
	if studies, _ := filepath.Glob(filepath.Join(dir, "out", "mr", "sr", "*.dcm")); len(studies) != 1 {
		t.Fatalf("export --to sr wrote %v, want the study's one report", studies)
	}
	other, oout := didicm(t, "export", "--to", "sr", "--job", "mr", "--output", "file://"+dir, "--output-prefix", "out",
		"--model", "../../testdata/score-k10.onnx")
	if err := other.Wait(); err == nil || !strings.Contains(oout.String(), "classified with model") {
		t.Fatalf("export --to sr with another model: %v\n%s", err, oout)
	}
}
