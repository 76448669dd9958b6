package grouping

import (
	"math"
	"slices"

	"github.com/didicm/didicm/pipeline"
)

// names are the class names by index: the job's, or those the records
// give. Their number (or a full posterior's length, if larger) is K.
type names struct {
	byIndex []string
	fixed   int // classes the job named
	k       int // the largest K seen
}

func newNames(classes []string) *names {
	return &names{byIndex: slices.Clone(classes), fixed: len(classes), k: len(classes)}
}

// note learns K and names from a record.
func (n *names) note(r *pipeline.Record) {
	if r.Error != "" {
		return
	}
	n.k = max(n.k, len(r.Posterior))
	n.name(r.ClassIndex, r.Class)
	for _, e := range r.TopK {
		n.name(e.Index, e.Class)
	}
}

func (n *names) name(i int, name string) {
	if i < 0 || name == "" || i < n.fixed {
		return
	}
	for len(n.byIndex) <= i {
		n.byIndex = append(n.byIndex, "")
	}
	if n.byIndex[i] == "" {
		n.byIndex[i] = name
	}
}

// of is class i's name, or "" when none is known.
func (n *names) of(i int) string {
	if i < 0 || i >= len(n.byIndex) {
		return ""
	}
	return n.byIndex[i]
}

// prob is a classified record's probability of class c: its full
// posterior's value, its top-k entry, or an even share of what its top k
// leave over the K − k other classes (0 when K is not known).
func prob(r *pipeline.Record, c, k int) float64 {
	if len(r.Posterior) > 0 {
		if c < len(r.Posterior) {
			return r.Posterior[c]
		}
		return 0
	}
	for _, e := range r.TopK {
		if e.Index == c {
			return e.Prob
		}
	}
	return share(r, k)
}

// share is what a top-k record's entries leave, spread evenly over the
// K − k classes it leaves out (0 when K is not known).
func share(r *pipeline.Record, k int) float64 {
	rest := 1.0
	for _, e := range r.TopK {
		rest -= e.Prob
	}
	if others := k - len(r.TopK); others > 0 && rest > 0 {
		return rest / float64(others)
	}
	return 0
}

// fold adds a classified record's posterior to acc by rule: summed for
// Mean, the largest for Max. acc grows to the record's classes; the
// classes a top-k record leaves out get prob's even share.
func fold(acc []float64, r *pipeline.Record, rule Rule, k int) []float64 {
	size := max(len(acc), len(r.Posterior), k)
	for _, e := range r.TopK {
		size = max(size, e.Index+1)
	}
	for len(acc) < size {
		acc = append(acc, 0)
	}
	put := func(c int, p float64) {
		if rule == Max {
			acc[c] = math.Max(acc[c], p)
		} else {
			acc[c] += p
		}
	}
	if len(r.Posterior) > 0 {
		for c, p := range r.Posterior {
			put(c, p)
		}
		return acc
	}
	s := share(r, k)
	for c := range min(k, len(acc)) {
		if s > 0 {
			put(c, s)
		}
	}
	for _, e := range r.TopK {
		if rule == Mean && s > 0 {
			acc[e.Index] -= s // it was given the share above
		}
		put(e.Index, e.Prob)
	}
	return acc
}

// Uncertainty is a posterior's class and how sure it is.
type Uncertainty struct {
	ClassIndex  int     `json:"class_index"` // -1: no posterior
	MaxProb     float64 `json:"max_prob"`
	Margin      float64 `json:"margin"`       // top-1 minus top-2
	Entropy     float64 `json:"entropy"`      // nats
	EntropyNorm float64 `json:"entropy_norm"` // entropy / log K (0 when K is 1)
}

// normalise divides acc by its sum, in place, and returns its uncertainty;
// an empty or all-zero acc has none (ClassIndex -1).
func normalise(acc []float64) Uncertainty {
	sum := 0.0
	for _, v := range acc {
		sum += v
	}
	if sum <= 0 || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return Uncertainty{ClassIndex: -1}
	}
	u := Uncertainty{ClassIndex: 0}
	second := 0.0
	for c := range acc {
		p := acc[c] / sum
		acc[c] = p
		switch {
		case p > u.MaxProb:
			second, u.MaxProb, u.ClassIndex = u.MaxProb, p, c
		case p > second:
			second = p
		}
		if p > 0 {
			u.Entropy -= p * math.Log(p)
		}
	}
	u.Margin = u.MaxProb - second
	if len(acc) > 1 {
		u.EntropyNorm = u.Entropy / math.Log(float64(len(acc)))
	}
	return u
}
