package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/pipeline"
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

func TestStepsFollowTheModelsRecommendationAndMinimum(t *testing.T) {
	dir, _ := archive(t)
	out, errs, code := run(t, "classify", "--model", shippedModel, "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, r := range records(t, out) {
		if r.Error == "" && r.Steps != 8 {
			t.Fatalf("%s ran at T=%d; the model recommends 8", r.Key, r.Steps)
		}
	}
	_, errs, code = run(t, "classify", "--model", shippedModel, "--steps", "1", dir)
	if code != 2 || !strings.Contains(errs, "sampler.steps") || !strings.Contains(errs, "minimum of 4") {
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
			p, err := pipeline.Status(context.Background(), ref)
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
