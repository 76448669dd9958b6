package pipeline

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/recordkey"
	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

// seriesSelector is a source that lists only the series rules select (a
// DICOMweb source).
type seriesSelector interface {
	SelectSeries([]dicomweb.SeriesRule) error
}

// manifestWriters is how many batch manifests a producer writes at once
// while it lists.
const manifestWriters = 8

// snapshot lists the input and, as keys stream in, writes a batch manifest
// per BatchSize keys, then the spec and, last, the manifest index (its
// presence means the snapshot is complete). It holds at most
// manifestWriters+1 batches of keys, whatever the archive's size.
func snapshot(ctx context.Context, spec jobs.Spec, store *jobs.Store, listWorkers int, listed *reporter) (_ jobs.Manifest, err error) {
	defer listed.finish(&err)
	in, err := source.Open(ctx, spec.InputURL)
	if err != nil {
		return jobs.Manifest{}, err
	}
	defer in.Close()
	if b, ok := in.(*storage.Bucket); ok {
		b.ListWorkers = listWorkers
	}
	if len(spec.SeriesRules) > 0 {
		sel, ok := in.(seriesSelector)
		if !ok {
			return jobs.Manifest{}, fmt.Errorf("job %s: series_rules need a DICOMweb input", spec.ID)
		}
		if err := sel.SelectSeries(spec.SeriesRules); err != nil {
			return jobs.Manifest{}, err
		}
	}
	prefix := spec.InputPrefix
	if prefix != "" && prefix[len(prefix)-1] != '/' {
		prefix += "/"
	}
	w := newBatchWriter(ctx, store, spec.BatchSize)
	files := 0
	err = in.Walk(ctx, prefix, storage.Filter{Include: spec.Include, Exclude: spec.Exclude}, func(o storage.Object) error {
		listed.add(1)
		files++
		return addEntries(ctx, in, spec, o.Key, w)
	})
	sizes, werr := w.close()
	switch {
	case ctx.Err() != nil:
		return jobs.Manifest{}, fmt.Errorf("listing stopped after %d keys; nothing is queued, and the next run lists again: %w",
			listed.done(), context.Cause(ctx))
	case err != nil:
		return jobs.Manifest{}, err
	case werr != nil:
		return jobs.Manifest{}, werr
	case len(sizes) == 0:
		return jobs.Manifest{}, fmt.Errorf("job %s: no objects under %s%s match", spec.ID, spec.InputURL, prefix)
	}
	spec.EntryKeys = true
	if err := store.WriteSpec(ctx, spec); err != nil {
		return jobs.Manifest{}, err
	}
	man := jobs.Manifest{JobID: spec.ID, Files: files, Batches: sizes, Created: time.Now().UTC().Format(time.RFC3339)}
	for _, n := range sizes {
		man.Images += n
	}
	if err := store.WriteManifest(ctx, man); err != nil {
		return jobs.Manifest{}, err
	}
	return man, store.DeleteBatchKeysFrom(ctx, len(sizes))
}

// batchWriter cuts a stream of entries into batches of about size images
// and writes each batch's manifest, manifestWriters at a time.
type batchWriter struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	store  *jobs.Store
	size   int
	keys   []string
	weight int   // the images expected of keys
	sizes  []int // the images expected of each batch
	jobs   chan batchKeys
	wg     sync.WaitGroup
}

type batchKeys struct {
	index int
	keys  []string
}

func newBatchWriter(ctx context.Context, store *jobs.Store, size int) *batchWriter {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &batchWriter{ctx: ctx, cancel: cancel, store: store, size: size, jobs: make(chan batchKeys)}
	for range manifestWriters {
		w.wg.Add(1)
		go w.run()
	}
	return w
}

func (w *batchWriter) run() {
	defer w.wg.Done()
	for b := range w.jobs {
		if w.ctx.Err() != nil {
			continue
		}
		if err := w.store.WriteBatchKeys(w.ctx, b.index, b.keys); err != nil {
			w.cancel(fmt.Errorf("write manifest of batch %d: %w", b.index, err))
		}
	}
}

// add takes the next entry, expected to give images images; it fails once
// a manifest write has failed.
func (w *batchWriter) add(key string, images int) error {
	if w.keys == nil {
		w.keys = make([]string, 0, w.size)
	}
	w.keys = append(w.keys, key)
	if w.weight += max(1, images); w.weight < w.size {
		return nil
	}
	return w.flush()
}

func (w *batchWriter) flush() error {
	if len(w.keys) == 0 {
		return nil
	}
	if len(w.sizes) == jobs.MaxBatches {
		return fmt.Errorf("more than %d batches: raise batch_size (%d)", jobs.MaxBatches, w.size)
	}
	b := batchKeys{index: len(w.sizes), keys: w.keys}
	w.sizes = append(w.sizes, w.weight)
	w.keys, w.weight = nil, 0
	select {
	case w.jobs <- b:
		return nil
	case <-w.ctx.Done():
		return context.Cause(w.ctx)
	}
}

// close writes the last, partial batch, waits for every write and returns
// the batch sizes in order.
func (w *batchWriter) close() ([]int, error) {
	err := w.flush()
	close(w.jobs)
	w.wg.Wait()
	if err == nil {
		err = context.Cause(w.ctx)
	}
	w.cancel(nil)
	return w.sizes, err
}

// addEntries adds a listed object to the manifest: one entry, or for a long
// video or log (recognised by its name, measured by its header) one entry
// per part of jobs.Sampling.PartLength.
func addEntries(ctx context.Context, in source.Source, spec jobs.Spec, key string, w *batchWriter) error {
	k := recordkey.Of(key)
	b, ok := in.(*storage.Bucket)
	if !ok || !mayHoldParts(key) {
		return w.add(k.String(), 1)
	}
	d, rate, ok := measure(ctx, b, key)
	if !ok || d <= 0 {
		return w.add(k.String(), 1) // the worker says what is wrong with it
	}
	part := spec.Sampling.PartLength(spec.BatchSize, rate)
	per := max(1, spec.BatchSize*int(min(d, part)/time.Millisecond)/int(part/time.Millisecond))
	if d <= part {
		return w.add(k.String(), per)
	}
	for from := time.Duration(0); from < d; from += part {
		to := from + part
		if to >= d {
			to = 0 // the last part runs to the end, whatever the header said
		}
		if err := w.add(k.Span(from, to).String(), per); err != nil {
			return err
		}
	}
	return nil
}

// partExtensions name the files a producer measures to cut into parts:
// videos and MCAP logs. Files are recognised by content when they are
// read; a video under another name is one entry, read whole.
var partExtensions = []string{".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mcap"}

func mayHoldParts(key string) bool {
	ext := strings.ToLower(path.Ext(key))
	return slices.Contains(partExtensions, ext)
}

// measure reads a video's or log's header for its duration and rate.
func measure(ctx context.Context, b *storage.Bucket, key string) (time.Duration, float64, bool) {
	r, err := b.OpenRange(ctx, key)
	if err != nil {
		return 0, 0, false
	}
	d, rate, ok, err := imaging.Measure(ctx, r)
	return d, rate, ok && err == nil
}
