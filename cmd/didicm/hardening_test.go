package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/pipeline"
	"google.golang.org/protobuf/encoding/protowire"
)

const shippedModel = "../../models/didirn-mnist-7px-5pct.onnx"

func TestEnqueueRefusesAMissingModel(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 3)
	url := "file://" + dir
	_, errs, code := run(t, "enqueue", "--redis", "redis://127.0.0.1:1", "--job", "j", "--input", url, "--input-prefix", "in",
		"--output", url, "--model", "/nonexistent.onnx")
	if code != 2 || !strings.Contains(errs, "/nonexistent.onnx") {
		t.Fatalf("exit %d, %q; want 2 naming the model", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "j")); err == nil {
		t.Fatal("the refused job wrote to the output bucket")
	}
}

// withAdvice copies a score model without step advice and appends
// didicm.recommended_steps and didicm.min_steps to its metadata_props
// (ModelProto field 14, a repeated key/value message): a model whose advice
// differs from the sampler's default T of 2.
func withAdvice(t *testing.T, src string, recommended, minimum int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"didicm.recommended_steps", fmt.Sprint(recommended)}, {"didicm.min_steps", fmt.Sprint(minimum)}} {
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, kv[0])
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendString(entry, kv[1])
		b = protowire.AppendTag(b, 14, protowire.BytesType)
		b = protowire.AppendBytes(b, entry)
	}
	path := filepath.Join(t.TempDir(), "advised.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStepsFollowTheModelsRecommendationAndMinimum(t *testing.T) {
	dir, _ := archive(t)
	out, errs, code := run(t, "model", "inspect", "--json", shippedModel)
	var meta struct {
		RecommendedSteps int `json:"recommended_steps"`
		MinSteps         int `json:"min_steps"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &meta) != nil {
		t.Fatalf("model inspect: exit %d: %s", code, errs)
	}
	if meta.RecommendedSteps != 2 || meta.MinSteps != 2 {
		t.Fatalf("the shipped DiDiRN advises T=%d, minimum %d; its model card says 2 and 2", meta.RecommendedSteps, meta.MinSteps)
	}
	// A model whose advice is not the sampler's default runs at its advice.
	advised := withAdvice(t, "../../testdata/score-k10.onnx", 3, 3)
	out, errs, code = run(t, "classify", "--model", advised, "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, r := range records(t, out) {
		if r.Error == "" && r.Steps != 3 {
			t.Fatalf("%s ran at T=%d; the model recommends 3", r.Key, r.Steps)
		}
	}
	_, errs, code = run(t, "classify", "--model", advised, "--steps", "2", dir)
	if code != 2 || !strings.Contains(errs, "sampler.steps") || !strings.Contains(errs, "minimum of 3") {
		t.Fatalf("T=2 below the minimum: exit %d, %q; want 2 naming sampler.steps", code, errs)
	}
	_, errs, code = run(t, "classify", "--model", shippedModel, "--steps", "1", dir)
	if code != 2 || !strings.Contains(errs, "sampler.steps") || !strings.Contains(errs, "minimum of 2") {
		t.Fatalf("T=1 below the minimum: exit %d, %q; want 2 naming sampler.steps", code, errs)
	}
	out, errs, code = run(t, "classify", "--model", shippedModel, "--steps", "1", "--force-steps", "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("--force-steps: exit %d: %s", code, errs)
	}
	if recs := records(t, out); len(recs) == 0 || recs[0].Steps != 1 {
		t.Fatalf("--force-steps did not run T=1: %+v", recs)
	}
	// A model without advice keeps the sampler's default and any T.
	out, _, code = run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--format", "jsonl", dir)
	if recs := records(t, out); code != 0 || recs[0].Steps != 2 {
		t.Fatalf("model without advice: exit %d, steps %d", code, recs[0].Steps)
	}
}

func TestTheDefaultModelIsFoundFromAnotherFolder(t *testing.T) {
	dir, _ := archive(t)
	// The tests run in cmd/didicm, two folders below the shipped models/.
	if _, errs, code := run(t, "classify", dir); code != 0 {
		t.Fatalf("default model from cmd/didicm: exit %d: %s", code, errs)
	}
	t.Chdir(t.TempDir())
	_, errs, code := run(t, "classify", dir)
	if code != 2 || !strings.Contains(errs, "config model") || !strings.Contains(errs, DefaultModel) {
		t.Fatalf("no model anywhere: exit %d, %q; want 2 saying where it looked", code, errs)
	}
}

func TestAMixedFleetRoutesEachJobToItsModel(t *testing.T) {
	addr := redistest.Start(t)
	redisURL := "redis://" + addr
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 40)
	url := "file://" + dir
	models := map[string]string{"small": "../../testdata/score-k10.onnx", "large": "../../testdata/score-k1000.onnx"}
	for _, m := range models {
		didicm(t, "worker", "--redis", redisURL, "--model", m, "--metrics-addr", "")
	}
	for id, m := range models {
		_, errs, code := run(t, "enqueue", "--redis", redisURL, "--job", id, "--input", url, "--input-prefix", "in",
			"--output", url, "--model", m, "--batch-size", "8")
		if code != 0 {
			t.Fatalf("enqueue %s: exit %d: %s", id, code, errs)
		}
	}
	for id, m := range models {
		want, _ := modelmeta.FileSHA256(m)
		ref := jobs.Ref{OutputURL: url, ID: id}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			p, err := pipeline.Status(context.Background(), ref, pipeline.Queue{})
			if err != nil {
				t.Fatal(err)
			}
			if p.FailedBatches > 0 {
				t.Fatalf("job %s: batches failed: %+v", id, p.Failures)
			}
			if p.Summarized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s did not finish: %+v", id, p)
			}
			time.Sleep(100 * time.Millisecond) // polling storage
		}
		store, err := jobs.OpenStore(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		var sum pipeline.Summary
		if err := store.ReadSummary(context.Background(), &sum); err != nil {
			t.Fatal(err)
		}
		store.Close()
		if len(sum.Models) != 1 || sum.Models[want] != 40 {
			t.Fatalf("job %s ran on models %v, want all 40 images on %s", id, sum.Models, want[:12])
		}
	}
}

func TestBadNumbersAreRefusedByName(t *testing.T) {
	dir, _ := archive(t)
	url := "file://" + dir
	enqueue := []string{"enqueue", "--redis", "redis://127.0.0.1:1", "--job", "j", "--input", url, "--output", url,
		"--model", "../../testdata/score-k10.onnx"}
	cases := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"negative pixel limit", []string{"classify", dir}, "DIDICM_LIMITS_MAX_PIXELS=-5", "limits.max_pixels"},
		{"zero byte limit", []string{"classify", dir}, "DIDICM_LIMITS_MAX_BYTES=0", "limits.max_bytes"},
		{"negative top-k", []string{"classify", "--top-k", "-1", dir}, "", "--top-k"},
		{"zero batch", []string{"classify", "--batch", "0", dir}, "", "--batch"},
		{"negative batch", []string{"classify", "--batch", "-5", dir}, "", "--batch"},
		{"zero memory budget", []string{"classify", "--memory-budget", "0", dir}, "", "sampler.memory_budget"},
		{"negative plan images", []string{"plan", "--classes", "10", "--images", "-3"}, "", "--images"},
		{"one class", []string{"plan", "--classes", "1"}, "", "--classes 1"},
		{"zero batch size", append(enqueue, "--batch-size", "0"), "", "job.batch_size"},
		{"top-k posterior with k 0", append(enqueue, "--posterior", "top-k", "--top-k", "0"), "", "job.top_k"},
		{"review threshold above 1", append(enqueue, "--review-threshold", "2"), "", "job.review_threshold"},
		{"zero poll interval", []string{"status", "--job", "j", "--output", url, "--wait", "--every", "0"}, "", "--every"},
		{"negative poll interval", []string{"status", "--job", "j", "--output", url, "--wait", "--every", "-1s"}, "", "--every"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env != "" {
				k, v, _ := strings.Cut(c.env, "=")
				t.Setenv(k, v)
			}
			out, errs, code := run(t, c.args...)
			if code != 2 || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %s", code, errs, c.want)
			}
			if strings.Contains(out, "K=") || strings.Contains(errs, "goroutine") {
				t.Fatalf("printed before refusing or panicked: %q %q", out, errs)
			}
		})
	}
}

func TestAWrongRedisPasswordFailsAtStartAndIsNeverPrinted(t *testing.T) {
	const secret = "s3cret-Pa55"
	addr := redistest.StartWithPassword(t, "the-right-one")
	redisURL := "redis://:" + secret + "@" + addr
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 2)
	url := "file://" + dir
	for _, args := range [][]string{
		{"monitor", "--addr", "127.0.0.1:0"},
		{"enqueue", "--job", "j", "--input", url, "--input-prefix", "in", "--output", url, "--model", "../../testdata/score-k10.onnx"},
		{"retry", "--job", "j", "--output", url},
		{"worker", "--model", "../../testdata/score-k10.onnx", "--metrics-addr", ""},
	} {
		t.Run(args[0], func(t *testing.T) {
			cmd, out := didicm(t, append(args, "--redis", redisURL, "--log-level", "debug")...)
			timer := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }) // a server that starts anyway fails here
			err := cmd.Wait()
			timer.Stop()
			if err == nil || !strings.Contains(out.String(), "WRONGPASS") && !strings.Contains(out.String(), "NOAUTH") &&
				!strings.Contains(strings.ToLower(out.String()), "auth") {
				t.Fatalf("%s with a wrong password: %v, output %q; want a failure at start saying why", args[0], err, out)
			}
			if strings.Contains(out.String(), secret) {
				t.Fatalf("%s printed the password: %q", args[0], out)
			}
		})
	}
}

func TestAnUnreadableFolderIsAnErrorRecordNotAFailedRun(t *testing.T) {
	root, err := os.MkdirTemp("", "didicm-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755); os.RemoveAll(root) })
	pngArchive(t, root, 6) // s0…s4/NNNN.png
	locked := filepath.Join(root, "locked")
	pngArchive(t, locked, 2)
	for _, p := range []string{root, filepath.Dir(root)} {
		if err := os.Chmod(p, 0o755); err != nil && p == root {
			t.Fatal(err)
		}
	}
	filepath.WalkDir(root, func(p string, d os.DirEntry, _ error) error {
		return os.Chmod(p, map[bool]os.FileMode{true: 0o755, false: 0o644}[d.IsDir()])
	})
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	model, _ := filepath.Abs("../../testdata/score-k10.onnx")
	cmd := exec.Command(os.Args[0], "classify", "--model", model, "--format", "jsonl", root)
	cmd.Env = append(os.Environ(), "DIDICM_TEST_AS_MAIN=1")
	if os.Getenv("ONNXRUNTIME_LIB") == "" { // the child runs elsewhere: name the library found from here
		lib, _ := filepath.Abs("../../.cache/onnxruntime/1.29.0/libonnxruntime.so.1")
		cmd.Env = append(cmd.Env, "ONNXRUNTIME_LIB="+lib)
	}
	if os.Geteuid() == 0 { // root reads anything: run the child as nobody
		exeDir, err := os.MkdirTemp("", "didicm-exe-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(exeDir) })
		if err := os.Chmod(exeDir, 0o755); err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(exeDir, "didicm.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd.Path, cmd.Args[0] = exe, exe
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		cmd.Dir = root
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("classify with an unreadable folder: %v\n%s", err, stderr.String())
	}
	recs := records(t, stdout.String())
	var ok, denied int
	for _, r := range recs {
		switch {
		case r.Error == "":
			ok++
		case r.Key == locked && r.ErrorReason == "read" && strings.Contains(r.Error, "permission denied"):
			denied++
		default:
			t.Errorf("unexpected record %+v", r)
		}
	}
	if ok != 6 || denied != 1 {
		t.Fatalf("%d classified, %d denied records; want 6 and 1 for the locked folder", ok, denied)
	}
}

func TestTheTablePrintsControlCharactersEscaped(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 1)
	src := filepath.Join(dir, "s0", "0000.png")
	evil := filepath.Join(dir, "s0", "x\n\x1b[31mred.png")
	if err := os.Rename(src, evil); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "classify", "--model", "../../testdata/score-k10.onnx", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `x\n\x1b[31mred.png`) {
		t.Fatalf("table printed the name raw: %q", out)
	}
	if !strings.Contains(out, "1 image, 0 errors") {
		t.Fatalf("count line: %q", out)
	}
}

func TestSmallMessagesReadAsPlainWords(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "didicm.yaml")
	if err := os.WriteFile(cfg, []byte("sampler:\n  frobnicate: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "--config", cfg, "plan", "--classes", "10")
	if code != 2 || !strings.Contains(errs, "sampler.frobnicate") || strings.Contains(errs, "main.Config") {
		t.Fatalf("unknown key: exit %d, %q", code, errs)
	}
	out, _, code := run(t, "--version")
	if code != 0 || !strings.Contains(out, "didicm version") {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
	if got := plural(1, "error") + ", " + plural(2001, "image") + ", " + plural(3, "batch"); got != "1 error, 2,001 images, 3 batches" {
		t.Fatalf("plural: %q", got)
	}
}

func TestDICOMRecordsCarryUIDsAndNoPatientData(t *testing.T) {
	out, errs, code := run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--format", "jsonl", "--log-level", "debug", "demodicom")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs := records(t, out)
	if len(recs) != 3 {
		t.Fatalf("%d records for 3 DICOM files", len(recs))
	}
	for _, r := range recs {
		if r.Error != "" || r.StudyUID == "" || r.SeriesUID == "" || r.SOPUID == "" || !strings.HasSuffix(r.Key, r.SOPUID) {
			t.Fatalf("record %+v", r)
		}
	}
	if strings.Contains(out+errs, "DEMO") || strings.Contains(out+errs, "ANON") {
		t.Fatal("the patient name left the header")
	}
}

func TestAdaptiveStepsAreASettingOfTheSampler(t *testing.T) {
	dir, _ := archive(t)
	out, errs, code := run(t, "classify", "--model", shippedModel, "--format", "jsonl", "--settle", "0.9", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, r := range records(t, out) {
		if r.Error == "" && (r.NFE < 1 || r.NFE >= 8) {
			t.Fatalf("%s: %d calls with settle 0.9 at T=8", r.Key, r.NFE)
		}
	}
	if _, errs, code := run(t, "classify", "--model", shippedModel, "--settle", "1.5", dir); code != 2 || !strings.Contains(errs, "sampler.settle") {
		t.Fatalf("settle 1.5: exit %d, %q", code, errs)
	}
}

func TestCalibrateWritesAFileThatGivesRecordsPredictionSets(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 60)
	var csv strings.Builder
	csv.WriteString("key,label\n")
	files, _ := filepath.Glob(filepath.Join(dir, "s*", "*.png"))
	for i, f := range files {
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(&csv, "%s,c%d\n", rel, i%3)
	}
	labels := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(labels, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cal := filepath.Join(t.TempDir(), "cal.json")
	model := "../../testdata/score-k10.onnx"
	out, errs, code := run(t, "calibrate", "--model", model, "--labels", labels, "--alpha", "0.2", "--out", cal, dir)
	if code != 0 || !strings.Contains(out, "coverage") {
		t.Fatalf("calibrate: exit %d, %q, %q", code, out, errs)
	}
	out, errs, code = run(t, "classify", "--model", model, "--calibration", cal, "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("classify --calibration: exit %d: %s", code, errs)
	}
	for _, r := range records(t, out) {
		if r.SetSize == nil || *r.SetSize != len(r.PredictionSet) {
			t.Fatalf("%s: set %v, size %v", r.Key, r.PredictionSet, r.SetSize)
		}
	}
	_, errs, code = run(t, "classify", "--model", "../../testdata/score-k1000.onnx", "--calibration", cal, dir)
	if code != 2 || !strings.Contains(errs, "calibration") {
		t.Fatalf("another model's calibration: exit %d, %q; want 2", code, errs)
	}
	_, errs, code = run(t, "calibrate", "--model", model, "--labels", labels, "--alpha", "1.5", "--out", cal, dir)
	if code != 2 || !strings.Contains(errs, "--alpha") {
		t.Fatalf("alpha 1.5: exit %d, %q", code, errs)
	}
}
