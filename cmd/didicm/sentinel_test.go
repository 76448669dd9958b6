package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/sentineltest"
)

// finish runs didicm to its end, killing it after limit, and returns its
// output and exit error.
func finish(t *testing.T, limit time.Duration, args ...string) (string, error) {
	t.Helper()
	cmd, out := didicm(t, args...)
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() }) // a hang fails, not blocks
	err := cmd.Wait()
	timer.Stop()
	return out.String(), err
}

// waitUntil polls cond (a child's output, a folder) until it holds or limit passes.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) { // polling: no signal to wait on
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
	}
}

// countResults is how many batches of the job in dir have results.
func countResults(dir, job string) int {
	files, _ := filepath.Glob(filepath.Join(dir, "out", job, "results", "*.jsonl"))
	return len(files)
}

// oneRecordEach checks that every one of images has exactly one record.
func oneRecordEach(t *testing.T, dir, job string, images int) {
	t.Helper()
	seen := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "out", job, "results", "*.jsonl"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			key := line[strings.Index(line, `"key":"`)+7:]
			key = key[:strings.Index(key, `"`)]
			if seen[key] {
				t.Fatalf("%s has two records", key)
			}
			seen[key] = true
		}
	}
	if len(seen) != images {
		t.Fatalf("%d records for %d images", len(seen), images)
	}
}

// Every command that reaches Redis takes a redis-sentinel URL (with a
// password for the data servers and one for the Sentinels) and never prints
// either password.
func TestEveryCommandTakesASentinelURL(t *testing.T) {
	const dataPW, sentinelPW = "data-Pa55", "sentinel-Pa55"
	d := sentineltest.Start(t, sentineltest.Options{Password: dataPW, SentinelPassword: sentinelPW})
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 40)
	url := "file://" + dir
	job := []string{"--job", "ha", "--output", url, "--output-prefix", "out", "--redis", d.URL()}
	var printed strings.Builder
	run := func(args ...string) string {
		t.Helper()
		out, err := finish(t, 2*time.Minute, args...)
		printed.WriteString(out)
		if err != nil {
			t.Fatalf("didicm %s: %v\n%s", args[0], err, out)
		}
		return out
	}
	if out := run(append([]string{"enqueue", "--input", url, "--input-prefix", "in", "--model", "../../testdata/score-k10.onnx",
		"--batch-size", "10"}, job...)...); !strings.Contains(out, "queued 4") {
		t.Fatalf("enqueue: %s", out)
	}
	if out := run(append([]string{"status"}, job...)...); !strings.Contains(out, "pending 40 images") {
		t.Fatalf("status before any worker: %s", out)
	}
	t.Setenv("DIDICM_LOG_FORMAT", "json")
	_, wout := didicm(t, "worker", "--redis", d.URL(), "--model", "../../testdata/score-k10.onnx", "--metrics-addr", "")
	if out := run(append([]string{"status", "--wait", "--every", "100ms"}, job...)...); !strings.Contains(out, "summary written") {
		t.Fatalf("status --wait: %s\nworker: %s", out, wout)
	}
	for _, line := range strings.Split(strings.TrimSpace(wout.String()), "\n") {
		if !json.Valid([]byte(line)) { // go-redis's own messages too (a Sentinel naming the master)
			t.Fatalf("a worker log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(wout.String(), `"component":"go-redis"`) {
		t.Fatalf("go-redis said nothing of the Sentinels through the log: %s", wout)
	}
	if out := run(append([]string{"retry"}, job...)...); !strings.Contains(out, "re-queued 0 failed batches") {
		t.Fatalf("retry: %s", out)
	}
	checkMonitor(t, d.URL(), &printed)
	bad := strings.Replace(d.URL(), dataPW, "wrong-Pa55", 1)
	out, err := finish(t, time.Minute, "worker", "--redis", bad, "--model", "../../testdata/score-k10.onnx", "--metrics-addr", "")
	printed.WriteString(out + wout.String())
	if err == nil || !strings.Contains(strings.ToLower(out), "pass") {
		t.Fatalf("a worker with a wrong password: %v, %q; want a failure at start saying why", err, out)
	}
	for _, pw := range []string{dataPW, sentinelPW, "wrong-Pa55"} {
		if strings.Contains(printed.String(), pw) {
			t.Fatalf("a command printed the password %q:\n%s", pw, printed.String())
		}
	}
}

// checkMonitor starts the Asynq UI on a Sentinel URL and asks it for the queues.
func checkMonitor(t *testing.T, redisURL string, printed *strings.Builder) {
	t.Helper()
	cmd, out := didicm(t, "monitor", "--redis", redisURL, "--addr", "127.0.0.1:0")
	var base string
	waitUntil(t, "the monitor prints its address", 30*time.Second, func() bool {
		i := strings.Index(out.String(), "http://")
		if i >= 0 && strings.Contains(out.String()[i:], "/\n") {
			base = strings.TrimSpace(out.String()[i:])
		}
		return base != ""
	})
	resp, err := http.Get(base + "api/queues")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), modelQueue(t, "../../testdata/score-k10.onnx")) {
		t.Fatalf("GET %sapi/queues: %d %.300s", base, resp.StatusCode, body)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("monitor after SIGTERM: %v", err)
	}
	printed.WriteString(out.String())
}
