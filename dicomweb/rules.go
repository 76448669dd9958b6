package dicomweb

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SeriesRule selects the series of a study that a model should see (a job
// spec's series_rules). A series is selected when at least one rule
// matches it; a rule matches when every condition it sets holds:
//
//   - Modality: the series' Modality is one of these (CT, MR, …);
//   - BodyPartExamined: its Body Part Examined is one of these (any case);
//   - SeriesDescription: a regular expression (Go RE2 syntax, unanchored:
//     "(?i)^ax" for descriptions starting with ax in any case) that the
//     Series Description matches;
//   - ImageType: values every listed instance's Image Type holds (in any
//     order, any case), e.g. ["ORIGINAL", "PRIMARY", "AXIAL"]: instances
//     without them are left out of the series;
//   - MinInstances: the series has at least this many instances (after
//     ImageType).
//
// The instances listed for a selected series are those that pass the
// ImageType of a rule that matched it.
type SeriesRule struct {
	// Name labels the rule in error messages; optional.
	Name              string   `json:"name,omitempty" mapstructure:"name"`
	Modality          []string `json:"modality,omitempty" mapstructure:"modality"`
	BodyPartExamined  []string `json:"body_part_examined,omitempty" mapstructure:"body_part_examined"`
	SeriesDescription string   `json:"series_description,omitempty" mapstructure:"series_description"`
	ImageType         []string `json:"image_type,omitempty" mapstructure:"image_type"`
	MinInstances      int      `json:"min_instances,omitempty" mapstructure:"min_instances"`
}

// csRE is a DICOM code string value: upper case, digits, space, underscore.
var csRE = regexp.MustCompile(`^[A-Z0-9 _]{1,16}$`)

// ValidateRules names the first wrong rule and field.
func ValidateRules(rules []SeriesRule) error {
	for i, r := range rules {
		if _, err := r.compile(); err != nil {
			name := fmt.Sprintf("series_rules[%d]", i)
			if r.Name != "" {
				name += " (" + r.Name + ")"
			}
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// rule is a SeriesRule ready to match.
type rule struct {
	SeriesRule
	description *regexp.Regexp
}

func (r SeriesRule) compile() (rule, error) {
	cr := rule{SeriesRule: r}
	if len(r.Modality)+len(r.BodyPartExamined)+len(r.ImageType) == 0 && r.SeriesDescription == "" && r.MinInstances == 0 {
		return cr, errors.New("no condition: it would select every series (leave series_rules out for that)")
	}
	for _, v := range r.Modality {
		if !csRE.MatchString(v) {
			return cr, fmt.Errorf("modality %q: want a DICOM code string such as CT", v)
		}
	}
	for _, v := range append(slices.Clone(r.BodyPartExamined), r.ImageType...) {
		if v == "" || len(v) > 16 {
			return cr, fmt.Errorf("value %q: want 1-16 characters (a DICOM code string)", v)
		}
	}
	if r.MinInstances < 0 {
		return cr, fmt.Errorf("min_instances %d: want 0 or more", r.MinInstances)
	}
	if r.SeriesDescription != "" {
		re, err := regexp.Compile(r.SeriesDescription)
		if err != nil {
			return cr, fmt.Errorf("series_description: %w", err)
		}
		cr.description = re
	}
	return cr, nil
}

// series reports whether a series' own attributes pass the rule.
func (r rule) series(m Match) bool {
	return anyOf(r.Modality, m.String(TagModality)) && anyOf(r.BodyPartExamined, m.String(TagBodyPartExamined)) &&
		(r.description == nil || r.description.MatchString(m.String(TagSeriesDescription)))
}

// instance reports whether an instance's Image Type holds the rule's.
func (r rule) instance(m Match) bool {
	have := m.Strings(TagImageType)
	for _, want := range r.ImageType {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(strings.TrimSpace(h), want) }) {
			return false
		}
	}
	return true
}

// anyOf: an empty list allows anything, else v must be in it (any case).
func anyOf(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, strings.TrimSpace(v)) })
}
