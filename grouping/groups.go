package grouping

import (
	"cmp"
	"maps"
	"slices"

	"github.com/didicm/didicm/pipeline"
)

// The levels of a group.
const (
	Study  = "study"
	Series = "series"
)

// Group is one line of studies.jsonl or series.jsonl: a study's or
// series' answer from its images.
type Group struct {
	FormatVersion int    `json:"format_version"`
	Level         string `json:"level"` // Study or Series
	StudyUID      string `json:"study_uid"`
	SeriesUID     string `json:"series_uid,omitempty"`
	Rule          Rule   `json:"rule"`
	// Images counts the group's records; Classified and Errors split them.
	Images       int            `json:"images"`
	Classified   int            `json:"classified"`
	Errors       int            `json:"errors"`
	ErrorReasons map[string]int `json:"error_reasons,omitempty"`
	// ReviewImages counts the images the job's rule sent to review.jsonl
	// (failed ones too).
	ReviewImages int `json:"review_images"`
	// SeriesCount is a study's number of series (0 for a series).
	SeriesCount int `json:"series,omitempty"`
	// Class names the group's class (Uncertainty.ClassIndex); Posterior is
	// P, K values in class order (none when nothing was classified).
	Class     string    `json:"class,omitempty"`
	Posterior []float64 `json:"posterior,omitempty"`
	Uncertainty
	// PredictionSet and SetSize are a study's prediction set (class names,
	// most probable first) when the job has a study calibration; Review is
	// then a set of other than exactly one class.
	PredictionSet []string `json:"prediction_set,omitempty"`
	SetSize       *int     `json:"set_size,omitempty"`
	// Review flags the group: entropy_norm above the job's threshold, or
	// nothing classified (or, with a prediction set, its size).
	Review bool `json:"review"`
	// Drivers are the images with the highest probability of Class, most
	// first.
	Drivers []Driver `json:"drivers"`
}

// Driver is one image that drove a group's answer.
type Driver struct {
	Key string `json:"key"`
	// Prob is the image's probability of the group's class.
	Prob float64 `json:"prob"`
	// Class, MaxProb and EntropyNorm are the image's own.
	Class       string  `json:"class"`
	MaxProb     float64 `json:"max_prob"`
	EntropyNorm float64 `json:"entropy_norm"`
}

// groupKey names a group: its study, and its series for a series.
type groupKey struct{ study, series string }

// agg is one group's running numbers: K values, counts and, in the second
// pass, its drivers.
type agg struct {
	key                                groupKey
	images, classified, errors, review int
	reasons                            map[string]int
	acc                                []float64 // summed or largest p per class; P once settled
	u                                  Uncertainty
	drivers                            []Driver
}

// groups are the groups of one level, in the order they were first seen.
type groups struct {
	level string
	res   *Result
	index map[groupKey]int
	all   []*agg
}

func newGroups(level string, res *Result) *groups {
	return &groups{level: level, res: res, index: map[groupKey]int{}}
}

func (g *groups) len() int { return len(g.all) }

func (g *groups) keyOf(r *pipeline.Record) groupKey {
	if g.level == Series {
		return groupKey{r.StudyUID, r.SeriesUID}
	}
	return groupKey{study: r.StudyUID}
}

// add folds a record into its group (first pass).
func (g *groups) add(r *pipeline.Record) {
	k := g.keyOf(r)
	i, ok := g.index[k]
	if !ok {
		i = len(g.all)
		g.index[k] = i
		g.all = append(g.all, &agg{key: k})
	}
	a := g.all[i]
	a.images++
	if r.Error != "" || g.res.cfg.Review.Wants(*r) {
		a.review++
	}
	if r.Error != "" {
		a.errors++
		if a.reasons == nil {
			a.reasons = map[string]int{}
		}
		a.reasons[r.ErrorReason]++
		return
	}
	a.classified++
	a.acc = fold(a.acc, r, g.res.cfg.Rule, g.res.names.k)
}

// settle turns each group's running values into P and its class, after
// the first pass.
func (g *groups) settle() {
	k := g.res.names.k
	for _, a := range g.all {
		for len(a.acc) < k && a.classified > 0 {
			a.acc = append(a.acc, 0)
		}
		a.u = normalise(a.acc)
	}
}

// drive offers a record as a driver of its group (second pass).
func (g *groups) drive(r *pipeline.Record) {
	if r.Error != "" || r.StudyUID == "" || (g.level == Series && r.SeriesUID == "") {
		return
	}
	i, ok := g.index[g.keyOf(r)]
	if !ok || g.all[i].u.ClassIndex < 0 {
		return
	}
	a := g.all[i]
	d := Driver{Key: r.Key, Prob: prob(r, a.u.ClassIndex, g.res.names.k), Class: r.Class, MaxProb: r.MaxProb, EntropyNorm: r.EntropyNorm}
	a.drivers = keepTop(a.drivers, d, g.res.cfg.Drivers)
}

// keepTop inserts d into ds (most probable first, ties by key) and keeps
// the first n.
func keepTop(ds []Driver, d Driver, n int) []Driver {
	at, _ := slices.BinarySearchFunc(ds, d, func(e, t Driver) int {
		return cmp.Or(cmp.Compare(t.Prob, e.Prob), cmp.Compare(e.Key, t.Key))
	})
	if at >= n {
		return ds
	}
	ds = slices.Insert(ds, at, d)
	return ds[:min(len(ds), n)]
}

// results are the groups as lines; a study's series are counted from
// series (nil: none).
func (g *groups) results(series *groups) []Group {
	perStudy := map[string]int{}
	if series != nil {
		for k := range series.index {
			perStudy[k.study]++
		}
	}
	out := make([]Group, len(g.all))
	for i, a := range g.all {
		out[i] = Group{FormatVersion: FormatVersion, Level: g.level, StudyUID: a.key.study, SeriesUID: a.key.series,
			Rule: g.res.cfg.Rule, Images: a.images, Classified: a.classified, Errors: a.errors,
			ErrorReasons: maps.Clone(a.reasons), ReviewImages: a.review, SeriesCount: perStudy[a.key.study],
			Uncertainty: a.u, Drivers: slices.Clone(a.drivers)}
		if a.u.ClassIndex >= 0 {
			out[i].Class = g.res.names.of(a.u.ClassIndex)
			out[i].Posterior = slices.Clone(a.acc)
		}
		out[i].Review = a.u.ClassIndex < 0 || a.u.EntropyNorm > g.res.cfg.Review.Threshold
		if out[i].Drivers == nil {
			out[i].Drivers = []Driver{}
		}
	}
	return out
}
