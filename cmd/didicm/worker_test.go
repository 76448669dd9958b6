package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/pipeline"
)

// TestMain lets the test binary act as didicm in a subprocess.
func TestMain(m *testing.M) {
	if os.Getenv("DIDICM_TEST_AS_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe to read while the child writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// didicm starts the test binary as didicm with args.
func didicm(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "DIDICM_TEST_AS_MAIN=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}

func pngArchive(t *testing.T, dir string, n int) {
	for i := range n {
		img := image.NewGray(image.Rect(0, 0, 7, 7))
		for p := range img.Pix {
			img.Pix[p] = uint8((p*29 + i*13) % 256)
		}
		path := filepath.Join(dir, fmt.Sprintf("s%d/%04d.png", i%5, i))
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, _ := os.Create(path)
		png.Encode(f, img)
		f.Close()
	}
}

func TestJobSurvivesAWorkerKilledMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test waits for Asynq's lease recovery (30-90 s)")
	}
	addr := redistest.Start(t)
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 1200)
	url := "file://" + dir
	spec := jobs.Spec{ID: "crash", InputURL: url, InputPrefix: "in", OutputURL: url, OutputPrefix: "out",
		BatchSize: 100, Sampler: "cp", Steps: 16, MaxRetry: 3, Queue: modelQueue(t, "../../testdata/score-k10.onnx")}
	c := asynq.NewClient(asynq.RedisClientOpt{Addr: addr})
	defer c.Close()
	if _, err := pipeline.Enqueue(context.Background(), spec, pipeline.Queue{Client: c}); err != nil {
		t.Fatal(err)
	}
	args := []string{"worker", "--redis", "redis://" + addr, "--model", "../../testdata/score-k10.onnx", "--metrics-addr", "",
		"--log-level", "debug"}
	a, aout := didicm(t, args...)
	b, bout := didicm(t, args...)
	results := filepath.Join(dir, "out", "crash", "results")
	// Kill worker a while it is inside a batch: it logged more starts than ends (a batch takes ~0.5 s).
	deadline := time.Now().Add(time.Minute)
	for {
		log := aout.String()
		if strings.Count(log, "batch start") > strings.Count(log, "batch done") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker a never started a batch; a: %s\nb: %s", aout, bout)
		}
		time.Sleep(2 * time.Millisecond) // polling the child's log
	}
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	t.Logf("killed worker a inside a batch (%d started, %d done)", strings.Count(aout.String(), "batch start"),
		strings.Count(aout.String(), "batch done"))
	var p pipeline.Progress
	deadline = time.Now().Add(3 * time.Minute) // the held batch comes back when its lease expires
	for !p.Summarized {
		if time.Now().After(deadline) {
			t.Fatalf("job did not finish after the kill: %+v\nworker b: %s", p, bout)
		}
		time.Sleep(200 * time.Millisecond) // polling storage
		var err error
		if p, err = pipeline.Status(context.Background(), jobs.Ref{OutputURL: url, Prefix: "out", ID: "crash"}, pipeline.Queue{}); err != nil {
			t.Fatal(err)
		}
	}
	recs := 0
	seen := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(results, "*.jsonl"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			key := line[strings.Index(line, `"key":"`)+7:]
			key = key[:strings.Index(key, `"`)]
			if seen[key] {
				t.Fatalf("%s has two records", key)
			}
			seen[key] = true
			recs++
		}
	}
	if recs != 1200 || p.DoneImages != 1200 {
		t.Fatalf("%d records, progress %+v", recs, p)
	}
	// SIGTERM: the surviving worker shuts down cleanly.
	b.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- b.Wait() }()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(bout.String(), "worker stopped") {
			t.Fatalf("worker b after SIGTERM: %v\n%s", err, bout)
		}
	case <-time.After(time.Minute):
		t.Fatal("worker b did not stop after SIGTERM")
	}
}

func TestWorkerFailsFastOnBadSetup(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unreachable redis", []string{"worker", "--redis", "redis://127.0.0.1:1", "--model", "../../testdata/score-k10.onnx", "--metrics-addr", ""}, "redis"},
		{"missing model", []string{"worker", "--redis", "redis://127.0.0.1:1", "--model", "missing.onnx"}, "missing.onnx"},
		{"no redis configured", []string{"enqueue", "--job", "x", "--input", "mem://", "--output", "mem://"}, "redis.url"},
		{"bad redis url", []string{"worker", "--redis", "http://nope"}, "redis.url"},
		{"bad job id", []string{"enqueue", "--job", "Bad/Id", "--input", "mem://", "--output", "mem://", "--redis", "redis://127.0.0.1:1"}, "job spec id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, out := didicm(t, tt.args...)
			timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() }) // a hang fails, not blocks
			err := cmd.Wait()
			timer.Stop()
			if err == nil || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %v, output %q; want failure naming %q", err, out, tt.want)
			}
		})
	}
}

func TestMonitorServesTheAsynqUI(t *testing.T) {
	addr := redistest.Start(t)
	cmd, out := didicm(t, "monitor", "--redis", "redis://"+addr, "--addr", "127.0.0.1:0")
	deadline := time.Now().Add(30 * time.Second)
	var url string
	for url == "" {
		if i := strings.Index(out.String(), "http://"); i >= 0 && strings.Contains(out.String()[i:], "/\n") {
			url = strings.TrimSpace(out.String()[i:])
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor did not start: %s", out)
		}
		time.Sleep(20 * time.Millisecond) // polling the child's output
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(string(body)), "asynq") {
		t.Fatalf("GET %s: %d %.200s", url, resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor after SIGTERM: %v", err)
	}
}

// modelQueue is the queue a worker with this model listens on by default.
func modelQueue(t *testing.T, path string) string {
	t.Helper()
	sha, err := modelmeta.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return jobs.ModelQueue(sha)
}
