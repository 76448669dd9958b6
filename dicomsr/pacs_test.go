package dicomsr_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/didicm/didicm/dicomsr"
	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/internal/orthanctest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
)

// pacsJob uploads the corpus to a fresh Orthanc and returns a finished
// job over it (keys as a DICOMweb source lists them) whose records
// classify every frame as class.
func pacsJob(t *testing.T, srv *orthanctest.Server, corpus []corpusEntry, out string, class int) (jobs.Spec, []pipeline.Record) {
	t.Helper()
	var recs []pipeline.Record
	for _, e := range corpus {
		key := dicomweb.Key{Study: e.Study, Series: e.Series, Instance: e.SOP}.String()
		if e.Frames <= 1 {
			recs = append(recs, recordOf(key, e, 0, class, 0.8, nil))
		}
		for f := 1; e.Frames > 1 && f <= e.Frames; f++ {
			recs = append(recs, recordOf(key, e, f, class, 0.8, nil))
		}
	}
	spec := jobs.Spec{ID: "pacs", InputURL: "dicomweb+" + srv.DICOMweb() + "?rate=0", OutputURL: out,
		Sampler: "cp", ReviewThreshold: 0.5}
	return spec, recs
}

func startPACS(t *testing.T, settings map[string]any, corpus []corpusEntry) *orthanctest.Server {
	t.Helper()
	srv := orthanctest.Start(t, orthanctest.Options{Settings: settings})
	for _, e := range corpus {
		if err := srv.Upload(context.Background(), e.data); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// reportsInPACS finds, through QIDO-RS, the SR instances of a study.
func reportsInPACS(t *testing.T, c *dicomweb.Client, study string) []dicomweb.Key {
	t.Helper()
	ctx := context.Background()
	var keys []dicomweb.Key
	err := c.SearchSeries(ctx, study, dicomweb.Query{Match: url.Values{"Modality": {"SR"}}}, func(s dicomweb.Match) error {
		series := s.String(dicomweb.TagSeriesUID)
		return c.SearchInstances(ctx, study, series, dicomweb.Query{IncludeFields: []string{"00080016"}},
			func(m dicomweb.Match) error {
				if m.String("00080016") != dicomsr.ComprehensiveSR {
					t.Errorf("SR series %s holds an instance of class %s", series, m.String("00080016"))
				}
				keys = append(keys, dicomweb.Key{Study: study, Series: series, Instance: m.String(dicomweb.TagSOPInstanceUID)})
				return nil
			})
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestEachStudyHoldsExactlyOneReportWithItsReferencesEvenWhenSentAgain(t *testing.T) {
	ctx := context.Background()
	corpus := loadCorpus(t)
	srv := startPACS(t, nil, corpus)
	spec, recs := pacsJob(t, srv, corpus, "file://"+t.TempDir()+"?create_dir=true", 7)
	job := writeJob(t, spec, recs)
	w, err := dicomsr.New(dicomsr.Config{Model: testModel(t), Send: dicomsr.SendToSource})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dicomweb.NewClient(dicomweb.Config{Base: srv.DICOMweb(), Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for round := 1; round <= 2; round++ {
		if err := w.Write(ctx, job); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, study := range studiesOf(corpus) {
			keys := reportsInPACS(t, c, study)
			if len(keys) != 1 {
				t.Fatalf("round %d: study %s holds %d reports, want 1", round, study, len(keys))
			}
			kept, err := job.Store.ReadSR(ctx, study, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.RetrieveInstance(ctx, keys[0], 0)
			if err != nil || !bytes.Equal(got, kept) {
				t.Fatalf("round %d: study %s: the PACS's report is not the one kept (%v)", round, study, err)
			}
			dump := validate(t, got)
			for _, e := range corpus {
				if e.Study == study && !strings.Contains(dump, e.SOP) {
					t.Errorf("study %s: the report does not reference %s", study, e.SOP)
				}
			}
			if !strings.Contains(dump, `<contains CODE:(121071,DCM,"Finding")=(RID-SEVEN-LONG-CODE-VALUE,RADLEX,"7")>`) {
				t.Errorf("study %s: the finding is not class 7's code", study)
			}
		}
	}
}

// TestOrthancReplacesAResentReportOnlyWithOverwriteInstances: a report
// made again with other content (the job re-driven) keeps its UIDs.
// Orthanc answers 200 and keeps one instance either way; it stores the
// new content only when configured with "OverwriteInstances": true (its
// default, false, keeps the first).
func TestOrthancReplacesAResentReportOnlyWithOverwriteInstances(t *testing.T) {
	ctx := context.Background()
	corpus := loadCorpus(t)
	study := corpus[0].Study
	for _, overwrite := range []bool{true, false} {
		srv := startPACS(t, map[string]any{"OverwriteInstances": overwrite}, corpus)
		out := "file://" + t.TempDir() + "?create_dir=true"
		w, err := dicomsr.New(dicomsr.Config{Model: testModel(t), Send: dicomsr.SendToSource})
		if err != nil {
			t.Fatal(err)
		}
		var sent [][]byte
		for _, class := range []int{7, 1} {
			spec, recs := pacsJob(t, srv, corpus, out, class)
			job := writeJob(t, spec, recs)
			if err := w.Write(ctx, job); err != nil {
				t.Fatal(err)
			}
			sent = append(sent, readSR(t, job, study))
		}
		if bytes.Equal(sent[0], sent[1]) {
			t.Fatal("the two reports are the same")
		}
		c, err := dicomweb.NewClient(dicomweb.Config{Base: srv.DICOMweb(), Rate: -1})
		if err != nil {
			t.Fatal(err)
		}
		keys := reportsInPACS(t, c, study)
		if len(keys) != 1 {
			t.Fatalf("overwrite %v: %d reports", overwrite, len(keys))
		}
		got, err := c.RetrieveInstance(ctx, keys[0], 0)
		c.Close()
		want := map[bool][]byte{true: sent[1], false: sent[0]}[overwrite]
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("overwrite %v: the PACS holds the other report (%v)", overwrite, err)
		}
	}
}

func readSR(t *testing.T, job *output.Job, study string) []byte {
	t.Helper()
	data, err := job.Store.ReadSR(context.Background(), study, "")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func studiesOf(corpus []corpusEntry) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range corpus {
		if !seen[e.Study] {
			seen[e.Study] = true
			out = append(out, e.Study)
		}
	}
	return out
}
