package review_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/didicm/didicm/grouping/groupingtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/output"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/review"
)

// groupedJob is a finished job with its group files: study 1.2.3 torn
// between classes (11 images for review, one failed), study 1.2.4 sure
// but for one image, a video with an event of three frames (5, 6 and 8 s)
// and one uncertain frame alone (20 s), and one uncertain PNG. The study
// images are PNGs in the input bucket.
func groupedJob(t *testing.T) *testJob {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 7))
	torn := groupingtest.Study(r, "1.2.3", 1, 12, 1, 0.05, true)
	sure := groupingtest.Study(r, "1.2.4", 1, 6, 0, 0.95, false)
	flat := groupingtest.Image(sure[0].Key, []float64{0.2, 0.2, 0.2, 0.2, 0.2})
	flat.StudyUID, flat.SeriesUID, flat.SOPUID = sure[0].StudyUID, sure[0].SeriesUID, sure[0].SOPUID
	sure[0] = flat
	recs := slices.Concat(torn, sure,
		groupingtest.Frames(r, "drive/front.mp4", "", time.Second, 30, map[int]bool{5: true, 6: true, 8: true, 20: true}),
		[]pipeline.Record{groupingtest.Image("photos/a.png", []float64{0.3, 0.3, 0.2, 0.1, 0.1})})
	dir := t.TempDir()
	url := "file://" + dir
	store, err := jobs.OpenStore(context.Background(), jobs.Ref{OutputURL: url, Prefix: "out", ID: "night-1"})
	must(t, err)
	t.Cleanup(func() { store.Close() })
	spec := jobs.Spec{ID: "night-1", InputURL: url, OutputURL: url, OutputPrefix: "out", ReviewThreshold: 0.5,
		ClassNames: groupingtest.Classes, Sampling: jobs.Sampling{Every: "1s"}}
	spec.Defaults()
	groupingtest.Finish(t, store, spec, recs, 8)
	job, err := output.Open(context.Background(), store)
	must(t, err)
	must(t, output.Studies{}.Write(context.Background(), job))
	j := &testJob{dir: dir, url: url, store: store, sizes: map[string][2]int{}}
	inputs := map[string][]byte{"photos/a.png": pngOf(t, 40, 30)}
	for i, rec := range slices.Concat(torn, sure) {
		inputs[rec.Key] = greyPNG(16+i, 16, 0)
	}
	writeInputs(t, j, inputs)
	return j
}

// groupEntry is an entry of GET /items with its group.
type groupEntry struct {
	Index   int    `json:"index"`
	Key     string `json:"key"`
	Error   string `json:"error"`
	Decided *review.Decision
	Group   *struct {
		Kind, ID, Class string
		StudyUID        string `json:"study_uid"`
		Start, End      float64
		Frames, Count   int
		Decided         int
		Answer          *struct{ Images, Errors int }
		Members         []struct {
			Key         string
			Class       string
			EntropyNorm float64 `json:"entropy_norm"`
			Decided     *review.Decision
		}
	}
}

type groupPage struct {
	Total, Done int
	Items       []groupEntry
}

// entries lists the page's entries and finds the study and event groups.
func entries(t *testing.T, s *review.Server) (groupPage, *groupEntry, *groupEntry) {
	t.Helper()
	p := getJSON[groupPage](t, s.Handler(), "/items?from=0&n=100")
	var study, event *groupEntry
	for i := range p.Items {
		switch g := p.Items[i].Group; {
		case g == nil:
		case g.Kind == "study":
			study = &p.Items[i]
		case g.Kind == "event":
			event = &p.Items[i]
		}
	}
	return p, study, event
}

func TestStudiesAndEventsAreOneEntryEach(t *testing.T) {
	j := groupedJob(t)
	s := j.open(t, "alice", "")
	p, study, event := entries(t, s)
	// The study's 11 images, the event's 3 frames; alone: the sure
	// study's one uncertain image, the frame at 20 s, the PNG, and the
	// failed image, last.
	if p.Total != 6 || len(p.Items) != 6 || study == nil || event == nil || p.Items[5].Error == "" {
		t.Fatalf("entries %+v", p)
	}
	g := study.Group
	if g.ID != "study:1.2.3" || g.StudyUID != "1.2.3" || g.Count != 11 || len(g.Members) != 11 || g.Answer == nil ||
		g.Answer.Images != 12 || g.Answer.Errors != 1 || study.Key != g.Members[0].Key {
		t.Fatalf("study entry %+v", g)
	}
	if !slices.IsSortedFunc(g.Members, func(a, b struct {
		Key         string
		Class       string
		EntropyNorm float64 `json:"entropy_norm"`
		Decided     *review.Decision
	}) int {
		return -strings.Compare(fmt.Sprintf("%.9f", a.EntropyNorm), fmt.Sprintf("%.9f", b.EntropyNorm))
	}) {
		t.Errorf("the study's images are not most uncertain first")
	}
	e := event.Group
	if e.Count != 3 || e.Start != 5 || e.End != 8 || e.Frames != 3 || !strings.HasPrefix(e.ID, "event:drive/front.mp4#t=5.000") {
		t.Fatalf("event entry %+v", e)
	}
	var singles []string
	for _, it := range p.Items {
		if it.Group == nil {
			singles = append(singles, it.Key)
		}
	}
	slices.Sort(singles)
	want := []string{"drive/front.mp4#t=20.000", "photos/a.png", "studies/1.2.3/series/1.2.3.1/instances/1.2.3.1.10",
		"studies/1.2.4/series/1.2.4.1/instances/1.2.4.1.1"}
	if !slices.Equal(singles, want) {
		t.Errorf("single entries %q, want %q", singles, want)
	}
}

func TestOneDecisionLabelsEveryImageOfAGroup(t *testing.T) {
	j := groupedJob(t)
	s := j.open(t, "alice", "")
	h := s.Handler()
	_, study, event := entries(t, s)

	w := post(h, `{"group":"study:1.2.3","decision":"class","class":"nodule"}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"images":11`) || !strings.Contains(w.Body.String(), `"done":1`) {
		t.Fatalf("group decision: %d %s", w.Code, w.Body)
	}
	w = post(h, `{"group":"`+event.Group.ID+`","decision":"accept"}`)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"images":3`) {
		t.Fatalf("accepting the event: %d %s", w.Code, w.Body)
	}
	for _, bad := range []string{`{"group":"study:9.9","decision":"unsure"}`, `{"group":"study:1.2.3","decision":"class","class":"zebra"}`} {
		if w := post(h, bad); w.Code != 400 {
			t.Errorf("%s: %d %s", bad, w.Code, w.Body)
		}
	}
	ds := j.decisions(t, "alice")
	if len(ds) != 14 {
		t.Fatalf("%d decisions stored, want 11 + 3", len(ds))
	}
	predicted := map[string]string{}
	for _, m := range slices.Concat(study.Group.Members, event.Group.Members) {
		predicted[m.Key] = m.Class
	}
	for _, d := range ds {
		group, class := "study:1.2.3", "nodule"
		if strings.HasPrefix(d.Key, "drive/") {
			group, class = event.Group.ID, event.Group.Class
		}
		want := review.Pick
		if predicted[d.Key] == class {
			want = review.Accept
		}
		if d.Group != group || d.Class != class || d.Decision != want || d.Reviewer != "alice" {
			t.Errorf("decision %+v: want %s %s in %s", d, want, class, group)
		}
	}

	// Another server sees both groups decided, and the first open entry after them.
	bob := j.open(t, "bob", "")
	p, study, _ := entries(t, bob)
	if p.Done != 2 || study.Group.Decided != 11 || study.Decided == nil || study.Group.Members[3].Decided == nil {
		t.Fatalf("bob sees done %d, study %+v", p.Done, study)
	}
	st := getJSON[apiState](t, bob.Handler(), "/state")
	if st.Total != 6 || st.Done != 2 || st.FirstOpen < 0 || p.Items[st.FirstOpen].Group != nil {
		t.Fatalf("state %+v", st)
	}
	// One image of the event decided again alone leaves the event decided.
	if w := post(bob.Handler(), `{"key":"`+event.Group.Members[0].Key+`","decision":"unsure"}`); w.Code != 200 {
		t.Fatalf("a member alone: %d %s", w.Code, w.Body)
	}
	if p, _, _ := entries(t, bob); p.Done != 2 {
		t.Errorf("done %d after a member's own decision", p.Done)
	}
}

func TestAReviewerDecidesAStudyInThePage(t *testing.T) {
	j := groupedJob(t)
	s := j.openWith(t, review.Config{Reviewer: "alice", PageSize: 2})
	_, study, _ := entries(t, s)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.URL + "/"))
	b.at(0)
	for i := 1; i <= study.Index; i++ {
		b.key("j", i)
	}
	b.waitFor(`document.querySelectorAll("#item .members .member").length === 11 && document.querySelectorAll("#item .members img").length === 11`)
	if got := b.state(); got.Key != study.Group.Members[0].Key || !strings.Contains(got.Status, "0 of 11 images decided") {
		t.Fatalf("the study shows %+v", got)
	}
	head, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("#item .group-head").textContent`))
	must(t, err)
	if !strings.Contains(head, "Study 1.2.3") || !strings.Contains(head, "11 images for review of 12") {
		t.Errorf("group head %q", head)
	}
	// Its other images are at hand.
	b.do(chromedp.KeyEvent("]"))
	b.waitFor(`document.querySelector("#item .key").textContent === ` + jsString(study.Group.Members[1].Key))
	b.imageShown()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
	must(t, os.WriteFile(filepath.Join(filepath.Dir(screenshotPath), "review-study.png"), png, 0o644))

	// The second of its classes, for all of it; the page moves on.
	b.key("2", study.Index+1)
	ds := j.decisions(t, "alice")
	if len(ds) != 11 || ds[0].Group != "study:1.2.3" {
		t.Fatalf("decisions %+v", ds)
	}
	b.key("k", study.Index)
	if got := b.state(); !got.Done || !strings.Contains(got.Status, "(all 11 images)") || got.Count != "1" {
		t.Fatalf("the decided study shows %+v", got)
	}
	b.do(chromedp.Reload())
	b.waitFor(`document.getElementById("done-count").textContent === "1"`)

	// The event's frames are at hand; the page asks for the picture of its
	// most uncertain frame, which this server cannot make (no video here),
	// and says so.
	_, _, event := entries(t, s)
	b.waitFor(`!document.getElementById("item").hidden`)
	for at := b.state().Index; at != event.Index; {
		if at < event.Index {
			at++
			b.key("j", at)
		} else {
			at--
			b.key("k", at)
		}
	}
	b.waitFor(`document.querySelectorAll("#item .members .member").length === 3 &&
		document.querySelector("#item .image .placeholder").textContent.includes("No image")`)
	b.mu.Lock()
	asked := false
	for _, u := range b.requests {
		asked = asked || strings.Contains(u, "front.mp4")
	}
	b.mu.Unlock()
	if !asked {
		t.Error("the page did not ask for the event's frame")
	}
	b.checkClean(srv.URL)
}

// jsString quotes s for a script.
func jsString(s string) string { return fmt.Sprintf("%q", s) }
