package output

import (
	"cmp"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/didicm/didicm/jobs"
)

// LabelStudio writes a job's review list as a Label Studio project: the
// tasks (labelstudio-tasks.json, Label Studio's basic JSON task format,
// one task per image a browser can show) and the labelling interface they
// need (labelstudio-config.xml: the image and one single choice among the
// job's classes). Each task's data holds the image's URL (image), its
// record key (key) and the job (job); its prediction is our class as a
// pre-annotation with model_version (the model's file name and sha256
// prefix) and score (the class's probability). Failed images, DICOM files,
// frames of multi-frame files, videos and logs, and TIFFs are left out: a
// browser cannot show them (review them on `didicm review`).
// `didicm import labelstudio` reads the project's JSON export back as
// decisions (ImportLabelStudio).
type LabelStudio struct {
	Dest *Dest
	// ImageURL makes each image's URL from its object key: a template
	// holding {key}, path-escaped where it stands in the path and
	// query-escaped after a '?' (e.g. Label Studio's local files,
	// /data/local-files/?d=archive/{key}, or a static server over the
	// archive). Empty means a presigned URL from the input bucket
	// (s3://, gs://, azblob://), valid for Expiry.
	ImageURL string
	// Expiry is how long presigned URLs are valid; zero means 7 days, the
	// longest S3 allows.
	Expiry time.Duration
	// Written counts what the last Write wrote.
	Written TaskCounts
}

// TaskCounts is what the Label Studio export wrote.
type TaskCounts struct {
	Tasks   int
	Skipped int // images a browser cannot show
}

var _ Writer = (*LabelStudio)(nil)

// The Label Studio export's files, and the names its interface gives the
// image and the choice (the results' to_name and from_name).
const (
	LabelStudioTasksFile  = "labelstudio-tasks.json"
	LabelStudioConfigFile = "labelstudio-config.xml"
	LabelStudioImage      = "image"
	LabelStudioChoice     = "class"
)

// DefaultURLExpiry is the validity of presigned URLs.
const DefaultURLExpiry = 7 * 24 * time.Hour

// Name is "labelstudio".
func (*LabelStudio) Name() string { return "labelstudio" }

// lsTask is one task of Label Studio's JSON import format.
type lsTask struct {
	Data        lsData         `json:"data"`
	Predictions []lsPrediction `json:"predictions,omitempty"`
}

type lsData struct {
	Image string `json:"image"`
	Key   string `json:"key"`
	Job   string `json:"job"`
}

type lsPrediction struct {
	ModelVersion string     `json:"model_version"`
	Score        float64    `json:"score"`
	Result       []lsResult `json:"result"`
}

// lsResult is one region of a prediction or annotation: here a choice.
type lsResult struct {
	ID       string  `json:"id,omitempty"`
	Type     string  `json:"type"`
	FromName string  `json:"from_name"`
	ToName   string  `json:"to_name"`
	Value    lsValue `json:"value"`
}

type lsValue struct {
	Choices []string `json:"choices"`
}

// Write streams the review list into the task file, then writes the
// labelling interface.
func (w *LabelStudio) Write(ctx context.Context, job *Job) error {
	if w.Dest == nil {
		return errors.New("labelstudio export: no destination")
	}
	urls, err := newImageURLs(ctx, job.Spec.InputURL, w.ImageURL, cmp.Or(w.Expiry, DefaultURLExpiry))
	if err != nil {
		return err
	}
	defer urls.close()
	w.Written = TaskCounts{}
	classes := newClassSet(job.Spec.ClassNames)
	err = w.Dest.Write(ctx, LabelStudioTasksFile, "application/json", func(out io.Writer) error {
		return w.writeTasks(ctx, job, urls, classes, out)
	})
	if err != nil {
		return err
	}
	return w.Dest.Write(ctx, LabelStudioConfigFile, "application/xml", func(out io.Writer) error {
		return writeLabelConfig(out, classes.names)
	})
}

// writeTasks writes the JSON array of tasks, one line each.
func (w *LabelStudio) writeTasks(ctx context.Context, job *Job, urls *imageURLs, classes *classSet, out io.Writer) error {
	if _, err := io.WriteString(out, "["); err != nil {
		return err
	}
	sep := "\n"
	err := job.eachListItem(ctx, func(it listItem) error {
		if !browserShows(it) {
			w.Written.Skipped++
			return nil
		}
		url, err := urls.of(ctx, keyOf(it.Key).Object)
		if err != nil {
			return err
		}
		classes.add(it.Class)
		t := lsTask{Data: lsData{Image: url, Key: it.Key, Job: job.Spec.ID}}
		if it.Class != "" {
			t.Predictions = []lsPrediction{{ModelVersion: modelVersion(job.Spec, it), Score: it.MaxProb,
				Result: []lsResult{choice(fmt.Sprintf("didicm-%d", w.Written.Tasks+1), it.Class)}}}
		}
		line, err := json.Marshal(t)
		if err != nil {
			return err
		}
		w.Written.Tasks++
		_, err = fmt.Fprintf(out, "%s%s", sep, line)
		sep = ",\n"
		return err
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, "\n]\n")
	return err
}

func choice(id, class string) lsResult {
	return lsResult{ID: id, Type: "choices", FromName: LabelStudioChoice, ToName: LabelStudioImage, Value: lsValue{Choices: []string{class}}}
}

// browserShows reports whether a browser can show the item's image: a
// whole file that classified and is neither DICOM nor TIFF.
func browserShows(it listItem) bool {
	k := keyOf(it.Key)
	if it.Error != "" || it.SOPUID != "" || !k.Whole() {
		return false
	}
	ext := strings.ToLower(path.Ext(k.Object))
	return ext != ".tif" && ext != ".tiff" && ext != ".dcm"
}

// modelVersion names the model: its file's name and sha256 prefix.
func modelVersion(spec jobs.Spec, it listItem) string {
	name := "didicm"
	if spec.Model != "" {
		name = path.Base(strings.ReplaceAll(spec.Model, `\`, "/"))
	}
	if sha := cmp.Or(spec.ModelSHA256, it.ModelSHA256); sha != "" {
		name += "@" + sha[:min(12, len(sha))]
	}
	return name
}

// classSet is the interface's choices: the job's classes, or for a job
// enqueued before it named them, the classes its review list names.
type classSet struct {
	names []string
	seen  map[string]bool
	fixed bool
}

func newClassSet(names []string) *classSet {
	return &classSet{names: names, fixed: len(names) > 0, seen: map[string]bool{}}
}

func (c *classSet) add(name string) {
	if !c.fixed && name != "" && !c.seen[name] {
		c.seen[name] = true
		c.names = append(c.names, name)
	}
}

// writeLabelConfig writes the labelling interface: the image and a
// single choice among the classes.
func writeLabelConfig(w io.Writer, classes []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<View>\n  <Image name=%q value=\"$%s\"/>\n", LabelStudioImage, LabelStudioImage)
	fmt.Fprintf(&b, "  <Choices name=%q toName=%q choice=\"single\" showInline=\"true\">\n", LabelStudioChoice, LabelStudioImage)
	for _, c := range classes {
		b.WriteString("    <Choice value=\"")
		if err := xml.EscapeText(&b, []byte(c)); err != nil {
			return err
		}
		b.WriteString("\"/>\n")
	}
	b.WriteString("  </Choices>\n</View>\n")
	_, err := io.WriteString(w, b.String())
	return err
}
