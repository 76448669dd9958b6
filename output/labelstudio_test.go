package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/review"
)

// lsTask is a task of the export as Label Studio reads it.
type lsTask struct {
	Data struct {
		Image string `json:"image"`
		Key   string `json:"key"`
		Job   string `json:"job"`
	} `json:"data"`
	Predictions []struct {
		ModelVersion string            `json:"model_version"`
		Score        float64           `json:"score"`
		Result       []json.RawMessage `json:"result"`
	} `json:"predictions"`
}

// lsConfig is the labelling interface, as far as the tasks rely on it.
type lsConfig struct {
	XMLName xml.Name `xml:"View"`
	Image   struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"Image"`
	Choices struct {
		Name   string `xml:"name,attr"`
		ToName string `xml:"toName,attr"`
		Choice string `xml:"choice,attr"`
		Values []struct {
			Value string `xml:"value,attr"`
		} `xml:"Choice"`
	} `xml:"Choices"`
}

// exportLabelStudio runs the export with an image URL template into a
// new folder and reads its tasks.
func exportLabelStudio(t *testing.T, rv *reviewed, template string) (*output.LabelStudio, string, []lsTask) {
	t.Helper()
	dir := t.TempDir()
	w := &output.LabelStudio{Dest: openDest(t, dir), ImageURL: template}
	if err := w.Write(context.Background(), rv.job); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, output.LabelStudioTasksFile))
	if err != nil {
		t.Fatal(err)
	}
	var tasks []lsTask
	if err := json.Unmarshal(data, &tasks); err != nil {
		t.Fatalf("the task file is not a JSON array of tasks: %v\n%s", err, data)
	}
	return w, dir, tasks
}

// The task file holds each image a browser can show, its URL, its key and
// our class as a pre-annotation whose names are the interface's.
func TestTheLabelStudioTasksCarryImagesAndPreAnnotationsTheInterfaceNames(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	w, dir, tasks := exportLabelStudio(t, rv, "http://127.0.0.1:8081/data/local-files/?d=archive/{key}")
	var keys []string
	for _, task := range tasks {
		keys = append(keys, task.Data.Key)
	}
	want := []string{"a/0.png", "a/1.png", "a/2.png", "a/3.png", "b/4.png", "b/5.png", "raw/x", "gone.png"}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) || w.Written != (output.TaskCounts{Tasks: 8, Skipped: 5}) {
		t.Fatalf("tasks for %v (%+v), want %v and 5 left out (a DICOM file, three frames, a failed image)", keys, w.Written, want)
	}
	var cfg lsConfig
	data, _ := os.ReadFile(filepath.Join(dir, output.LabelStudioConfigFile))
	if err := xml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("config: %v\n%s", err, data)
	}
	var names []string
	for _, c := range cfg.Choices.Values {
		names = append(names, c.Value)
	}
	if !slices.Equal(names, digitClasses) || cfg.Choices.Choice != "single" || cfg.Image.Value != "$image" {
		t.Fatalf("config %+v", cfg)
	}
	task := tasks[slices.IndexFunc(tasks, func(t lsTask) bool { return t.Data.Key == "a/1.png" })]
	if task.Data.Image != "http://127.0.0.1:8081/data/local-files/?d=archive/a%2F1.png" || task.Data.Job != "night" ||
		len(task.Predictions) != 1 || task.Predictions[0].ModelVersion != "didirn-digits.onnx@5f1c0a9e8d7c" ||
		task.Predictions[0].Score != 0.6 || len(task.Predictions[0].Result) != 1 {
		t.Fatalf("task %+v", task)
	}
	var res struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		FromName string `json:"from_name"`
		ToName   string `json:"to_name"`
		Value    struct {
			Choices []string `json:"choices"`
		} `json:"value"`
	}
	raw := task.Predictions[0].Result[0]
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("result %s: %v", raw, err)
	}
	if res.Type != "choices" || res.ID == "" || res.FromName != cfg.Choices.Name || res.ToName != cfg.Image.Name ||
		!slices.Equal(res.Value.Choices, []string{"two"}) {
		t.Fatalf("result %+v does not fit the interface %+v", res, cfg)
	}
}

// Without a template, an S3 archive's images get presigned URLs that a
// browser opens; an archive that cannot presign needs a template.
func TestTheLabelStudioTasksOfAnS3ArchiveHavePresignedURLs(t *testing.T) {
	rv := newReviewed(t, s3test.Start(t, "archive"), "file://"+t.TempDir())
	_, _, tasks := exportLabelStudio(t, rv, "")
	task := tasks[slices.IndexFunc(tasks, func(t lsTask) bool { return t.Data.Key == "raw/x" })]
	if !strings.Contains(task.Data.Image, "X-Amz-Signature=") {
		t.Fatalf("%s... is not presigned", task.Data.Image[:min(40, len(task.Data.Image))])
	}
	resp, err := http.Get(task.Data.Image)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, digitPNG(t, 1)) {
		t.Fatalf("the URL gave %d and %d bytes", resp.StatusCode, len(body))
	}
	local := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	err = (&output.LabelStudio{Dest: openDest(t, t.TempDir())}).Write(context.Background(), local.job)
	if err == nil || !strings.Contains(err.Error(), "{key}") {
		t.Fatalf("a file:// archive without a template: %v", err)
	}
}

// annotated is the task file as Label Studio exports it after two
// annotators worked on it: carla (a user object with an email) accepts,
// corrects and skips; user 7 (an ID) picks one class and submits one
// annotation without a choice; and a task of an image the job never listed.
func annotated(t *testing.T, tasks []lsTask) []byte {
	t.Helper()
	carla := json.RawMessage(`{"id":3,"email":"carla@example.org","first_name":"Carla","last_name":""}`)
	choice := func(class string) []any {
		return []any{map[string]any{"id": "Xq1", "type": "choices", "from_name": "class", "to_name": "image",
			"origin": "manual", "value": map[string]any{"choices": []string{class}}}}
	}
	ann := func(by json.RawMessage, result []any, cancelled bool, at string) map[string]any {
		return map[string]any{"id": 1, "completed_by": by, "result": result, "was_cancelled": cancelled,
			"ground_truth": false, "created_at": "2026-12-03T10:00:00.000000Z", "updated_at": at, "lead_time": 3.2, "task": 1}
	}
	script := map[string][]map[string]any{
		"a/0.png": {ann(carla, nil, false, "2026-12-03T10:01:00.123456Z")}, // the prediction, submitted as it was
		"a/2.png": {ann(carla, choice("zero"), false, "2026-12-03T10:02:00.000000Z")},
		"a/3.png": {ann(carla, []any{}, true, "2026-12-03T10:03:00.000000Z")},
		"b/5.png": {ann(carla, choice("two"), false, "2026-12-03T10:04:00.000000Z")},
		"a/1.png": {ann(json.RawMessage(`7`), choice("one"), false, "2026-12-03T11:00:00.000000Z")},
		"raw/x":   {ann(json.RawMessage(`7`), []any{}, false, "2026-12-03T11:01:00.000000Z")},
	}
	var out []map[string]any
	for i, task := range tasks {
		anns := script[task.Data.Key]
		if task.Data.Key == "a/0.png" {
			var result []any
			for _, r := range task.Predictions[0].Result {
				result = append(result, r)
			}
			anns[0]["result"] = result
		}
		out = append(out, map[string]any{"id": i + 1, "data": task.Data, "annotations": anns, "predictions": task.Predictions,
			"drafts": []any{}, "meta": map[string]any{}, "created_at": "2026-12-03T09:00:00Z", "updated_at": "2026-12-03T11:01:00Z",
			"inner_id": i + 1, "total_annotations": len(anns), "cancelled_annotations": 0, "project": 1, "file_upload": nil})
	}
	out = append(out, map[string]any{"id": 99, "data": map[string]any{"image": "x", "key": "not/listed.png", "job": "night"},
		"annotations": script["a/2.png"]})
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Export, annotate as Label Studio's annotators do, export from Label
// Studio, import: the decisions stored are the annotators', named after
// them, at their annotations' times.
func TestALabelStudioExportImportsBackAsTheAnnotatorsDecisions(t *testing.T) {
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	_, _, tasks := exportLabelStudio(t, rv, "http://127.0.0.1:8081/{key}")
	ctx := context.Background()
	n, err := output.ImportLabelStudio(ctx, rv.job, bytes.NewReader(annotated(t, tasks)), output.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Decisions != 5 || n.Empty != 1 || n.Unknown != 1 || !slices.Equal(n.Reviewers, []string{"carla_example.org", "labelstudio-7"}) &&
		!slices.Equal(n.Reviewers, []string{"labelstudio-7", "carla_example.org"}) {
		t.Fatalf("import counts %+v", n)
	}
	want := []review.Decision{
		{Key: "a/0.png", Decision: review.Accept, Class: "zero", Reviewer: "carla_example.org", Time: "2026-12-03T10:01:00.123Z"},
		{Key: "a/1.png", Decision: review.Pick, Class: "one", Reviewer: "labelstudio-7", Time: "2026-12-03T11:00:00.000Z"},
		{Key: "a/2.png", Decision: review.Pick, Class: "zero", Reviewer: "carla_example.org", Time: "2026-12-03T10:02:00.000Z"},
		{Key: "a/3.png", Decision: review.Unsure, Reviewer: "carla_example.org", Time: "2026-12-03T10:03:00.000Z"},
		{Key: "b/5.png", Decision: review.Accept, Class: "two", Reviewer: "carla_example.org", Time: "2026-12-03T10:04:00.000Z"},
	}
	ds, err := output.ReadDecisions(ctx, rv.job.Store)
	if err != nil {
		t.Fatal(err)
	}
	var got []review.Decision
	for _, key := range ds.Keys() {
		for _, d := range ds.Of(key) {
			if d.Reviewer == "carla_example.org" || strings.HasPrefix(d.Reviewer, "labelstudio-") {
				got = append(got, d)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("imported decisions\n%+v\nwant\n%+v", got, want)
	}
	if l, _, _ := ds.Resolve("a/1.png"); l.Class != "one" || !slices.Equal(l.Reviewers(), []string{"ana", "labelstudio-7"}) {
		t.Fatalf("a/1.png after the import: %+v", l)
	}
	other := bytes.ReplaceAll(annotated(t, tasks), []byte(`"job": "night"`), []byte(`"job": "day"`))
	if _, err := output.ImportLabelStudio(ctx, rv.job, bytes.NewReader(other), output.ImportOptions{}); err == nil ||
		!strings.Contains(err.Error(), `job "day"`) {
		t.Fatalf("another job's export: %v", err)
	}
}
