package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/didicm/didicm/internal/redistest"
	"github.com/didicm/didicm/jobs"
)

// withProps copies an ONNX model with some of its metadata_props
// (ModelProto field 14, key/value messages) replaced by new values.
func withProps(t *testing.T, src string, props map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if n < 0 || m < 0 {
			t.Fatalf("%s: not a protobuf message", src)
		}
		field := b[:n+m]
		b = b[n+m:]
		if num == 14 && typ == protowire.BytesType {
			entry, _ := protowire.ConsumeBytes(field[n:])
			if _, replaced := props[propKey(entry)]; replaced {
				continue
			}
		}
		out = append(out, field...)
	}
	for k, v := range props {
		var entry []byte
		entry = protowire.AppendTag(entry, 1, protowire.BytesType)
		entry = protowire.AppendString(entry, k)
		entry = protowire.AppendTag(entry, 2, protowire.BytesType)
		entry = protowire.AppendString(entry, v)
		out = protowire.AppendTag(out, 14, protowire.BytesType)
		out = protowire.AppendBytes(out, entry)
	}
	path := filepath.Join(t.TempDir(), "edited.onnx")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// propKey is the key of a StringStringEntryProto (field 1).
func propKey(entry []byte) string {
	for len(entry) > 0 {
		num, typ, n := protowire.ConsumeTag(entry)
		if n < 0 {
			return ""
		}
		if num == 1 && typ == protowire.BytesType {
			k, _ := protowire.ConsumeString(entry[n:])
			return k
		}
		m := protowire.ConsumeFieldValue(num, typ, entry[n:])
		if m < 0 {
			return ""
		}
		entry = entry[n+m:]
	}
	return ""
}

func TestModelsWithUnnamedOrTwiceNamedClassesAreRefused(t *testing.T) {
	dir, _ := archive(t)
	url := "file://" + dir
	for name, names := range map[string]string{
		"an empty name": `["0","1","2","3","","5","6","7","8","9"]`,
		"a name twice":  `["0","1","2","3","4","5","6","7","8","3"]`,
	} {
		t.Run(name, func(t *testing.T) {
			model := withProps(t, "../../testdata/score-k10.onnx", map[string]string{"didicm.class_names": names})
			for _, args := range [][]string{
				{"classify", "--model", model, dir},
				{"enqueue", "--redis", "redis://127.0.0.1:1", "--job", "j", "--input", url, "--output", url, "--model", model},
				{"calibrate", "--model", model, "--out", filepath.Join(t.TempDir(), "cal.json"), dir},
			} {
				_, errs, code := run(t, args...)
				if code != 2 || !strings.Contains(errs, "class_names") {
					t.Fatalf("%s: exit %d, %q; want 2 naming class_names", args[0], code, errs)
				}
			}
			// model inspect's verdict on the model it is given is its result: 1, as for any contract failure.
			if _, errs, code := run(t, "model", "inspect", model); code != 1 || !strings.Contains(errs, "class_names") {
				t.Fatalf("model inspect: exit %d, %q; want 1 naming class_names", code, errs)
			}
		})
	}
}

// --review-threshold 0 (review every image with any doubt) and
// --max-retry 0 (no automatic retries) are values, not "unset".
func TestZeroReviewThresholdAndRetriesReachTheJob(t *testing.T) {
	addr := redistest.Start(t)
	dir := t.TempDir()
	pngArchive(t, filepath.Join(dir, "in"), 3)
	url := "file://" + dir
	model := "../../testdata/score-k10.onnx"
	_, errs, code := run(t, "enqueue", "--redis", "redis://"+addr, "--job", "zeros", "--input", url, "--input-prefix", "in",
		"--output", url, "--model", model, "--review-threshold", "0", "--max-retry", "0")
	if code != 0 {
		t.Fatalf("enqueue: exit %d: %s", code, errs)
	}
	data, err := os.ReadFile(filepath.Join(dir, "zeros", "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec jobs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.ReviewThreshold != 0 || spec.MaxRetry != 0 {
		t.Fatalf("spec.json review_threshold %g, max_retry %d; want 0 and 0 as given", spec.ReviewThreshold, spec.MaxRetry)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: addr})
	defer insp.Close()
	tasks, err := insp.ListPendingTasks(modelQueue(t, model))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("pending tasks %v, %v", tasks, err)
	}
	if tasks[0].MaxRetry != 0 {
		t.Fatalf("task max retry %d; want 0", tasks[0].MaxRetry)
	}
}

// labelsFile writes a labels CSV for dir's PNGs: a header, then one row a
// file, its columns in the header's order (key, label and others).
func labelsFile(t *testing.T, dir string, header ...string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "s*", "*.png"))
	var b strings.Builder
	b.WriteString(strings.Join(header, ",") + "\n")
	for i, f := range files {
		rel, _ := filepath.Rel(dir, f)
		row := make([]string, len(header))
		for j, h := range header {
			row[j] = map[string]string{"key": rel, "label": fmt.Sprintf("c%d", i%3), "site": "north"}[h]
		}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCalibrateReadsLabelsWithMoreColumns(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 40)
	for _, header := range [][]string{{"key", "label", "site"}, {"site", "label", "key"}} {
		labels := labelsFile(t, dir, header...)
		out, errs, code := run(t, "calibrate", "--model", "../../testdata/score-k10.onnx", "--labels", labels, "--alpha", "0.2",
			"--out", filepath.Join(t.TempDir(), "cal.json"), dir)
		if code != 0 || !strings.Contains(out, "on 20 images") {
			t.Fatalf("header %v: exit %d, %q, %q", header, code, out, errs)
		}
	}
	twice := filepath.Join(t.TempDir(), "twice.csv")
	if err := os.WriteFile(twice, []byte("key,label\ns0/0000.png,c1\ns0/0000.png,c2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := run(t, "calibrate", "--model", "../../testdata/score-k10.onnx", "--labels", twice, "--out", filepath.Join(t.TempDir(), "cal.json"), dir)
	if code != 2 || !strings.Contains(errs, "line 3") {
		t.Fatalf("a key given twice: exit %d, %q; want 2 naming line 3", code, errs)
	}
}

// editedCalibration rewrites some fields of a calibration file (a nil
// value removes the field) into a new file.
func editedCalibration(t *testing.T, src string, edits map[string]any) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range edits {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edited.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBadCalibrationFilesAreRefusedNamingTheField(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 60)
	labels := labelsFile(t, dir, "key", "label")
	model := "../../testdata/score-k10.onnx"
	fitted := map[string]string{}
	for _, method := range []string{"aps", "raps"} {
		fitted[method] = filepath.Join(t.TempDir(), method+".json")
		if _, errs, code := run(t, "calibrate", "--model", model, "--labels", labels, "--method", method, "--alpha", "0.2",
			"--out", fitted[method], dir); code != 0 {
			t.Fatalf("calibrate %s: exit %d: %s", method, code, errs)
		}
	}
	for _, tc := range []struct {
		name, method, field string
		edits               map[string]any
	}{
		{"alpha 5", "aps", "alpha", map[string]any{"alpha": 5}},
		{"threshold -1", "aps", "threshold", map[string]any{"threshold": -1}},
		{"no threshold", "aps", "threshold", map[string]any{"threshold": nil}},
		{"temperature 5e-324", "aps", "temperature", map[string]any{"temperature": 5e-324}},
		{"RAPS lambda -1e300", "raps", "lambda", map[string]any{"lambda": -1e300}},
		{"another K", "aps", "classes", map[string]any{"classes": 12}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cal := editedCalibration(t, fitted[tc.method], tc.edits)
			out, errs, code := run(t, "classify", "--model", model, "--calibration", cal, "--format", "jsonl", dir)
			if code != 2 || !strings.Contains(errs, "calibration "+tc.field) || out != "" {
				t.Fatalf("exit %d, %q (%d bytes out); want 2 naming calibration %s", code, errs, len(out), tc.field)
			}
		})
	}
	url := "file://" + dir
	cal := editedCalibration(t, fitted["aps"], map[string]any{"threshold": -1})
	_, errs, code := run(t, "enqueue", "--redis", "redis://127.0.0.1:1", "--job", "j", "--input", url, "--output", url,
		"--model", model, "--calibration", cal)
	if code != 2 || !strings.Contains(errs, "calibration threshold") {
		t.Fatalf("enqueue: exit %d, %q; want 2 naming calibration threshold", code, errs)
	}
}

// A record whose set is empty says so ("prediction_set":[]), and
// non-randomised sets, and the default randomised ones with the top class
// where they would be empty, are never empty.
func TestEmptyPredictionSetsAreWrittenAndNonRandomizedOnesAreNeverEmpty(t *testing.T) {
	dir := t.TempDir()
	pngArchive(t, dir, 60)
	labels := labelsFile(t, dir, "key", "label")
	model := "../../testdata/score-k10.onnx"
	fitted := filepath.Join(t.TempDir(), "aps.json")
	if _, errs, code := run(t, "calibrate", "--model", model, "--labels", labels, "--alpha", "0.2", "--sets", "randomized",
		"--out", fitted, dir); code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, errs)
	}
	tiny := editedCalibration(t, fitted, map[string]any{"threshold": 1e-9}) // a valid q̂ that no class reaches
	out, errs, code := run(t, "classify", "--model", model, "--calibration", tiny, "--format", "jsonl", dir)
	if code != 0 {
		t.Fatalf("classify: exit %d: %s", code, errs)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, `"prediction_set":[],"set_size":0`) {
			t.Fatalf("a record with an empty set: %s", line)
		}
	}
	for _, sets := range []string{"non-randomized", ""} { // "": the default
		non := filepath.Join(t.TempDir(), "non.json")
		args := []string{"calibrate", "--model", model, "--labels", labels, "--alpha", "0.2", "--out", non, dir}
		if sets != "" {
			args = append(args, "--sets", sets)
		}
		if _, errs, code := run(t, args...); code != 0 {
			t.Fatalf("calibrate --sets %s: exit %d: %s", sets, code, errs)
		}
		if sets == "" {
			non = editedCalibration(t, non, map[string]any{"threshold": 1e-9})
		}
		if out, errs, code = run(t, "classify", "--model", model, "--calibration", non, "--format", "jsonl", dir); code != 0 {
			t.Fatalf("classify: exit %d: %s", code, errs)
		}
		for _, r := range records(t, out) {
			if r.SetSize == nil || *r.SetSize < 1 || len(r.PredictionSet) != *r.SetSize || sets == "" && r.PredictionSet[0] != r.Class {
				t.Fatalf("%s: %s set %q, size %v", r.Key, sets, r.PredictionSet, r.SetSize)
			}
		}
	}
	non := filepath.Join(t.TempDir(), "non.json")
	if _, errs, code = run(t, "calibrate", "--model", model, "--labels", labels, "--sets", "maybe", "--out", non, dir); code != 2 || !strings.Contains(errs, "sets") {
		t.Fatalf("--sets maybe: exit %d, %q; want 2 naming sets", code, errs)
	}
}
