package review_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
)

var screenshotPath = browsertest.Screenshot("review.png")

// pageState is what the page shows: every item's key, whether it is done
// and its status line, which one is visible, and the counters.
type pageState struct {
	Keys     []string `json:"keys"`
	Done     []bool   `json:"done"`
	Status   []string `json:"status"`
	Current  int      `json:"current"`
	Position string   `json:"position"`
	Count    string   `json:"count"`
	Message  string   `json:"message"`
	OddClass string   `json:"oddClass"`
	Scripts  int      `json:"scripts"`
}

const stateJS = `(() => {
	const items = [...document.querySelectorAll("#items > .item")];
	return {
		keys: items.map(li => li.dataset.key),
		done: items.map(li => li.classList.contains("done")),
		status: items.map(li => li.querySelector(".status").textContent.trim()),
		current: items.findIndex(li => !li.hidden),
		position: document.getElementById("position").textContent,
		count: document.getElementById("done-count").textContent,
		message: document.getElementById("message").textContent,
		oddClass: [...document.querySelectorAll(".classes .name")].map(e => e.textContent).find(s => s.includes("owl")) || "",
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
	b.waitFor(`document.querySelector("#item-` + itoa(want) + `:not([hidden])")`)
}

func (b *browser) waitFor(expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v (page: %+v)", expr, err, b.state())
	}
}

// imageShown waits for item i's thumbnail and returns its natural width.
func (b *browser) imageShown(i int) int {
	b.t.Helper()
	sel := `document.querySelector("#item-` + itoa(i) + ` .image img")`
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

func itoa(i int) string { return string(rune('0' + i)) }

func TestAReviewerWorksThroughTheListWithTheKeyboard(t *testing.T) {
	j := newTestJob(t)
	alice := httptest.NewServer(j.open(t, "alice", "").Handler())
	defer alice.Close()
	b := newBrowser(t)

	b.do(chromedp.Navigate(alice.URL + "/"))
	title, err := chromedp.Run(b.ctx, chromedp.Title())
	if err != nil || title != "didicm review: job night-1" {
		t.Fatalf("title %q, %v", title, err)
	}
	s := b.state()
	if !slices.Equal(s.Keys, j.order) {
		t.Fatalf("order %v, want %v", s.Keys, j.order)
	}
	if s.Current != 0 || s.Position != "1" || s.Count != "0" || s.OddClass != oddClass || s.Scripts != 1 {
		t.Fatalf("first view: %+v", s)
	}
	if w := b.imageShown(0); w != 512 {
		t.Errorf("the 900 px image's thumbnail is %d px wide, want 512", w)
	}

	// Look around, then open the first image at full size.
	b.key("j", 1)
	b.key(kb.ArrowRight, 2)
	b.key("k", 1)
	b.key(kb.ArrowLeft, 0)
	b.do(chromedp.Click("#item-0 .image"))
	b.waitFor(`!document.getElementById("full").hidden && document.querySelector("#full img").naturalWidth === 900`)
	b.do(chromedp.KeyEvent(kb.Escape))
	b.waitFor(`document.getElementById("full").hidden`)

	// Accept a, pick b's second class, mark c unsure; each moves on.
	b.key(kb.Enter, 1)
	b.key("2", 2)
	b.key("u", 3)
	s = b.state()
	if s.Count != "3" || !slices.Equal(s.Done, []bool{true, true, true, false, false}) || s.Message != "" {
		t.Fatalf("after three decisions: %+v", s)
	}

	// The broken image shows a placeholder and cannot be accepted.
	b.key("j", 4)
	b.waitFor(`document.querySelector("#item-4 .image .placeholder.failed")`)
	b.do(chromedp.KeyEvent("a"))
	b.waitFor(`document.getElementById("message").textContent.includes("no prediction")`)

	want := []struct{ decision, class string }{{"accept", "cat"}, {"class", "cat"}, {"unsure", ""}}
	ds := j.decisions(t, "alice")
	if len(ds) != len(want) {
		t.Fatalf("reviews/alice.jsonl: %+v", ds)
	}
	for i, d := range ds {
		if _, err := time.Parse(time.RFC3339, d.Time); err != nil || d.Key != j.order[i] || d.Reviewer != "alice" ||
			d.Decision != want[i].decision || d.Class != want[i].class {
			t.Errorf("line %d: %+v, want %s %s %v", i+1, d, j.order[i], want[i], err)
		}
	}

	// A reload keeps the decisions and starts at the first open item.
	b.do(chromedp.Reload())
	s = b.state()
	if s.Count != "3" || !slices.Equal(s.Done, []bool{true, true, true, false, false}) || s.Current != 3 {
		t.Fatalf("after a reload: %+v", s)
	}
	if !strings.Contains(s.Status[1], "class cat by alice") || !strings.Contains(s.Status[2], "unsure by alice") {
		t.Fatalf("statuses after a reload: %q", s.Status)
	}

	// A second reviewer's server sees alice's decisions, and writes its own file.
	bob := httptest.NewServer(j.open(t, "bob", "").Handler())
	defer bob.Close()
	b.do(chromedp.Navigate(bob.URL + "/"))
	s = b.state()
	if s.Count != "3" || s.Current != 3 || !strings.Contains(s.Status[0], "accept cat by alice") {
		t.Fatalf("bob's first view: %+v", s)
	}
	b.imageShown(3)
	b.key("1", 4)
	if ds := j.decisions(t, "bob"); len(ds) != 1 || ds[0].Key != "archive/d.png" || ds[0].Decision != "class" || ds[0].Class != "dog" {
		t.Fatalf("reviews/bob.jsonl: %+v", ds)
	}
	if got := j.decisions(t, "alice"); len(got) != 3 {
		t.Fatalf("bob's decision changed alice's file: %+v", got)
	}

	b.key("k", 3)
	b.imageShown(3)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
	must(t, os.WriteFile(screenshotPath, png, 0o644))
	b.checkClean(alice.URL, bob.URL)
}
