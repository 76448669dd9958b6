package dicomsr

// spill holds a job's per-image entries by group (a study, or a series)
// with little in memory whatever the records' order: entries are appended
// to a temporary file as the records stream in, and memory keeps only an
// index of where each group's entries are, one run per stretch of
// consecutive entries of one group. A job's records of one study are
// usually consecutive (a PACS source lists study by study; batches follow
// the manifest), so the index is one run per group; records in another
// order cost one more run (24 bytes) per change of group. Reading a group
// back holds that group's entries only, up to a bound.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// spill holds values of type T by key. It is not safe for concurrent use.
type spill[T any] struct {
	f     *os.File
	w     *bufio.Writer
	off   int64
	index map[string]*group
	order []*group
	last  *group
	done  bool // writing ended: the file is flushed
}

type group struct {
	key  string
	n    int
	runs []run
}

// run is a stretch of the file holding consecutive values of one group.
type run struct{ off, len int64 }

// newSpill makes an empty set of groups spilling to a file in dir (empty: the
// system's temporary folder); Close removes it.
func newSpill[T any](dir string) (*spill[T], error) {
	f, err := os.CreateTemp(dir, "didicm-sr-*")
	if err != nil {
		return nil, fmt.Errorf("spill: %w", err)
	}
	return &spill[T]{f: f, w: bufio.NewWriterSize(f, 256<<10), index: map[string]*group{}}, nil
}

// Add appends v to key's group. It fails after Read has been called.
func (g *spill[T]) Add(key string, v T) error {
	if g.done {
		return errors.New("spill: Add after Read")
	}
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	line = append(line, '\n')
	if _, err := g.w.Write(line); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	gr := g.index[key]
	if gr == nil {
		gr = &group{key: key}
		g.index[key] = gr
		g.order = append(g.order, gr)
	}
	if gr == g.last {
		gr.runs[len(gr.runs)-1].len += int64(len(line))
	} else {
		gr.runs = append(gr.runs, run{off: g.off, len: int64(len(line))})
	}
	gr.n++
	g.off += int64(len(line))
	g.last = gr
	return nil
}

// Keys are the keys in the order they were first added.
func (g *spill[T]) Keys() []string {
	out := make([]string, len(g.order))
	for i, gr := range g.order {
		out[i] = gr.key
	}
	return out
}

// Len is how many values key has.
func (g *spill[T]) Len(key string) int {
	if gr := g.index[key]; gr != nil {
		return gr.n
	}
	return 0
}

// Read calls fn with key's values in the order they were added, the
// first limit of them (limit <= 0: all).
func (g *spill[T]) Read(key string, limit int, fn func(T) error) error {
	if !g.done {
		if err := g.w.Flush(); err != nil {
			return fmt.Errorf("spill: %w", err)
		}
		g.done = true
	}
	gr := g.index[key]
	if gr == nil {
		return nil
	}
	seen := 0
	for _, r := range gr.runs {
		dec := json.NewDecoder(bufio.NewReader(io.NewSectionReader(g.f, r.off, r.len)))
		for dec.More() {
			if limit > 0 && seen >= limit {
				return nil
			}
			var v T
			if err := dec.Decode(&v); err != nil {
				return fmt.Errorf("spill: read back %q: %w", key, err)
			}
			seen++
			if err := fn(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close removes the file.
func (g *spill[T]) Close() error {
	return errors.Join(g.f.Close(), os.Remove(g.f.Name()))
}
