// Command simulate measures calibrations where a labelled folder cannot:
// per class over many splits, from a simulated job's review decisions
// against a random labelled sample, and of studies made of digits. It
// reads labelled posteriors (the records of `didicm classify --format
// jsonl` and the demo's labels.json) and calls package calibrate as
// `didicm calibrate` does. scripts/calibration-conditional.sh runs it;
// docs/calibration.md has its tables.
//
//	go run ./calibrate/internal/simulate -records R.jsonl -labels labels.json [-seeds 20] classes|reviews|studies
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/didicm/didicm/pipeline"
)

// digit is one labelled, classified image.
type digit struct {
	rec pipeline.Record
	y   int
}

func main() {
	records := flag.String("records", "", "didicm classify --format jsonl output")
	labels := flag.String("labels", "", "the demo's labels.json (keys relative to its archive folder)")
	seeds := flag.Int("seeds", 20, "splits to measure over")
	alpha := flag.Float64("alpha", 0.1, "miscoverage")
	flag.Parse()
	ds, names, err := load(*records, *labels)
	if err == nil {
		switch flag.Arg(0) {
		case "classes":
			err = classes(ds, *alpha, *seeds)
		case "reviews":
			err = reviews(ds, *alpha, *seeds)
		case "studies":
			err = studies(ds, names, *alpha, *seeds)
		default:
			err = fmt.Errorf("measure %q: want classes, reviews or studies", flag.Arg(0))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

// load reads the classified records that have a label (keys matched after
// the archive folder), and the class names the records give.
func load(recordsPath, labelsPath string) ([]digit, []string, error) {
	data, err := os.ReadFile(labelsPath)
	if err != nil {
		return nil, nil, err
	}
	var truth map[string]int
	if err := json.Unmarshal(data, &truth); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", labelsPath, err)
	}
	f, err := os.Open(recordsPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var ds []digit
	var names []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r pipeline.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", recordsPath, err)
		}
		_, rel, _ := strings.Cut(r.Key, "/archive/")
		y, ok := truth[rel]
		if r.Error != "" || !ok || !strings.HasPrefix(rel, "shard-") {
			continue
		}
		for len(names) < len(r.Posterior) {
			names = append(names, "")
		}
		names[r.ClassIndex] = r.Class
		ds = append(ds, digit{rec: r, y: y})
	}
	if len(ds) == 0 {
		return nil, nil, fmt.Errorf("%s: no labelled records", recordsPath)
	}
	return ds, names, sc.Err()
}
