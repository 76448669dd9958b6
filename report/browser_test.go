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
		drawn: [...s.querySelectorAll("rect, line")].filter(e => e.getBoundingClientRect().width > 0).length,
	})),
	scripts: document.querySelectorAll("script").length,
	classLabel: [...document.querySelectorAll("#classes text")].map(e => e.textContent).filter(s => s.includes("alert")).join(),
})`

type pageState struct {
	Charts     []svgInfo `json:"charts"`
	Scripts    int       `json:"scripts"`
	ClassLabel string    `json:"classLabel"`
}

func TestTheReportRendersInAHeadlessBrowser(t *testing.T) {
	bin := browsertest.Chromium(t)
	ctx := context.Background()
	j := newSyntheticJob(t)
	if _, err := pipeline.Finish(ctx, j.store, j.spec); err != nil {
		t.Fatal(err)
	}
	must(t, report.Write(ctx, j.store, report.Options{Labels: j.labels}))
	file := (&url.URL{Scheme: "file", Path: j.path(j.store.Layout().Report())}).String()

	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900))
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	var mu sync.Mutex
	var requests, problems []string
	must(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning ||
				e.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text)
			}
		}
	}))
	if err := chromedp.Do(ctx, chromedp.Navigate(file)); err != nil {
		t.Fatalf("open %s: %v", file, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil || title != "didicm report: job synthetic" {
		t.Fatalf("title %q, %v", title, err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](pageCheck))
	must(t, err)
	var ids []string
	for _, c := range state.Charts {
		ids = append(ids, c.ID)
		if c.Width <= 0 || c.Drawn == 0 {
			t.Errorf("chart %s is %.0f px wide with %d drawn shapes", c.ID, c.Width, c.Drawn)
		}
	}
	want := []string{"throughput", "classes", "entropy", "max-prob-quantiles", "set-sizes", "errors", "reliability"}
	if !slices.Equal(ids, want) {
		t.Errorf("charts %v, want %v", ids, want)
	}
	if state.Scripts != 0 || state.ClassLabel != oddClass {
		t.Errorf("%d scripts; the odd class shows as %q", state.Scripts, state.ClassLabel)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(screenshotPath), 0o755))
	must(t, os.WriteFile(screenshotPath, png, 0o644))

	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(requests, file) {
		t.Errorf("the listener saw no request for the page itself (%v): it would miss others too", requests)
	}
	for _, u := range requests {
		if u != file {
			t.Errorf("the page fetched %s", u)
		}
	}
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}
