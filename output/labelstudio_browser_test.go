package output_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/didicm/didicm/internal/browsertest"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/review"
)

// labelStudioFrontend is Label Studio's labelling frontend, installed by
// `npm ci --prefix tools/labelstudio-check`.
const labelStudioFrontend = "../tools/labelstudio-check/node_modules/@heartexlabs/label-studio/build"

// lsPage loads our interface and one of our tasks in Label Studio's
// frontend, takes the pre-annotation as the annotator's annotation, and
// writes what Label Studio makes of both into #out.
const lsPage = `<!doctype html><html><head><link href="static/css/main.css" rel="stylesheet">
<script src="static/js/main.js"></script></head><body><div id="label-studio"></div><pre id="out">pending</pre><script>
var out = document.getElementById("out"), task = TASK;
task.id = 1; task.annotations = [];
new LabelStudio("label-studio", {config: CONFIG, interfaces: ["panel", "submit", "predictions:tabs"],
  user: {id: 7, first_name: "Carla", last_name: ""}, task: task,
  onLabelStudioLoad: function (LS) {
    setTimeout(function () {
      try {
        var store = LS.annotationStore, p = store.predictions[0];
        var a = store.addAnnotationFromPrediction(p);
        store.selectAnnotation(a.id);
        out.textContent = JSON.stringify({predictions: store.predictions.length, prediction: p.serializeAnnotation(),
          annotation: a.serializeAnnotation()});
      } catch (e) { out.textContent = "error " + e; }
    }, 500);
  }});
</script></body></html>`

// Label Studio itself (its labelling frontend, in headless Chromium) reads
// our interface and our pre-annotation, and the annotation an annotator
// makes from it is one the import takes as an accept.
func TestLabelStudioReadsTheExportAndItsAnnotationImportsBack(t *testing.T) {
	if _, err := os.Stat(filepath.Join(labelStudioFrontend, "static", "js", "main.js")); err != nil {
		t.Skip("tools/labelstudio-check/node_modules is missing (run `npm ci --prefix tools/labelstudio-check`)")
	}
	chromium := browsertest.Chromium(t)
	rv := newReviewed(t, "file://"+t.TempDir(), "file://"+t.TempDir())
	_, dir, tasks := exportLabelStudio(t, rv, "data:image/png;base64,{key}") // the picture does not matter here
	task := tasks[slices.IndexFunc(tasks, func(t lsTask) bool { return t.Data.Key == "a/1.png" })]
	config, err := os.ReadFile(filepath.Join(dir, output.LabelStudioConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "build")
	if err := os.CopyFS(page, os.DirFS(labelStudioFrontend)); err != nil {
		t.Fatal(err)
	}
	taskJSON, _ := json.Marshal(task)
	configJSON, _ := json.Marshal(string(config))
	body := bytes.Replace([]byte(lsPage), []byte("TASK"), taskJSON, 1)
	body = bytes.Replace(body, []byte("CONFIG"), configJSON, 1)
	if err := os.WriteFile(filepath.Join(page, "didicm.html"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	got := loadInLabelStudio(t, chromium, filepath.Join(page, "didicm.html"))
	want := `[{"value":{"choices":["two"]},"id":"didicm-2","from_name":"class","to_name":"image","type":"choices","origin":"prediction"}]`
	if got.Predictions != 1 || string(got.Prediction) != want {
		t.Fatalf("Label Studio read the pre-annotation as %d: %s\nwant %s", got.Predictions, got.Prediction, want)
	}
	export, _ := json.Marshal([]map[string]any{{"id": 1, "data": task.Data, "predictions": task.Predictions,
		"annotations": []map[string]any{{"completed_by": 7, "result": got.Annotation, "was_cancelled": false,
			"updated_at": "2026-12-03T10:00:00.000000Z"}}}})
	n, err := output.ImportLabelStudio(context.Background(), rv.job, bytes.NewReader(export), output.ImportOptions{})
	if err != nil || n.Decisions != 1 {
		t.Fatalf("import: %+v %v", n, err)
	}
	ds, err := output.ReadDecisions(context.Background(), rv.job.Store)
	if err != nil {
		t.Fatal(err)
	}
	wantDecision := review.Decision{Key: "a/1.png", Decision: review.Accept, Class: "two", Reviewer: "labelstudio-7",
		Time: "2026-12-03T10:00:00.000Z"}
	if !slices.Contains(ds.Of("a/1.png"), wantDecision) {
		t.Fatalf("decisions on a/1.png: %+v", ds.Of("a/1.png"))
	}
}

// lsOut is what the page writes into #out.
type lsOut struct {
	Predictions int             `json:"predictions"`
	Prediction  json.RawMessage `json:"prediction"`
	Annotation  json.RawMessage `json:"annotation"`
}

var outRE = regexp.MustCompile(`<pre id="out">([^<]*)</pre>`)

// loadInLabelStudio opens the page in headless Chromium, on virtual time
// (its timers run without waiting), and reads #out.
func loadInLabelStudio(t *testing.T, chromium, page string) lsOut {
	t.Helper()
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
		"--virtual-time-budget=15000", "--dump-dom", "file://"+page)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := outRE.FindSubmatch(dom)
	var got lsOut
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got) != nil {
		t.Fatalf("Label Studio wrote no result: %.300q", m)
	}
	return got
}
