package report_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/didicm/didicm/internal/browsertest"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/report"
)

var screenshotPath = browsertest.Screenshot("report.png")

// svgInfo is what the page says of one chart.
type svgInfo struct {
	ID    string  `json:"id"`
	Width float64 `json:"width"`
	Drawn int     `json:"drawn"` // shapes with a non-zero width
}

// pageCheck gathers each chart's drawn size, the scripts in the page and
// the odd class name as the page shows it.
const pageCheck = `({
	charts: [...document.querySelectorAll("svg")].map(s => ({
		id: s.id,
		width: s.getBoundingClientRect().width,
		drawn: [...s.querySelectorAll("rect, line, path")].filter(e => e.getBoundingClientRect().width > 0).length,
	})),
	scripts: document.querySelectorAll("script").length,
	classLabel: [...document.querySelectorAll("#classes text")].map(e => e.textContent).filter(s => s.includes("alert")).join(),
})`

type pageState struct {
	Charts     []svgInfo `json:"charts"`
	Scripts    int       `json:"scripts"`
	ClassLabel string    `json:"classLabel"`
}

// tab is a headless Chromium tab showing one file, with the requests it
// made and what went wrong in it.
type tab struct {
	ctx      context.Context
	file     string
	mu       sync.Mutex
	requests []string
	problems []string
}

// openFile shows a file in a new headless Chromium.
func openFile(t *testing.T, path string) *tab {
	t.Helper()
	bin := browsertest.Chromium(t)
	tb := &tab{file: (&url.URL{Scheme: "file", Path: path}).String()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900))
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	tb.ctx = ctx
	must(t, chromedp.Listen(ctx, func(ev any) {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.requests = append(tb.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning ||
				e.Type == runtime.ConsoleAPICalledTypeAssert {
				tb.problems = append(tb.problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			tb.problems = append(tb.problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				tb.problems = append(tb.problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text)
			}
		}
	}))
	if err := chromedp.Do(ctx, chromedp.Navigate(tb.file)); err != nil {
		t.Fatalf("open %s: %v", tb.file, err)
	}
	return tb
}

// screenshot leaves a picture of the whole page in build/test-artifacts.
func (tb *tab) screenshot(t *testing.T, path string) {
	t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(path), 0o755))
	must(t, os.WriteFile(path, png, 0o644))
}

// checkClean fails the test if the page fetched anything but itself, or
// the browser saw a problem.
func (tb *tab) checkClean(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if !slices.Contains(tb.requests, tb.file) {
		t.Errorf("the listener saw no request for the page itself (%v): it would miss others too", tb.requests)
	}
	for _, u := range tb.requests {
		if u != tb.file {
			t.Errorf("the page fetched %s", u)
		}
	}
	for _, p := range tb.problems {
		t.Errorf("browser: %s", p)
	}
}

// charts checks that every chart is drawn and returns their IDs.
func (tb *tab) charts(t *testing.T) ([]string, pageState) {
	t.Helper()
	state, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageState](pageCheck))
	must(t, err)
	var ids []string
	for _, c := range state.Charts {
		ids = append(ids, c.ID)
		if c.Width <= 0 || c.Drawn == 0 {
			t.Errorf("chart %s is %.0f px wide with %d drawn shapes", c.ID, c.Width, c.Drawn)
		}
	}
	return ids, state
}

func TestTheReportRendersInAHeadlessBrowser(t *testing.T) {
	ctx := context.Background()
	j := newSyntheticJob(t)
	if _, err := pipeline.Finish(ctx, j.store, j.spec); err != nil {
		t.Fatal(err)
	}
	must(t, report.Write(ctx, j.store, report.Options{Labels: j.labels}))
	tb := openFile(t, j.path(j.store.Layout().Report()))
	title, err := chromedp.Run(tb.ctx, chromedp.Title())
	if err != nil || title != "didicm report: job synthetic" {
		t.Fatalf("title %q, %v", title, err)
	}
	ids, state := tb.charts(t)
	want := []string{"throughput", "classes", "entropy", "max-prob-quantiles", "set-sizes", "errors", "reliability"}
	if !slices.Equal(ids, want) {
		t.Errorf("charts %v, want %v", ids, want)
	}
	if state.Scripts != 0 || state.ClassLabel != oddClass {
		t.Errorf("%d scripts; the odd class shows as %q", state.Scripts, state.ClassLabel)
	}
	tb.screenshot(t, screenshotPath)
	tb.checkClean(t)
}
