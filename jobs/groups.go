package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/didicm/didicm/storage"
)

// A job's answers per group, written beside its records by the studies
// writer (package output) from its records (package grouping):
//
//	studies.jsonl    one line per DICOM study
//	series.jsonl     one line per DICOM series
//	events.jsonl     one line per event: uncertain frames of a video or log topic close in time
//	timelines.jsonl  one line per video or log topic: its uncertainty over time
//
// Each is JSON Lines with a format_version in every line; a file is there
// only when the job has something to put in it.

// GroupFile names one of a job's group files.
type GroupFile string

// The group files.
const (
	StudiesFile   GroupFile = "studies.jsonl"
	SeriesFile    GroupFile = "series.jsonl"
	EventsFile    GroupFile = "events.jsonl"
	TimelinesFile GroupFile = "timelines.jsonl"
)

// GroupFiles are every group file, in the order a writer writes them.
var GroupFiles = []GroupFile{StudiesFile, SeriesFile, EventsFile, TimelinesFile}

// Group is where the job keeps group file f.
func (l Layout) Group(f GroupFile) string { return l.key(string(f)) }

// WriteGroupFile writes group file f as write produces it, or removes it
// when write writes nothing. Readers see the whole new file or the old
// one: a write that fails leaves the old one in place.
func (s *Store) WriteGroupFile(ctx context.Context, f GroupFile, write func(io.Writer) error) error {
	if err := f.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var w io.WriteCloser
	lazy := lazyWriter{open: func() (io.Writer, error) {
		var err error
		w, err = s.bucket.NewWriter(ctx, s.lay.Group(f), "application/x-ndjson")
		return w, err
	}}
	buf := bufio.NewWriterSize(&lazy, 256<<10)
	err := write(buf)
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		if w != nil {
			cancel()
			_ = w.Close() // discards the partial object: its error says only that
		}
		return fmt.Errorf("write %s: %w", s.lay.Group(f), err)
	}
	if w == nil {
		return s.bucket.Delete(ctx, s.lay.Group(f))
	}
	return w.Close()
}

// OpenGroupFile opens group file f for reading line by line;
// storage.ErrNotFound means the job has none.
func (s *Store) OpenGroupFile(ctx context.Context, f GroupFile) (io.ReadCloser, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	return s.bucket.NewReader(ctx, s.lay.Group(f))
}

// MaxGroupLine bounds one line of a group file as EachGroupLine reads it.
const MaxGroupLine = 64 << 20

// EachGroupLine decodes each line of store's group file f as T, in order;
// a job without the file (finished before group files, or with nothing to
// put in one) has no lines.
func EachGroupLine[T any](ctx context.Context, store *Store, f GroupFile, fn func(T)) error {
	r, err := store.OpenGroupFile(ctx, f)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxGroupLine)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return fmt.Errorf("%s line %d: %w", f, n, err)
		}
		fn(v)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	return nil
}

func (f GroupFile) check() error {
	for _, g := range GroupFiles {
		if f == g {
			return nil
		}
	}
	return fmt.Errorf("group file %q: want one of %v", string(f), GroupFiles)
}

// lazyWriter opens its writer on the first byte written.
type lazyWriter struct {
	open func() (io.Writer, error)
	w    io.Writer
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if l.w == nil && len(p) > 0 {
		w, err := l.open()
		if err != nil {
			return 0, err
		}
		l.w = w
	}
	if l.w == nil {
		return 0, nil
	}
	return l.w.Write(p)
}
