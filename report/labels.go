package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
// string is a class name, a whole number a class index), or CSV rows of
// key,label where the label is a class name. A first CSV row whose key
// column is "key" is a header; its second column "class_index" (or
// "index") says the labels are class indices.
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

func labelsCSV(data []byte) (Labels, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	ls := Labels{}
	byIndex := false
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("labels CSV: %w", err)
		}
		key, label := rec[0], strings.TrimSpace(rec[1])
		if row == 1 && strings.EqualFold(key, "key") {
			byIndex = strings.EqualFold(label, "class_index") || strings.EqualFold(label, "index")
			continue
		}
		if key == "" || label == "" {
			return nil, fmt.Errorf("labels CSV: row %d: empty key or label", row)
		}
		if _, dup := ls[key]; dup {
			return nil, fmt.Errorf("labels CSV: row %d: key %q given twice", row, key)
		}
		if !byIndex {
			ls[key] = Label{Class: label, Index: -1}
			continue
		}
		i, err := strconv.Atoi(label)
		if err != nil || i < 0 {
			return nil, fmt.Errorf("labels CSV: row %d: %q is not a class index", row, label)
		}
		ls[key] = Label{Index: i}
	}
	return ls, nil
}
