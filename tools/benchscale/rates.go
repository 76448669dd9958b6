package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

type tenthRates struct{ first, last float64 }

// tenths measures images/s in the first and the last tenth of a job's
// batches, in the order they finished: the images of the batches that
// finished in that tenth, over the time from the tenth's first finish to
// its last.
func tenths(man jobs.Manifest, done map[int]time.Time) (tenthRates, error) {
	type fin struct {
		at     time.Time
		images int
	}
	var fins []fin
	for i, at := range done {
		if i < len(man.Batches) {
			fins = append(fins, fin{at, man.Batches[i]})
		}
	}
	if len(fins) < 20 || len(fins) < len(man.Batches) {
		return tenthRates{}, fmt.Errorf("%d of %d batches done: want a finished job of 20 batches or more", len(fins), len(man.Batches))
	}
	slices.SortFunc(fins, func(a, b fin) int { return a.at.Compare(b.at) })
	rate := func(part []fin) float64 {
		n := 0
		for _, f := range part[1:] { // the images finished after the tenth's first finish
			n += f.images
		}
		return float64(n) / part[len(part)-1].at.Sub(part[0].at).Seconds()
	}
	k := len(fins) / 10
	return tenthRates{first: rate(fins[:k]), last: rate(fins[len(fins)-k:])}, nil
}

// finishTimes reads how long the worker took, after the last batch's
// results, to write summary.json, and after it report.html (the
// objects' times).
func finishTimes(ctx context.Context, store *jobs.Store, done map[int]time.Time) (summary, report time.Duration, err error) {
	var last time.Time
	for _, at := range done {
		if at.After(last) {
			last = at
		}
	}
	lay := store.Layout()
	b, err := storage.Open(ctx, store.Ref.OutputURL)
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	objs, err := b.List(ctx, lay.Root+"/", storage.Filter{Include: []string{"summary.json", "report.html"}})
	if err != nil {
		return 0, 0, err
	}
	at := map[string]time.Time{}
	for _, o := range objs {
		at[o.Key] = o.ModTime
	}
	return at[lay.Summary()].Sub(last), at[lay.Report()].Sub(at[lay.Summary()]), nil
}

// outputBytes sums the sizes of a job's objects (results, stats,
// manifests, summary, report, review list).
func outputBytes(args []string) error {
	fs := flag.NewFlagSet("bytes", flag.ExitOnError)
	url := fs.String("output", "", "output bucket URL")
	prefix := fs.String("prefix", "", "output prefix")
	id := fs.String("job", "", "job ID")
	_ = fs.Parse(args)
	ctx := context.Background()
	b, err := storage.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer b.Close()
	lay, err := jobs.NewLayout(*prefix, *id)
	if err != nil {
		return err
	}
	var total, results int64
	err = b.Walk(ctx, lay.Root+"/", storage.Filter{}, func(o storage.Object) error {
		total += o.Size
		if strings.HasPrefix(o.Key, lay.ResultsDir()) {
			results += o.Size
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("output_bytes %d\nresults_bytes %d\n", total, results)
	return nil
}
