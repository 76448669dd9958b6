// Package labelcsv reads the labels CSV that `didicm calibrate --labels`
// and `didicm report --labels` take: one row per labelled image, a key and
// its label. A first row with a column named "key" is a header: the label
// is the column named "label", "class", "class_index" or "index" (the first
// of these present), and any other column (a site, a reader, a date) is
// ignored, in any order. Without a header the first two columns are key and
// label and the rest are ignored. Every row has as many columns as the
// first (encoding/csv's rule), a UTF-8 byte-order mark is skipped, and
// spaces after a comma are not part of a value.
package labelcsv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// LabelColumns are the names a header's label column may have, in the
// order they are looked for.
var LabelColumns = []string{"label", "class", "class_index", "index"}

// Row is one labelled key.
type Row struct {
	Line  int // the row's line in the file, 1-based
	Key   string
	Label string // with surrounding spaces removed
}

// Reader reads rows.
type Reader struct {
	cr         *csv.Reader
	key, label int
	first      []string // a first row that was not a header, or nil
	// LabelColumn is the header's name for the label column, lower case
	// ("label", "class", "class_index" or "index"), or "" without a header.
	LabelColumn string
}

// NewReader reads r's first row: the header, if it is one.
func NewReader(r io.Reader) (*Reader, error) { return NewReaderFor(r, "key") }

// NewReaderFor is NewReader for rows keyed by something else: a first row
// with a column of one of keyNames (the first present) is the header.
// Study labels are read with NewReaderFor(r, "study_uid", "key").
func NewReaderFor(r io.Reader, keyNames ...string) (*Reader, error) {
	cr := csv.NewReader(skipBOM(r))
	cr.TrimLeadingSpace = true
	rd := &Reader{cr: cr, label: 1, key: -1}
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return rd, nil
	}
	if err != nil {
		return nil, err
	}
	for _, name := range keyNames {
		if rd.key < 0 {
			rd.key = column(head, name)
		}
	}
	if rd.key < 0 {
		if len(head) < 2 {
			return nil, fmt.Errorf("line 1: %d column, want key and label", len(head))
		}
		rd.key, rd.first = 0, head
		return rd, nil
	}
	for _, name := range LabelColumns {
		if rd.label = column(head, name); rd.label >= 0 {
			rd.LabelColumn = name
			return rd, nil
		}
	}
	return nil, fmt.Errorf("line 1: a header with a key column needs a label column (%s)", strings.Join(LabelColumns, ", "))
}

// Next returns the next row, or io.EOF after the last.
func (r *Reader) Next() (Row, error) {
	rec := r.first
	r.first = nil
	if rec == nil {
		var err error
		if rec, err = r.cr.Read(); err != nil {
			return Row{}, err
		}
	}
	line, _ := r.cr.FieldPos(0)
	return Row{Line: line, Key: rec[r.key], Label: strings.TrimSpace(rec[r.label])}, nil
}

// column is the index of the cell named name (any case, spaces
// around it ignored), or -1.
func column(head []string, name string) int {
	for i, h := range head {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

// skipBOM drops a UTF-8 byte-order mark at the start of r.
func skipBOM(r io.Reader) io.Reader {
	var head [3]byte
	n, err := io.ReadFull(r, head[:])
	if n == 3 && bytes.Equal(head[:], []byte("\ufeff")) {
		return r
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return io.MultiReader(bytes.NewReader(head[:n]), errReader{err})
	}
	return io.MultiReader(bytes.NewReader(head[:n]), r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
