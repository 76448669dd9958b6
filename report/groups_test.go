package report_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/internal/browsertest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/report"
)

// groupedJob is a finished job with its group files and report: studies
// sure ones and torn ones, and videos with uncertain stretches, in a
// file:// bucket under dir.
func groupedJob(t *testing.T, studies, videos int) (*jobs.Store, string) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 9))
	var recs []pipeline.Record
	for s := range studies {
		sure := 0.9
		if s%3 == 1 {
			sure = 0.15 // torn between classes: flagged
		}
		recs = append(recs, groupingtest.Study(r, fmt.Sprintf("1.2.840.113619.%d", s), 1+s%2, 4, s%3, sure, s%5 == 0)...)
	}
	for v := range videos {
		hot := map[int]bool{}
		for i := range 240 {
			if (i/40+v)%3 == 0 && i%40 < 6+v%5 {
				hot[i] = true
			}
		}
		topic := ""
		object := fmt.Sprintf("drive/cam-%03d.mp4", v)
		if v%2 == 1 {
			object, topic = fmt.Sprintf("logs/run-%03d.mcap", v), "/cam/front"
		}
		recs = append(recs, groupingtest.Frames(r, object, topic, time.Second, 240, hot)...)
	}
	dir := t.TempDir()
	store, err := jobs.OpenStore(ctx, jobs.Ref{OutputURL: "file://" + dir, Prefix: "out", ID: "grouped"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	spec := jobs.Spec{ID: "grouped", InputURL: "file://" + dir, OutputURL: "file://" + dir, OutputPrefix: "out",
		ReviewThreshold: 0.5, ClassNames: groupingtest.Classes, Sampling: jobs.Sampling{Every: "1s"}}
	spec.Defaults()
	groupingtest.Finish(t, store, spec, recs, 64)
	job, err := output.Open(ctx, store)
	must(t, err)
	must(t, output.Studies{}.Write(ctx, job))
	must(t, report.Write(ctx, store, report.Options{}))
	return store, dir
}

func readReport(t *testing.T, store *jobs.Store) string {
	t.Helper()
	page, err := store.ReadReport(context.Background())
	must(t, err)
	return string(page)
}

var (
	studyRowRE = regexp.MustCompile(`<tr(?: class="flag")?><td class="uid">([0-9.]+)</td>`)
	stripRE    = regexp.MustCompile(`<svg class="chart" id="strip-\d+"`)
)

func TestTheReportShowsStudiesMostUncertainFirstAndAStripPerVideo(t *testing.T) {
	store, _ := groupedJob(t, 6, 3)
	html := readReport(t, store)
	rows := studyRowRE.FindAllStringSubmatch(html, -1)
	var uids []string
	for _, m := range rows {
		uids = append(uids, m[1])
	}
	// Studies 1 and 4 are torn (flagged); the sure ones follow.
	if len(uids) != 6 || !slices.Contains(uids[:2], "1.2.840.113619.1") || !slices.Contains(uids[:2], "1.2.840.113619.4") {
		t.Fatalf("study rows %v", uids)
	}
	if n := strings.Count(html, `<tr class="flag">`); n != 2 {
		t.Errorf("%d flagged rows, want 2", n)
	}
	if n := len(stripRE.FindAllString(html, -1)); n != 3 {
		t.Errorf("%d strips, want 3", n)
	}
	for _, want := range []string{`id="studies-section"`, `id="time-section"`, `id="events"`, `<rect class="event"`,
		`<path class="strip" d="M`, "logs/run-001.mcap /cam/front", "drive/cam-000.mp4#t="} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "more are in") {
		t.Error("a script, or a note of rows left out of a small job")
	}
}

func TestAReportWithoutGroupFilesHasNoGroupSections(t *testing.T) {
	ctx := context.Background()
	j := newSyntheticJob(t)
	if _, err := pipeline.Finish(ctx, j.store, j.spec); err != nil {
		t.Fatal(err)
	}
	page, err := report.Render(ctx, j.store, report.Options{})
	must(t, err)
	for _, id := range []string{"studies-section", "time-section", "groups-note"} {
		if strings.Contains(string(page), `id="`+id+`"`) {
			t.Errorf("a job without group files has %s", id)
		}
	}
}

func TestTheReportOfALargeJobStaysBounded(t *testing.T) {
	store, _ := groupedJob(t, 600, 60)
	html := readReport(t, store)
	if n := len(studyRowRE.FindAllString(html, -1)); n != 50 {
		t.Errorf("%d study rows, want 50", n)
	}
	if n := len(stripRE.FindAllString(html, -1)); n != 40 {
		t.Errorf("%d strips, want 40", n)
	}
	for _, want := range []string{"550 more are in studies.jsonl", "20 more are in timelines.jsonl", "more are in events.jsonl"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks the note %q", want)
		}
	}
	if len(html) > 512<<10 {
		t.Errorf("the report is %d KiB", len(html)>>10)
	}
	t.Logf("report of 600 studies and 60 videos: %d KiB", len(html)>>10)
}

func TestStudiesAndStripsRenderInAHeadlessBrowser(t *testing.T) {
	store, dir := groupedJob(t, 8, 4)
	tb := openFile(t, filepath.Join(dir, filepath.FromSlash(store.Layout().Report())))
	ids, state := tb.charts(t)
	var strips []string
	for _, id := range ids {
		if strings.HasPrefix(id, "strip-") {
			strips = append(strips, id)
		}
	}
	if len(strips) != 4 || state.Scripts != 0 {
		t.Errorf("strips %v, %d scripts", strips, state.Scripts)
	}
	// Each strip's shapes lie inside its box, and the events' tips name their frames.
	type shown struct {
		Rows, Events int
		Inside       bool
		Tip          string
	}
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[shown](`(() => {
		const inside = [...document.querySelectorAll("svg[id^=strip-]")].every(svg => {
			const box = svg.getBoundingClientRect();
			return [...svg.querySelectorAll("path.strip, rect.event")].every(e => {
				const r = e.getBoundingClientRect();
				return r.width > 0 && r.height > 0 && r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
			});
		});
		return {
			rows: document.querySelectorAll("#studies tr").length - 1,
			events: document.querySelectorAll("svg[id^=strip-] rect.event").length,
			inside,
			tip: document.querySelector("svg[id^=strip-] rect.event title").textContent,
		};
	})()`))
	must(t, err)
	if s.Rows != 8 || s.Events == 0 || !s.Inside || !strings.Contains(s.Tip, "#t=") {
		t.Errorf("page: %+v", s)
	}
	tb.screenshot(t, browsertest.Screenshot("report-groups.png"))
	png, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.ID("time-section")))
	must(t, err)
	must(t, os.WriteFile(browsertest.Screenshot("report-strips.png"), png, 0o644))
	tb.checkClean(t)
}

func TestAGroupFileThatDoesNotParseIsNotedNotFatal(t *testing.T) {
	ctx := context.Background()
	store, _ := groupedJob(t, 2, 1)
	must(t, store.WriteGroupFile(ctx, jobs.StudiesFile, func(w io.Writer) error {
		_, err := io.WriteString(w, "{\"format_version\":1,\"study_uid\":\n")
		return err
	}))
	page, err := report.Render(ctx, store, report.Options{})
	must(t, err)
	if html := string(page); !strings.Contains(html, `id="groups-note"`) || !strings.Contains(html, "studies.jsonl line 1") ||
		strings.Contains(html, `id="studies-section"`) {
		t.Fatal("a malformed studies.jsonl is not noted, or its studies are shown")
	}
}
