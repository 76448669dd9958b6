package jobs

import (
	"cmp"
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

// validateStudyCalibration checks the embedded study calibration: a valid
// file fitted by study for the job's model and K, on the job's rule.
func (s *Spec) validateStudyCalibration() error {
	c := s.StudyCalibration
	if c == nil {
		return nil
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if err := c.ForStudies(cmp.Or(s.ModelSHA256, c.ModelSHA256), cmp.Or(len(s.ClassNames), c.Classes)); err != nil {
		return err
	}
	if rule := cmp.Or(s.Groups.Rule, "mean"); c.StudyRule != rule {
		return fmt.Errorf("fitted on %s study posteriors, the job's groups rule is %s", c.StudyRule, rule)
	}
	return nil
}
