package review_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/didicm/didicm/internal/browsertest"
	"github.com/didicm/didicm/review"
)

var screenshotPath = browsertest.Screenshot("review.png")

// pageState is what the page shows: the item on screen (its index in the
// list, key, whether it is done, its status line and class names) and the
// counters.
type pageState struct {
	Index    int      `json:"index"`
	Key      string   `json:"key"`
	Done     bool     `json:"done"`
	Status   string   `json:"status"`
	Names    []string `json:"names"`
	Position string   `json:"position"`
	Count    string   `json:"count"`
	Message  string   `json:"message"`
	Scripts  int      `json:"scripts"`
}

const stateJS = `(() => {
	const v = document.getElementById("item");
	return {
		index: v.hidden ? -1 : Number(v.dataset.index),
		key: v.querySelector(".key").textContent,
		done: v.classList.contains("done"),
		status: v.querySelector(".status").textContent.trim(),
		names: [...v.querySelectorAll(".classes .name")].map(e => e.textContent),
		position: document.getElementById("position").textContent,
		count: document.getElementById("done-count").textContent,
		message: document.getElementById("message").textContent,
		scripts: document.querySelectorAll("script").length,
	};
})()`

// browser is one headless Chromium tab that records what the page fetched
// and what went wrong in it.
type browser struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := browsertest.Chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1100, 800))
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: ctx}
	must(t, chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				b.problems = append(b.problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			// The broken image's 422 is expected; anything else is not.
			if (e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning) && !strings.Contains(e.Entry.Text, "422") {
				b.problems = append(b.problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text)
			}
		}
	}))
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) state() pageState {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](stateJS))
	must(b.t, err)
	return s
}

// key presses a key and waits until item want is the one shown.
func (b *browser) key(k string, want int) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(k))
	b.at(want)
}

// at waits until item i of the list is the one shown.
func (b *browser) at(i int) {
	b.t.Helper()
	n := strconv.Itoa(i)
	b.waitFor(`document.querySelector("#item:not([hidden])[data-index='` + n + `']") && document.getElementById("position").textContent === "` + strconv.Itoa(i+1) + `"`)
}

func (b *browser) waitFor(expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v (page: %+v)", expr, err, b.state())
	}
}

// imageShown waits for the shown item's thumbnail and returns its natural
// width.
func (b *browser) imageShown() int {
	b.t.Helper()
	sel := `document.querySelector("#item .image img")`
	b.waitFor(sel + `?.complete && ` + sel + `.naturalWidth > 0`)
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](sel+`.naturalWidth`))
	must(b.t, err)
	return w
}

func (b *browser) checkClean(origins ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if !slices.ContainsFunc(origins, func(o string) bool { return strings.HasPrefix(u, o+"/") }) && !strings.HasPrefix(u, "blob:") {
			b.t.Errorf("the page fetched %s", u)
		}
	}
	for _, p := range b.problems {
		b.t.Errorf("browser: %s", p)
	}
}

func TestAReviewerWorksThroughTheListWithTheKeyboard(t *testing.T) {
	j := newTestJob(t)
	// Pages of two items: moving and deciding cross page boundaries.
	alice := httptest.NewServer(j.openWith(t, review.Config{Reviewer: "alice", PageSize: 2}).Handler())
	defer alice.Close()
	b := newBrowser(t)

	b.do(chromedp.Navigate(alice.URL + "/"))
	title, err := chromedp.Run(b.ctx, chromedp.Title())
	if err != nil || title != "didicm review: job night-1" {
		t.Fatalf("title %q, %v", title, err)
	}
	b.at(0)
	s := b.state()
	if s.Key != j.order[0] || s.Count != "0" || !slices.Contains(s.Names, oddClass) || s.Scripts != 1 {
		t.Fatalf("first view: %+v", s)
	}
	if w := b.imageShown(); w != 512 {
		t.Errorf("the 900 px image's thumbnail is %d px wide, want 512", w)
	}

	// Look around (items 1 and 2 are on different pages), then open the
	// first image at full size.
	for _, step := range []struct {
		key  string
		want int
	}{{"j", 1}, {kb.ArrowRight, 2}, {"j", 3}, {"k", 2}, {"k", 1}, {kb.ArrowLeft, 0}} {
		b.key(step.key, step.want)
		if k := b.state().Key; k != j.order[step.want] {
			t.Fatalf("item %d shows %q, want %q", step.want, k, j.order[step.want])
		}
	}
	b.do(chromedp.Click("#item .image"))
	b.waitFor(`!document.getElementById("full").hidden && document.querySelector("#full img").naturalWidth === 900`)
	b.do(chromedp.KeyEvent(kb.Escape))
	b.waitFor(`document.getElementById("full").hidden`)

	// Accept a, pick b's second class, mark c unsure; each moves on.
	b.key(kb.Enter, 1)
	b.key("2", 2)
	b.key("u", 3)
	if s := b.state(); s.Count != "3" || s.Done || s.Message != "" {
		t.Fatalf("after three decisions: %+v", s)
	}

	// The broken image shows a placeholder and cannot be accepted.
	b.key("j", 4)
	b.waitFor(`document.querySelector("#item .image .placeholder.failed")`)
	b.do(chromedp.KeyEvent("a"))
	b.waitFor(`document.getElementById("message").textContent.includes("no prediction")`)

	want := []struct{ decision, class string }{{"accept", "cat"}, {"class", "cat"}, {"unsure", ""}}
	ds := j.decisions(t, "alice")
	if len(ds) != len(want) {
		t.Fatalf("alice's decisions: %+v", ds)
	}
	for i, d := range ds {
		if _, err := time.Parse(time.RFC3339, d.Time); err != nil || d.Key != j.order[i] || d.Reviewer != "alice" ||
			d.Decision != want[i].decision || d.Class != want[i].class {
			t.Errorf("decision %d: %+v, want %s %s %v", i+1, d, j.order[i], want[i], err)
		}
	}

	// A reload keeps the decisions and starts at the first open item, on
	// the second page; the earlier ones show what was decided.
	b.do(chromedp.Reload())
	b.at(3)
	if s := b.state(); s.Count != "3" || s.Done {
		t.Fatalf("after a reload: %+v", s)
	}
	b.key("k", 2)
	if s := b.state(); !s.Done || !strings.Contains(s.Status, "unsure by alice") {
		t.Fatalf("item 2 after a reload: %+v", s)
	}
	b.key("k", 1)
	if s := b.state(); !strings.Contains(s.Status, "class cat by alice") {
		t.Fatalf("item 1 after a reload: %+v", s)
	}
	b.do(chromedp.KeyEvent("f"))
	b.at(3)

	// A second reviewer's server sees alice's decisions and writes its own.
	bob := httptest.NewServer(j.openWith(t, review.Config{Reviewer: "bob", PageSize: 2}).Handler())
	defer bob.Close()
	b.do(chromedp.Navigate(bob.URL + "/"))
	b.at(3)
	if s := b.state(); s.Count != "3" {
		t.Fatalf("bob's first view: %+v", s)
	}
	b.imageShown()
	b.key("1", 4)
	// Any of the job's classes, typed: the broken image is a fox.
	b.do(chromedp.KeyEvent("c"))
	b.waitFor(`document.activeElement === document.getElementById("other-class")`)
	b.do(chromedp.SendKeys("#other-class", "fox"+kb.Enter))
	b.waitFor(`document.getElementById("done-count").textContent === "5"`)
	ds = j.decisions(t, "bob")
	if len(ds) != 2 || ds[0].Key != "archive/d.png" || ds[0].Class != "dog" || ds[1].Key != "archive/broken.png" || ds[1].Class != "fox" {
		t.Fatalf("bob's decisions: %+v", ds)
	}
	if got := j.decisions(t, "alice"); len(got) != 3 {
		t.Fatalf("bob's decisions changed alice's: %+v", got)
	}

	b.key("k", 3)
	b.imageShown()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
	must(t, os.WriteFile(screenshotPath, png, 0o644))
	b.checkClean(alice.URL, bob.URL)
}

func TestEveryKeyIsShownAndDecidedInThePage(t *testing.T) {
	j := namesJob(t)
	srv := httptest.NewServer(j.openWith(t, review.Config{Reviewer: "alice", PageSize: 2}).Handler())
	defer srv.Close()
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.URL + "/"))
	widths := []int{16, 16, 16, 40, 20, 12}
	for i, key := range j.order {
		b.at(i)
		if s := b.state(); s.Key != key {
			t.Fatalf("item %d shows the key %q, want %q", i, s.Key, key)
		}
		if w := b.imageShown(); w != widths[i] {
			t.Fatalf("%q: an image %d px wide, want %d", key, w, widths[i])
		}
		b.do(chromedp.KeyEvent("u"))
	}
	b.waitFor(`document.getElementById("done-count").textContent === "6"`)
	var got []string
	for _, d := range j.decisions(t, "alice") {
		got = append(got, d.Key)
	}
	if !slices.Equal(got, j.order) {
		t.Fatalf("decided %q, want %q", got, j.order)
	}
	b.checkClean(srv.URL)
}

func TestAListOfAHundredThousandPages(t *testing.T) {
	const n = 100_000
	recs, keys := listOf(n)
	j := jobOn(t, "file://"+t.TempDir(), recs, nil, nil)
	// Another reviewer decided the first half (an older version's file).
	var old strings.Builder
	for _, key := range keys[:n/2] {
		old.WriteString(`{"key":"` + key + `","decision":"unsure","class":"","reviewer":"carol","time":"2026-12-01T10:00:00Z"}` + "\n")
	}
	writeInputs(t, j, map[string][]byte{j.store.Layout().Reviews("carol"): []byte(old.String())})
	srv := httptest.NewServer(j.open(t, "alice", "").Handler())
	defer srv.Close()
	b := newBrowser(t)
	b.do(chromedp.Navigate(srv.URL + "/"))
	b.at(n / 2)
	if s := b.state(); s.Count != strconv.Itoa(n/2) || s.Key != keys[n/2] || b.pageBytes() > 64<<10 {
		t.Fatalf("first view: %+v", s)
	}
	b.key("k", n/2-1)
	if s := b.state(); !strings.Contains(s.Status, "unsure by carol") {
		t.Fatalf("a decided item: %+v", s)
	}
	b.key("a", n/2)
	b.key("a", n/2+1)
	b.do(chromedp.Reload())
	b.at(n/2 + 1)
	if s := b.state(); s.Count != strconv.Itoa(n/2+1) {
		t.Fatalf("after a reload: %+v", s)
	}
	b.checkClean(srv.URL)
}

// pageBytes is the size of the page's HTML as loaded.
func (b *browser) pageBytes() int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.outerHTML.length`))
	must(b.t, err)
	return n
}
