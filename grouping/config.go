package grouping

import (
	"fmt"
	"time"

	"github.com/didicm/didicm/pipeline"
)

// Rule is how a group's posterior is made of its images' posteriors
// (see the package comment).
type Rule string

// The rules.
const (
	Mean Rule = "mean" // the average image
	Max  Rule = "max"  // per class, the image most sure of it; renormalised
)

// The defaults of Config's zero fields.
const (
	DefaultDrivers      = 5
	DefaultTimelineBins = 240
)

// FormatVersion is the format of the lines of studies.jsonl, series.jsonl,
// events.jsonl and timelines.jsonl: each line carries it.
const FormatVersion = 1

// Config says how records are grouped.
type Config struct {
	// Rule makes a group's posterior; empty means Mean.
	Rule Rule
	// Drivers is how many of a group's images are listed as having driven
	// its answer; zero means DefaultDrivers.
	Drivers int
	// Review is the job's review rule (pipeline.RuleOf): it says which
	// frames are uncertain, and its Threshold flags groups.
	Review pipeline.ReviewRule
	// Classes are the class names in index order (the job's class_names);
	// empty means the names the records give. Their number is K.
	Classes []string
	// Step is the sampling step of videos and logs (the job's
	// video.every); zero means unknown: each stream's mean spacing.
	Step time.Duration
	// Gap is the most time between two uncertain frames of one event;
	// zero means twice the step.
	Gap time.Duration
	// TimelineBins bounds the bins of a stream's timeline; zero means
	// DefaultTimelineBins.
	TimelineBins int
}

// withDefaults checks c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	switch c.Rule {
	case "":
		c.Rule = Mean
	case Mean, Max:
	default:
		return c, fmt.Errorf("grouping rule %q: want mean or max", c.Rule)
	}
	if c.Drivers <= 0 {
		c.Drivers = DefaultDrivers
	}
	if c.TimelineBins <= 0 {
		c.TimelineBins = DefaultTimelineBins
	}
	if c.TimelineBins < 2 {
		c.TimelineBins = 2
	}
	if c.Step < 0 || c.Gap < 0 {
		return c, fmt.Errorf("grouping step %s, gap %s: want 0 or more", c.Step, c.Gap)
	}
	return c, nil
}
