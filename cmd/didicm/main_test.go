package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/classify"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// archive writes nested PNGs and broken files; it returns the folder and the image count.
func archive(t *testing.T) (string, int) {
	dir := t.TempDir()
	n := 0
	for i, sub := range []string{"a", "a/b", "c"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		for j := range 3 {
			img := image.NewGray(image.Rect(0, 0, 7, 7))
			for p := range img.Pix {
				img.Pix[p] = uint8((p*31 + i*17 + j*5) % 256)
			}
			f, _ := os.Create(filepath.Join(dir, sub, string(rune('0'+j))+".png"))
			png.Encode(f, img)
			f.Close()
			n++
		}
	}
	os.WriteFile(filepath.Join(dir, "empty.png"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.jpg"), []byte("not an image at all"), 0o644)
	good, _ := os.ReadFile(filepath.Join(dir, "a", "0.png"))
	os.WriteFile(filepath.Join(dir, "c", "truncated.png"), good[:len(good)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "c", "png-named.gif"), good, 0o644)
	return dir, n + 4
}

func records(t *testing.T, out string) []classify.Record {
	t.Helper()
	var recs []classify.Record
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r classify.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestClassifyFolderGivesOneRecordPerFile(t *testing.T) {
	dir, n := archive(t)
	for _, sampler := range []string{"cp", "cl"} {
		out, errs, code := run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--format", "jsonl",
			"--sampler", sampler, "--batch", "5", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		recs := records(t, out)
		if len(recs) != n {
			t.Fatalf("%s: %d records for %d files", sampler, len(recs), n)
		}
		reasons := map[string]string{}
		for _, r := range recs {
			reasons[filepath.Base(r.Key)] = r.ErrorReason
			if r.Error == "" && (len(r.Posterior) != 10 || r.Sampler != sampler) {
				t.Fatalf("record %+v", r)
			}
		}
		want := map[string]string{"empty.png": "empty", "notes.jpg": "unsupported_format", "truncated.png": "corrupt", "png-named.gif": ""}
		for f, reason := range want {
			if reasons[f] != reason {
				t.Errorf("%s: %s has reason %q, want %q", sampler, f, reasons[f], reason)
			}
		}
	}
}

func TestClassifyMatchesAcrossBatchSizes(t *testing.T) {
	dir, _ := archive(t)
	a, _, _ := run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--format", "jsonl", "--batch", "1", dir)
	b, _, _ := run(t, "classify", "--model", "../../testdata/score-k10.onnx", "--format", "jsonl", "--batch", "64", dir)
	if a != b || a == "" {
		t.Fatal("batch size changed the records")
	}
}

func TestTableOutputAndTopK(t *testing.T) {
	dir, n := archive(t)
	out, errs, code := run(t, "classify", "--model", "../../testdata/score-k1000.onnx", "--top-k", "3", dir)
	if code != 0 || !strings.Contains(out, "KEY") || !strings.Contains(out, "images, 3 errors") {
		t.Fatalf("exit %d, out %s, err %s", code, out, errs)
	}
	jl, _, _ := run(t, "classify", "--model", "../../testdata/score-k1000.onnx", "--top-k", "3", "--format", "jsonl", dir)
	recs := records(t, jl)
	if len(recs) != n || recs[0].Error == "" && (len(recs[0].TopK) != 3 || recs[0].Posterior != nil) {
		t.Fatalf("top-k records: %+v", recs[0])
	}
}

func TestFailuresNameTheProblem(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(cfg, []byte("sampler:\n  name: dense\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad sampler in config file", []string{"--config", cfg, "plan", "--classes", "10"}, 2, `config sampler.name: "dense"`},
		{"unknown config key", []string{"--config", writeFile(t, "x.yaml", "samplr:\n  steps: 3\n"), "plan", "--classes", "3"}, 2, "samplr"},
		{"bad steps flag", []string{"classify", "--steps", "-1", "x.png"}, 2, "config sampler.steps: -1"},
		{"missing model", []string{"classify", "--model", "nope.onnx", "../../testdata"}, 1, "nope.onnx"},
		{"model breaking the contract", []string{"model", "inspect", "../../testdata/bad/k-mismatch.onnx"}, 1, "log_score"},
		{"missing input path", []string{"classify", "--model", "../../testdata/score-k10.onnx", "/nonexistent/dir"}, 2, "/nonexistent/dir"},
		{"bad budget", []string{"plan", "--classes", "10", "--memory-budget", "lots"}, 2, "sampler.memory_budget"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := run(t, tt.args...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errs, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, name, body string) string {
	p := filepath.Join(t.TempDir(), name)
	os.WriteFile(p, []byte(body), 0o644)
	return p
}

func TestEnvironmentConfiguresTheSampler(t *testing.T) {
	t.Setenv("DIDICM_SAMPLER_STEPS", "5")
	out, _, code := run(t, "plan", "--classes", "10")
	if code != 0 || !strings.Contains(out, "T=5") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestPlanReportsDenseRefusalAtHugeK(t *testing.T) {
	out, _, code := run(t, "plan", "--classes", "100000", "--memory-budget", "2GiB")
	if code != 0 || !strings.Contains(out, "refused") || !strings.Contains(out, "decision: cp") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestInspectPrintsTheContract(t *testing.T) {
	out, errs, code := run(t, "model", "inspect", "--json", "../../testdata/score-k1000.onnx")
	var info map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if info["num_classes"].(float64) != 1000 || info["kind"] != "score" {
		t.Fatalf("info %v", info)
	}
}

// Log processors (and the compose test) parse the JSON log's time as RFC 3339.
func TestJSONLogTimeIsRFC3339(t *testing.T) {
	var buf bytes.Buffer
	newLogger(&buf, LogConfig{Level: "info", Format: "json"}).Info("hello", "at", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var line struct {
		Time time.Time `json:"time"`
		At   time.Time `json:"at"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line.Time.IsZero() || line.At.Year() != 2026 {
		t.Fatalf("%s: %v", buf.String(), err)
	}
}
