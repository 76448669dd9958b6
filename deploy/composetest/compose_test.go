//go:build composetest

// Package composetest runs the shipped docker-compose.yml for real (with
// docker-compose.local.yml, whose images are built here): a job of demo
// images on the S3 store through CPU workers scaled 1 → 3 while it runs, one
// killed and one stopped. scripts/compose-test.sh (make compose-test) starts
// the private Docker daemon, builds the images and runs this with:
//
//	DOCKER_HOST, DOCKER_CONFIG  the private daemon and the Compose plugin
//	COMPOSE_ENV_FILE            the .env of the run (passwords, job, S3 port)
//	COMPOSE_DEMO_DIR            the demo archive (didicm demo --archive-only)
//	COMPOSE_RESULT              where to write the figures (JSON)
package composetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob"
	"golang.org/x/sync/errgroup"
)

const worker = "worker-cpu"

type stack struct {
	t    *testing.T
	args []string // docker compose's file and env arguments
	env  map[string]string
}

// newStack is the stack of docker-compose.yml and docker-compose.local.yml,
// and of more files (relative to the repository) over them.
func newStack(t *testing.T, more ...string) *stack {
	envFile := os.Getenv("COMPOSE_ENV_FILE")
	if envFile == "" || os.Getenv("DOCKER_HOST") == "" {
		t.Skip("run through scripts/compose-test.sh (make compose-test)")
	}
	env := map[string]string{}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	root, _ := filepath.Abs("../..")
	args := []string{"compose", "--project-directory", root, "--env-file", envFile}
	for _, f := range append([]string{"docker-compose.yml", "docker-compose.local.yml"}, more...) {
		args = append(args, "-f", filepath.Join(root, f))
	}
	return &stack{t: t, env: env, args: append(args, "--profile", "cpu")}
}

// docker runs the docker CLI and returns its standard output.
func (s *stack) docker(args ...string) string {
	s.t.Helper()
	out, err := s.try(args...)
	if err != nil {
		s.t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (s *stack) try(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, tail(stderr.String()))
	}
	return stdout.String(), nil
}

func (s *stack) compose(args ...string) string {
	s.t.Helper()
	return s.docker(append(slices.Clone(s.args), args...)...)
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// workers are the worker containers now running, by name.
func (s *stack) workers() []string {
	out := s.compose("ps", "--status", "running", "--format", "{{.Name}}", worker)
	return strings.Fields(out)
}

func (s *stack) bucket(name string) *blob.Bucket {
	s.t.Helper()
	os.Setenv("AWS_ACCESS_KEY_ID", s.env["S3_ACCESS_KEY"])
	os.Setenv("AWS_SECRET_ACCESS_KEY", s.env["S3_SECRET_KEY"])
	url := fmt.Sprintf("s3://%s?endpoint=http://127.0.0.1:%s&use_path_style=true&region=us-east-1", name, s.env["S3_PORT"])
	b, err := blob.OpenBucket(context.Background(), url)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { b.Close() })
	return b
}

// figures is what the run measured, written to COMPOSE_RESULT for docs/operations.md.
type figures struct {
	Images              int                `json:"images"`
	ImageSizesMB        map[string]float64 `json:"image_sizes_mb"`
	FirstBatchSeconds   float64            `json:"start_to_first_batch_s"`
	OneWorkerImagesPerS float64            `json:"images_per_s_1_worker"`
	ThreeWorkersPerS    float64            `json:"images_per_s_3_workers"`
	KilledBatches       []string           `json:"killed_worker_batches"`
	KilledBackSeconds   float64            `json:"killed_batch_back_s"`
	JobSeconds          float64            `json:"job_s"`
	RedisKeys           int                `json:"redis_keys"`
}

func TestComposeStackRunsAJobThroughScaledAndKilledWorkers(t *testing.T) {
	s := newStack(t)
	var fig figures
	defer func() {
		if path := os.Getenv("COMPOSE_RESULT"); path != "" {
			data, _ := json.MarshalIndent(fig, "", "  ")
			_ = os.WriteFile(path, data, 0o644)
		}
	}()
	s.compose("down", "--volumes", "--remove-orphans") // a previous run's containers and volumes (this project's own)

	// Redis, the S3 store and the monitor; then the demo archive onto S3.
	s.compose("up", "-d", "--no-build", "--wait", "redis")
	s.compose("up", "-d", "--no-build", "s3", "monitor")
	archive := s.bucket("archive")
	keys := upload(t, archive, filepath.Join(os.Getenv("COMPOSE_DEMO_DIR"), "archive"))
	fig.Images = len(keys)
	t.Logf("uploaded %d files to s3://archive", len(keys))

	// The job is queued before any worker runs, so the first batch measures start-up.
	s.compose("run", "--rm", "--no-deps", "producer")
	start := time.Now()
	s.compose("up", "-d", "--no-build", "--scale", worker+"=1", worker)
	logs := &workerLogs{s: s}
	first := logs.waitFor(t, start, func(l logLine) bool { return l.Msg == "batch done" }, 10*time.Minute)
	fig.FirstBatchSeconds = first.Time.Sub(start).Seconds()
	t.Logf("first batch done %.1f s after `up`", fig.FirstBatchSeconds)

	// One worker for a while, then three.
	time.Sleep(20 * time.Second)
	fig.OneWorkerImagesPerS = logs.rate(t, first.Time, time.Now())
	scaled := time.Now()
	s.compose("up", "-d", "--no-build", "--scale", worker+"=3", worker)
	if n := len(s.workers()); n != 3 {
		t.Fatalf("%d workers running after scaling to 3", n)
	}
	checkWorkers(t, s)
	time.Sleep(20 * time.Second)
	fig.ThreeWorkersPerS = logs.rate(t, scaled.Add(5*time.Second), time.Now())
	t.Logf("images/s: 1 worker %.1f, 3 workers %.1f", fig.OneWorkerImagesPerS, fig.ThreeWorkersPerS)

	// SIGKILL one worker in the middle of a batch, SIGTERM another.
	names := s.workers()
	victim, stopped := names[len(names)-1], names[len(names)-2]
	logs.waitFor(t, time.Now(), func(l logLine) bool { return l.Container == victim && l.Msg == "batch start" }, time.Minute)
	killed := time.Now()
	s.docker("kill", victim)
	s.docker("stop", stopped)
	t.Logf("killed %s, stopped %s", victim, stopped)

	summary := waitSummary(t, s, 15*time.Minute)
	fig.JobSeconds = time.Since(start).Seconds()
	checkRecords(t, s, keys, summary)

	// The killed worker's batches: started there, never finished there, finished elsewhere.
	all := logs.read(t)
	fig.KilledBatches, fig.KilledBackSeconds = killedBatches(t, all, victim, killed)
	t.Logf("killed worker's batches %v came back after %.1f s", fig.KilledBatches, fig.KilledBackSeconds)
	if stop := stoppedCleanly(all, stopped); !stop {
		t.Fatalf("%s did not log a clean stop after SIGTERM", stopped)
	}

	checkWorkers(t, s)
	fig.RedisKeys = checkRedisKeepsItsAOF(t, s)
	fig.ImageSizesMB = imageSizes(t, s)
	s.compose("down", "--volumes")
}

// upload copies the archive folder into the bucket, eight files at a time,
// and returns its keys.
// TestComposeHAStackFailsOverMidJob runs the stack with
// docker-compose.ha.yml (a replica and three Sentinels, every didicm
// service on the redis-sentinel URL): once two workers have finished a
// batch and the replica has acknowledged every write (WAIT), the master's
// container is SIGKILLed. The Sentinels promote the replica, the workers
// and the producer's job follow it, and the job finishes with exactly one
// record per file, with no step taken.
func TestComposeHAStackFailsOverMidJob(t *testing.T) {
	s := newStack(t, "docker-compose.ha.yml", "deploy/local/docker-compose.ha.yml")
	s.compose("down", "--volumes", "--remove-orphans")
	s.compose("up", "-d", "--no-build", "--wait", "redis", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3")
	s.compose("up", "-d", "--no-build", "s3", "monitor")
	keys := upload(t, s.bucket("archive"), filepath.Join(os.Getenv("COMPOSE_DEMO_DIR"), "archive"))
	s.compose("run", "--rm", "--no-deps", "producer")
	start := time.Now()
	s.compose("up", "-d", "--no-build", "--scale", worker+"=2", worker)
	logs := &workerLogs{s: s}
	logs.waitFor(t, start, func(l logLine) bool { return l.Msg == "batch done" }, 10*time.Minute)

	redisCLI := func(service string, args ...string) string {
		cmd := `redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ` + strings.Join(args, " ")
		if strings.HasPrefix(service, "sentinel") {
			cmd = "redis-cli -p 26379 " + strings.Join(args, " ")
		}
		return strings.TrimSpace(s.compose("exec", "-T", service, "sh", "-c", cmd))
	}
	if got := redisCLI("sentinel-1", "sentinel", "get-master-addr-by-name", "didicm"); !strings.HasPrefix(got, "redis\n") {
		t.Fatalf("before the kill the Sentinels name %q as master, want redis", got)
	}
	if n := redisCLI("redis", "wait", "1", "5000"); n != "1" {
		t.Fatalf("WAIT 1 5000 on the master: %q replicas acknowledged its writes, want 1", n)
	}
	master := strings.TrimSpace(s.compose("ps", "-q", "redis"))
	s.docker("kill", master)
	killed := time.Now()
	t.Logf("killed the Redis master %.12s %.1f s after the workers started", master, killed.Sub(start).Seconds())
	for {
		if got, _ := s.try(append(slices.Clone(s.args), "exec", "-T", "sentinel-1", "redis-cli", "-p", "26379",
			"sentinel", "get-master-addr-by-name", "didicm")...); strings.HasPrefix(got, "redis-replica\n") {
			break
		}
		if time.Since(killed) > 2*time.Minute {
			t.Fatal("the Sentinels did not promote the replica within 2 minutes")
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the Sentinels promoted redis-replica %.1f s after the kill", time.Since(killed).Seconds())

	summary := waitSummary(t, s, 15*time.Minute)
	checkRecords(t, s, keys, summary)
	t.Logf("job finished %.1f s after the kill", time.Since(killed).Seconds())
	s.compose("down", "--volumes")
}

func upload(t *testing.T, b *blob.Bucket, dir string) []string {
	var keys []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			keys = append(keys, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil || len(keys) == 0 {
		t.Fatalf("upload %s: %d files, %v", dir, len(keys), err)
	}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for _, k := range keys {
		g.Go(func() error {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k)))
			if err != nil {
				return err
			}
			return b.WriteAll(ctx, k, data, nil)
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("upload %s: %v", dir, err)
	}
	return keys
}

type logLine struct {
	Container string
	Time      time.Time `json:"time"`
	Msg       string    `json:"msg"`
	Batch     *int      `json:"batch"`
	Images    int       `json:"images"`
}

// workerLogs reads the JSON logs of every worker container, stopped ones too.
type workerLogs struct{ s *stack }

func (w *workerLogs) read(t *testing.T) []logLine {
	out := w.s.compose("ps", "--all", "--format", "{{.Name}}", worker)
	var lines []logLine
	for _, name := range strings.Fields(out) {
		raw, _ := exec.Command("docker", "logs", name).CombinedOutput() // the JSON log is on stderr
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg != "" {
				l.Container = name
				lines = append(lines, l)
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	return lines
}

// waitFor returns the first line after since that matches.
func (w *workerLogs) waitFor(t *testing.T, since time.Time, match func(logLine) bool, limit time.Duration) logLine {
	t.Helper()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		for _, l := range w.read(t) {
			if l.Time.After(since) && match(l) {
				return l
			}
		}
	}
	t.Fatalf("no such log line from the workers within %s", limit)
	return logLine{}
}

// rate is the images of the batches finished between from and to, per second.
func (w *workerLogs) rate(t *testing.T, from, to time.Time) float64 {
	n := 0
	for _, l := range w.read(t) {
		if l.Msg == "batch done" && l.Time.After(from) && !l.Time.After(to) {
			n += l.Images
		}
	}
	return float64(n) / to.Sub(from).Seconds()
}

func killedBatches(t *testing.T, lines []logLine, victim string, killed time.Time) ([]string, float64) {
	open := map[int]bool{}
	for _, l := range lines {
		if l.Container != victim || l.Batch == nil {
			continue
		}
		switch l.Msg {
		case "batch start":
			open[*l.Batch] = true
		case "batch done":
			delete(open, *l.Batch)
		}
	}
	if len(open) == 0 {
		t.Fatalf("%s had no batch in flight when it was killed", victim)
	}
	var names []string
	var back time.Duration
	for b := range open {
		found := false
		for _, l := range lines {
			if l.Container != victim && l.Msg == "batch done" && l.Batch != nil && *l.Batch == b && l.Time.After(killed) {
				back, found = max(back, l.Time.Sub(killed)), true
				break
			}
		}
		if !found {
			t.Fatalf("batch %d of the killed worker was never finished by another worker", b)
		}
		names = append(names, strconv.Itoa(b))
	}
	sort.Strings(names)
	return names, back.Seconds()
}

func stoppedCleanly(lines []logLine, name string) bool {
	for _, l := range lines {
		if l.Container == name && l.Msg == "worker stopped" {
			return true
		}
	}
	return false
}

func waitSummary(t *testing.T, s *stack, limit time.Duration) map[string]any {
	results := s.bucket("results")
	key := s.env["JOB_ID"] + "/summary.json"
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		data, err := results.ReadAll(context.Background(), key)
		if err != nil {
			continue
		}
		var sum map[string]any
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatalf("summary.json: %v", err)
		}
		return sum
	}
	t.Fatalf("no %s within %s", key, limit)
	return nil
}

// checkRecords: every uploaded file has exactly one record.
func checkRecords(t *testing.T, s *stack, keys []string, summary map[string]any) {
	results := s.bucket("results")
	ctx := context.Background()
	seen := map[string]int{}
	it := results.List(&blob.ListOptions{Prefix: s.env["JOB_ID"] + "/results/"})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := results.ReadAll(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r struct {
				Key string `json:"key"`
			}
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			seen[r.Key]++
		}
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Fatalf("%s has %d records, want 1", k, seen[k])
		}
	}
	if len(seen) != len(keys) {
		t.Fatalf("%d keys have records, %d were uploaded", len(seen), len(keys))
	}
	if n, _ := summary["images"].(float64); int(n) != len(keys) {
		t.Fatalf("summary.json counts %v images, want %d", summary["images"], len(keys))
	}
	t.Logf("%d files, one record each; summary: %v classified, %v errors", len(keys), summary["classified"], summary["errors"])
}

// checkWorkers: /healthz and /metrics answer on each running worker, and no
// process in a worker container runs as root.
func checkWorkers(t *testing.T, s *stack) {
	for _, name := range s.workers() {
		ip := strings.TrimSpace(s.docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", name))
		for _, path := range []string{"/healthz", "/metrics"} {
			var resp *http.Response
			var err error
			for range 30 { // a worker just scaled up may still be starting
				if resp, err = http.Get("http://" + ip + ":9090" + path); err == nil {
					break
				}
				time.Sleep(time.Second)
			}
			if err != nil {
				t.Fatalf("%s %s: %v", name, path, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || path == "/metrics" && !bytes.Contains(body, []byte("didicm_")) {
				t.Fatalf("%s %s: %s %.200s", name, path, resp.Status, body)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(s.docker("top", name, "-eo", "pid,uid,comm")), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 1 && f[1] == "0" {
				t.Fatalf("%s runs %q as root", name, line)
			}
		}
	}
}

// checkRedisKeepsItsAOF restarts Redis and checks that the queue's keys
// came back from the AOF.
func checkRedisKeepsItsAOF(t *testing.T, s *stack) int {
	count := func() (int, string) {
		args := []string{"exec", "-T", "redis", "sh", "-c", `redis-cli -a "$REDIS_PASSWORD" --no-auth-warning --scan | sort`}
		out := s.compose(args...)
		return len(strings.Fields(out)), out
	}
	n, before := count()
	if n == 0 {
		t.Fatal("Redis holds no keys after the job")
	}
	s.compose("restart", "redis")
	s.compose("up", "-d", "--no-build", "--wait", "redis")
	m, after := count()
	if after != before {
		t.Fatalf("Redis keys after restart: %d, before: %d", m, n)
	}
	aof := s.compose("exec", "-T", "redis", "sh", "-c", "ls /data/appendonlydir")
	if !strings.Contains(aof, ".aof") {
		t.Fatalf("no AOF files in /data/appendonlydir: %q", aof)
	}
	return n
}

func imageSizes(t *testing.T, s *stack) map[string]float64 {
	out := s.docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
	sizes := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[0], "didicm") {
			continue
		}
		b, err := strconv.ParseFloat(strings.TrimSpace(s.docker("image", "inspect", "-f", "{{.Size}}", f[1])), 64)
		if err == nil {
			sizes[f[0]] = float64(int(b/1e5)) / 10
		}
	}
	return sizes
}
