package grouping_test

import (
	"fmt"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// A study of three images in two series, one of which failed: by the mean
// rule its answer is the average of the two classified images.
func Example() {
	image := func(key, series string, p ...float64) pipeline.Record {
		r := pipeline.Record{Record: classify.Record{Key: key, StudyUID: "1.2.3", SeriesUID: series, Posterior: p, ClassIndex: -1}}
		if p == nil {
			r.Error, r.ErrorReason = "corrupt: truncated", "corrupt"
		}
		return r
	}
	records := []pipeline.Record{
		image("ct/1.dcm", "1.2.3.1", 0.9, 0.1),
		image("ct/2.dcm", "1.2.3.1", 0.3, 0.7),
		image("ct/3.dcm", "1.2.3.2"),
	}
	cfg := grouping.Config{Rule: grouping.Mean, Classes: []string{"normal", "nodule"},
		Review: pipeline.ReviewRule{Threshold: 0.5}}
	res, err := grouping.Run(cfg, func(fn func(pipeline.Record) error) error {
		for _, r := range records {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	for _, s := range res.Studies() {
		fmt.Printf("study %s: %s p=%.2f entropy_norm=%.3f review=%v, %d images in %d series, %d failed\n",
			s.StudyUID, s.Class, s.MaxProb, s.EntropyNorm, s.Review, s.Images, s.SeriesCount, s.Errors)
		for _, d := range s.Drivers {
			fmt.Printf("  driven by %s (p=%.1f)\n", d.Key, d.Prob)
		}
	}
	// Output:
	// study 1.2.3: normal p=0.60 entropy_norm=0.971 review=true, 3 images in 2 series, 1 failed
	//   driven by ct/1.dcm (p=0.9)
	//   driven by ct/2.dcm (p=0.3)
}
