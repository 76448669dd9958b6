package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/internal/sentineltest"
)

// haJob enqueues a job of 3,000 images in 60 batches on the deployment and
// starts two workers (the second's output is returned); it returns the
// folder and the arguments that name the job.
func haJob(t *testing.T, d *sentineltest.Deployment, name string) (string, []string, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 3000)
	url := "file://" + dir
	job := []string{"--job", name, "--output", url, "--output-prefix", "out", "--redis", d.URL()}
	out, err := finish(t, 2*time.Minute, append([]string{"enqueue", "--input", url, "--input-prefix", "in",
		"--model", "../../testdata/score-k10.onnx", "--batch-size", "50", "--sampler", "cp", "--steps", "16"}, job...)...)
	if err != nil || !strings.Contains(out, "queued 60") {
		t.Fatalf("enqueue: %v\n%s", err, out)
	}
	args := []string{"worker", "--redis", d.URL(), "--model", "../../testdata/score-k10.onnx", "--metrics-addr", "",
		"--lost-check", "100ms", "--log-level", "debug"}
	didicm(t, args...)
	_, wout := didicm(t, args...)
	return dir, job, wout
}

// killMasterMidJob waits until done batches have results, then SIGKILLs
// the master and waits until the Sentinels have promoted the replica.
func killMasterMidJob(t *testing.T, d *sentineltest.Deployment, dir, job string, done int, synced bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitUntil(t, "batches done before the kill", 2*time.Minute, func() bool { return countResults(dir, job) >= done })
	if synced {
		if err := d.WaitInSync(ctx); err != nil {
			t.Fatal(err)
		}
	} else if syncing, err := d.ReplicaSyncing(ctx); err != nil || !syncing {
		t.Fatalf("replica still waiting for its first sync: %v, %v", syncing, err)
	}
	d.KillMaster()
	if n := countResults(dir, job); n == 60 {
		t.Fatal("the job ended before the master was killed: nothing was tested")
	}
	start := time.Now()
	if _, err := d.WaitFailover(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("master killed with %d of 60 batches done; the replica took over %.1f s later", countResults(dir, job),
		time.Since(start).Seconds())
}

func TestAJobSurvivesTheMastersDeathWithASyncedReplica(t *testing.T) {
	d := sentineltest.Start(t, sentineltest.Options{Password: "ha-Pa55"})
	dir, job, wout := haJob(t, d, "synced")
	killMasterMidJob(t, d, dir, "synced", 18, true)
	start := time.Now()
	waitUntil(t, "the job's summary after the failover", 4*time.Minute, func() bool {
		_, err := os.Stat(filepath.Join(dir, "out", "synced", "summary.json"))
		return err == nil
	})
	t.Logf("job finished %.1f s after the failover, with no step taken", time.Since(start).Seconds())
	oneRecordEach(t, dir, "synced", 3000)
	out, err := finish(t, time.Minute, append([]string{"status"}, job...)...)
	if err != nil || !strings.Contains(out, "done    3,000 images") || strings.Contains(out, "LOST") {
		t.Fatalf("status after the failover: %v\n%s\nworker: %s", err, out, wout)
	}
}

func TestAnUnsyncedReplicaLosesTheQueueAndRedriveFinishesTheJob(t *testing.T) {
	d := sentineltest.Start(t, sentineltest.Options{Password: "ha-Pa55", Unsynced: true})
	dir, job, wout := haJob(t, d, "unsynced")
	killMasterMidJob(t, d, dir, "unsynced", 12, false)
	// Nothing in the new master: the workers idle, say so, and a plain wait stops instead of hanging.
	if out, err := finish(t, time.Minute, append([]string{"status"}, job...)...); err != nil || !strings.Contains(out, "LOST") {
		t.Fatalf("status on a job Redis lost: %v\n%s", err, out)
	}
	if out, err := finish(t, time.Minute, append([]string{"status", "--redrive"}, job...)...); err == nil || !strings.Contains(out, "--wait") {
		t.Fatalf("status --redrive without --wait: %v\n%s", err, out)
	}
	out, err := finish(t, 2*time.Minute, append([]string{"status", "--wait", "--every", "100ms"}, job...)...)
	if err == nil || !strings.Contains(out, "stalled") {
		t.Fatalf("status --wait on a job Redis lost: %v\n%s", err, out)
	}
	waitUntil(t, "a worker warns of the lost batches", time.Minute, func() bool {
		return strings.Contains(wout.String(), "batches lost from Redis")
	})
	out, err = finish(t, 4*time.Minute, append([]string{"status", "--wait", "--redrive", "--every", "100ms"}, job...)...)
	if err != nil || !strings.Contains(out, "re-queued") || !strings.Contains(out, "summary written") {
		t.Fatalf("status --wait --redrive: %v\n%s\nworker: %s", err, out, wout)
	}
	oneRecordEach(t, dir, "unsynced", 3000)
	if strings.Contains(out+wout.String(), "ha-Pa55") {
		t.Fatal("the password was printed")
	}
}
