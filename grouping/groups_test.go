package grouping_test

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/didicm/didicm/classify"
	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/pipeline"
)

// archive is 12 studies of 1-4 series of 1-20 images, K=7, about 5% of
// images failed, in an order where studies interleave.
func archive(r *rand.Rand, names []string) []pipeline.Record {
	var recs []pipeline.Record
	for s := range 12 {
		for e := range 1 + r.IntN(4) {
			for i := range 1 + r.IntN(20) {
				key := fmt.Sprintf("studies/%d/series/%d/instances/%d", s, e, i)
				rec := classified(key, randomPosterior(r, len(names)), names)
				if r.Float64() < 0.05 {
					rec = failed(key)
				}
				rec.StudyUID, rec.SeriesUID, rec.SOPUID = fmt.Sprintf("1.2.%d", s), fmt.Sprintf("1.2.%d.%d", s, e), key
				recs = append(recs, rec)
			}
		}
	}
	r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	return recs
}

// direct computes one group's posterior from all its records at once:
// the oracle the streaming result must match.
func direct(recs []pipeline.Record, rule grouping.Rule, k int) (post []float64, drivers []string, classifiedN, errorsN int) {
	post = make([]float64, k)
	for _, r := range recs {
		if r.Error != "" {
			errorsN++
			continue
		}
		classifiedN++
		for c, p := range r.Posterior {
			if rule == grouping.Max {
				post[c] = math.Max(post[c], p)
			} else {
				post[c] += p
			}
		}
	}
	sum := 0.0
	for _, v := range post {
		sum += v
	}
	best := 0
	for c := range post {
		post[c] /= sum
		if post[c] > post[best] {
			best = c
		}
	}
	var ok []pipeline.Record
	for _, r := range recs {
		if r.Error == "" {
			ok = append(ok, r)
		}
	}
	slices.SortFunc(ok, func(a, b pipeline.Record) int {
		return cmp.Or(cmp.Compare(b.Posterior[best], a.Posterior[best]), cmp.Compare(a.Key, b.Key))
	})
	for _, r := range ok[:min(3, len(ok))] {
		drivers = append(drivers, r.Key)
	}
	return post, drivers, classifiedN, errorsN
}

func TestEachRuleMatchesADirectComputationOverInterleavedStudies(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	recs := archive(rand.New(rand.NewPCG(7, 11)), names)
	for _, rule := range []grouping.Rule{grouping.Mean, grouping.Max} {
		t.Run(string(rule), func(t *testing.T) {
			res := run(t, grouping.Config{Rule: rule, Drivers: 3, Classes: names, Review: pipeline.ReviewRule{Threshold: 0.5}}, recs)
			for _, level := range []struct {
				groups []grouping.Group
				of     func(pipeline.Record) string
			}{
				{res.Studies(), func(r pipeline.Record) string { return r.StudyUID }},
				{res.Series(), func(r pipeline.Record) string { return r.SeriesUID }},
			} {
				checkGroups(t, level.groups, recs, level.of, rule, names)
			}
		})
	}
}

// checkGroups compares each group with the direct computation over its
// records.
func checkGroups(t *testing.T, groups []grouping.Group, recs []pipeline.Record, of func(pipeline.Record) string,
	rule grouping.Rule, names []string) {
	t.Helper()
	members := map[string][]pipeline.Record{}
	var order []string
	for _, r := range recs {
		id := of(r)
		if members[id] == nil {
			order = append(order, id)
		}
		members[id] = append(members[id], r)
	}
	if len(groups) != len(order) {
		t.Fatalf("%d groups, want %d", len(groups), len(order))
	}
	for i, g := range groups {
		id := g.StudyUID
		if g.Level == grouping.Series {
			id = g.SeriesUID
		}
		if id != order[i] {
			t.Fatalf("group %d is %s, want %s (the order first seen)", i, id, order[i])
		}
		post, drivers, n, errs := direct(members[id], rule, len(names))
		u := uncertaintyOf(post)
		if g.Classified != n || g.Errors != errs || g.Images != n+errs || g.ErrorReasons["corrupt"] != errs {
			t.Errorf("%s: counts %d/%d/%d %v, want %d classified and %d errors", id, g.Images, g.Classified, g.Errors, g.ErrorReasons, n, errs)
		}
		for c := range post {
			if !near(g.Posterior[c], post[c]) {
				t.Fatalf("%s: P = %v, want %v", id, g.Posterior, post)
			}
		}
		if g.ClassIndex != u.ClassIndex || g.Class != names[u.ClassIndex] || !near(g.MaxProb, u.MaxProb) ||
			!near(g.Margin, u.Margin) || !near(g.Entropy, u.Entropy) || !near(g.EntropyNorm, u.EntropyNorm) {
			t.Errorf("%s: %+v, want %+v", id, g.Uncertainty, u)
		}
		var got []string
		for _, d := range g.Drivers {
			got = append(got, d.Key)
		}
		if !slices.Equal(got, drivers) {
			t.Errorf("%s: drivers %v, want %v", id, got, drivers)
		}
		if g.Review != (u.EntropyNorm > 0.5) {
			t.Errorf("%s: review %v at entropy_norm %.3f", id, g.Review, u.EntropyNorm)
		}
	}
}

// uncertaintyOf is a posterior's uncertainty, computed plainly.
func uncertaintyOf(p []float64) grouping.Uncertainty {
	sorted := slices.Sorted(slices.Values(p))
	slices.Reverse(sorted)
	u := grouping.Uncertainty{ClassIndex: slices.Index(p, sorted[0]), MaxProb: sorted[0], Margin: sorted[0] - sorted[1]}
	for _, v := range p {
		if v > 0 {
			u.Entropy -= v * math.Log(v)
		}
	}
	u.EntropyNorm = u.Entropy / math.Log(float64(len(p)))
	return u
}

func TestTopKRecordsSpreadWhatTheyLeaveOverTheOtherClasses(t *testing.T) {
	// K=5; each record keeps its top 2.
	full := [][]float64{{0.6, 0.2, 0.1, 0.05, 0.05}, {0.1, 0.5, 0.3, 0.05, 0.05}}
	var recs []pipeline.Record
	for i, p := range full {
		r := classified(fmt.Sprintf("s/%d.dcm", i), p, nil)
		order := []int{0, 1, 2, 3, 4}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(p[b], p[a]) })
		for _, c := range order[:2] {
			r.TopK = append(r.TopK, classify.ClassProb{Class: fmt.Sprint("class-", c), Index: c, Prob: p[c]})
		}
		r.Posterior, r.StudyUID = nil, "9.9"
		recs = append(recs, r)
	}
	// What each record leaves is spread over its three other classes.
	dense := [][]float64{{0.6, 0.2, 0.2 / 3, 0.2 / 3, 0.2 / 3}, {0.2 / 3, 0.5, 0.3, 0.2 / 3, 0.2 / 3}}
	for _, rule := range []grouping.Rule{grouping.Mean, grouping.Max} {
		names := []string{"class-0", "class-1", "class-2", "class-3", "class-4"}
		g := run(t, grouping.Config{Rule: rule, Classes: names}, recs).Studies()[0]
		var want []pipeline.Record
		for i, p := range dense {
			want = append(want, classified(recs[i].Key, p, nil))
		}
		post, _, _, _ := direct(want, rule, 5)
		for c := range post {
			if math.Abs(g.Posterior[c]-post[c]) > 1e-12 {
				t.Fatalf("%s: P = %v, want %v", rule, g.Posterior, post)
			}
		}
		if g.Class != names[slices.Index(post, slices.Max(post))] || g.Drivers[0].Prob != 0.5 && g.Drivers[0].Prob != 0.6 {
			t.Errorf("%s: class %s, drivers %+v", rule, g.Class, g.Drivers)
		}
	}
}

func TestAGroupWithNothingClassifiedGoesToReview(t *testing.T) {
	a, b := failed("x/1.dcm"), failed("x/2.dcm")
	a.StudyUID, b.StudyUID = "5.5", "5.5"
	a.SeriesUID, b.SeriesUID = "5.5.1", "5.5.1"
	res := run(t, grouping.Config{Review: pipeline.ReviewRule{Threshold: 0.9}}, []pipeline.Record{a, b})
	for _, g := range append(res.Studies(), res.Series()...) {
		if !g.Review || g.ClassIndex != -1 || g.Class != "" || g.Posterior != nil || g.Errors != 2 || g.ReviewImages != 2 ||
			len(g.Drivers) != 0 {
			t.Errorf("%+v", g)
		}
	}
	if s := res.Studies()[0]; s.SeriesCount != 1 {
		t.Errorf("the study has %d series, want 1", s.SeriesCount)
	}
}

func TestRecordsWithoutAStudyAreInNoGroup(t *testing.T) {
	res := run(t, grouping.Config{}, []pipeline.Record{classified("a.png", []float64{0.5, 0.5}, nil), failed("b.png")})
	if len(res.Studies()) != 0 || len(res.Series()) != 0 || len(res.Timelines()) != 0 {
		t.Fatalf("%v %v %v", res.Studies(), res.Series(), res.Timelines())
	}
}

func TestAnUnknownRuleIsRefused(t *testing.T) {
	if _, err := grouping.Run(grouping.Config{Rule: "median"}, from(nil)); err == nil || !strings.Contains(err.Error(), "median") {
		t.Fatalf("got %v", err)
	}
}
