package workers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

func TestAFinishedJobHasItsAnswersPerStudyBeforeItsReport(t *testing.T) {
	url := "file://" + t.TempDir() + "?create_dir=true"
	h := newHarness(t)
	b, err := storage.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	writeArchive(t, b, "archive", 5)
	// Two multi-frame files of study 1.2.3, series 1.2.3.9: six images.
	for _, name := range []string{"archive/ct/a.dcm", "archive/ct/b.dcm"} {
		if err := b.Write(context.Background(), name, dicomtest.NativeFrames(3, 7, 7), ""); err != nil {
			t.Fatal(err)
		}
	}
	spec := jobs.Spec{ID: "night-groups", InputURL: url, InputPrefix: "archive", OutputURL: url, OutputPrefix: "out",
		BatchSize: 4, Sampler: "cp", ReviewThreshold: 0.5}
	h.enqueue(spec)
	h.start()
	wait(t, spec)
	lay, _ := jobs.NewLayout("out", spec.ID)
	// The worker writes the group files after summary.json, then report.html.
	for deadline := time.Now().Add(time.Minute); ; {
		if ok, _ := b.Exists(context.Background(), lay.Report()); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no report.html a minute after the summary")
		}
		time.Sleep(20 * time.Millisecond) // polling storage, which has no change signal
	}
	data, err := b.Read(context.Background(), lay.Group(jobs.StudiesFile), 0)
	if err != nil {
		t.Fatalf("studies.jsonl: %v", err)
	}
	var studies []grouping.Group
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var g grouping.Group
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		studies = append(studies, g)
	}
	if len(studies) != 1 || studies[0].StudyUID != "1.2.3" || studies[0].Images != 6 || studies[0].SeriesCount != 1 ||
		studies[0].Classified != 6 || len(studies[0].Posterior) != 10 || len(studies[0].Drivers) != 5 {
		t.Fatalf("studies %+v", studies)
	}
	if ok, _ := b.Exists(context.Background(), lay.Group(jobs.EventsFile)); ok {
		t.Error("events.jsonl for a job without videos")
	}
}
