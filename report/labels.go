package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/didicm/didicm/internal/labelcsv"
)

// Labels are the true classes of some of a job's images, by the key of
// their record (the input key, or the key relative to the job's input
// prefix).
type Labels map[string]Label

// Label is an image's true class, by name or by index.
type Label struct {
	Class string // the class name; empty when given by index
	Index int    // the class index; -1 when given by name
}

// matches reports whether a prediction of class (name and index) is right.
func (l Label) matches(class string, index int) bool {
	if l.Class != "" {
		return l.Class == class
	}
	return l.Index == index
}

// ReadLabels reads a labels file: a JSON object from key to label (a
// string is a class name, a whole number a class index), or a CSV of key
// and label as package labelcsv reads it (a header naming the columns, or
// key and label first; other columns ignored), where the label is a class
// name, or a class index when the header's label column is class_index
// (or index).
func ReadLabels(r io.Reader) (Labels, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var ls Labels
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		ls, err = labelsJSON(t)
	} else {
		ls, err = labelsCSV(data)
	}
	if err == nil && len(ls) == 0 {
		err = errors.New("labels: none given")
	}
	return ls, err
}

func labelsJSON(data []byte) (Labels, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("labels JSON: %w", err)
	}
	ls := make(Labels, len(raw))
	for k, v := range raw {
		var name string
		if err := json.Unmarshal(v, &name); err == nil && name != "" {
			ls[k] = Label{Class: name, Index: -1}
			continue
		}
		i, err := strconv.Atoi(string(v))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("labels JSON: key %q: %s: want a class name or a class index", k, v)
		}
		ls[k] = Label{Index: i}
	}
	return ls, nil
}

// labelsCSV reads labelcsv rows: labels are class names, or class indices
// under a class_index (or index) header.
func labelsCSV(data []byte) (Labels, error) {
	r, err := labelcsv.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("labels CSV: %w", err)
	}
	byIndex := r.LabelColumn == "class_index" || r.LabelColumn == "index"
	ls := Labels{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("labels CSV: %w", err)
		}
		if row.Key == "" || row.Label == "" {
			return nil, fmt.Errorf("labels CSV: line %d: empty key or label", row.Line)
		}
		if _, dup := ls[row.Key]; dup {
			return nil, fmt.Errorf("labels CSV: line %d: key %q given twice", row.Line, row.Key)
		}
		if !byIndex {
			ls[row.Key] = Label{Class: row.Label, Index: -1}
			continue
		}
		i, err := strconv.Atoi(row.Label)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("labels CSV: line %d: %q is not a class index", row.Line, row.Label)
		}
		ls[row.Key] = Label{Index: i}
	}
	return ls, nil
}
