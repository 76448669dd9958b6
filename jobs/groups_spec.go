package jobs

import (
	"fmt"
	"time"
)

// GroupsSpec is how a finished job's images are grouped (package
// grouping): studies and series, and events of videos and logs.
type GroupsSpec struct {
	// Rule makes a group's posterior of its images': "mean" (empty) or
	// "max" (per class, the image most sure of it: "any image shows it").
	Rule string `json:"rule,omitempty" mapstructure:"rule"`
	// Gap is the most time between a file's uncertain frames of one event,
	// a Go duration; empty means twice the sampling step.
	Gap string `json:"gap,omitempty" mapstructure:"gap"`
}

// GapDuration is Gap as a duration (0: the default).
func (g GroupsSpec) GapDuration() time.Duration {
	d, _ := time.ParseDuration(g.Gap)
	return d
}

func (g GroupsSpec) validate() error {
	if g.Rule != "" && g.Rule != "mean" && g.Rule != "max" {
		return fmt.Errorf("groups rule %q: want mean or max", g.Rule)
	}
	if d, err := time.ParseDuration(g.Gap); g.Gap != "" && (err != nil || d <= 0) {
		return fmt.Errorf("groups gap %q: want a positive duration such as 3s", g.Gap)
	}
	return nil
}
