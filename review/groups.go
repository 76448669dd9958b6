package review

import (
	"cmp"
	"context"
	"slices"

	"github.com/didicm/didicm/jobs"
)

// maxMembers is how many of a group's images one answer lists, most
// uncertain first; a decision on the group covers all of them.
const maxMembers = 12

// entry is one item of the page's list: an image, or a group of images
// (a study's, or an event's frames) that one decision can label.
type entry struct {
	lead    int32   // its first item, the most uncertain
	members []int32 // a group's items, most uncertain first; nil for one image
	group   *group
}

// size is how many items the entry holds.
func (e *entry) size() int {
	if e.members == nil {
		return 1
	}
	return len(e.members)
}

// The kinds of group.
const (
	kindStudy = "study"
	kindEvent = "event"
)

// group is what the page shows of a group besides its images.
type group struct {
	kind string
	id   string // "study:UID" or "event:" and its first frame's key
	// A study's UID, and its answer from studies.jsonl (nil without it).
	study  string
	answer *studyAnswer
	// An event's file, topic, times (seconds) and frames in all.
	object, topic string
	start, end    float64
	frames        int
	// top are the group's most probable classes: its study's answer, or
	// the mean of its images' shown classes.
	top []choice
}

// studyAnswer is what the page reads of a line of studies.jsonl.
type studyAnswer struct {
	StudyUID    string       `json:"study_uid"`
	Class       string       `json:"class"`
	ClassIndex  int32        `json:"class_index"`
	MaxProb     float32      `json:"max_prob"`
	EntropyNorm float64      `json:"entropy_norm"`
	Review      bool         `json:"review"`
	Images      int          `json:"images"`
	Errors      int          `json:"errors"`
	Posterior   topPosterior `json:"posterior"`
}

// eventLine is what the page reads of a line of events.jsonl.
type eventLine struct {
	ID     string   `json:"id"`
	Object string   `json:"object"`
	Topic  string   `json:"topic"`
	Start  float64  `json:"start"`
	End    float64  `json:"end"`
	Frames int      `json:"frames"`
	Keys   []string `json:"keys"`
}

// grouper gathers the review list's items into groups.
type grouper struct {
	items   []item
	byKey   map[string]int32
	of      []int32 // each item's group; -1: none
	groups  []*group
	members [][]int32
}

// groupItems makes the page's entries: the items of one event (events.jsonl)
// or, failing that, of one study, at least two of them, become one entry
// placed where its most uncertain item was; failed images stay alone.
func groupItems(ctx context.Context, store *jobs.Store, items []item, byKey map[string]int32, names *classNames) ([]entry, error) {
	g := &grouper{items: items, byKey: byKey, of: make([]int32, len(items))}
	for i := range g.of {
		g.of[i] = -1
	}
	err := jobs.EachGroupLine(ctx, store, jobs.EventsFile, g.event)
	if err != nil {
		return nil, err
	}
	studies := g.studies()
	if err := jobs.EachGroupLine(ctx, store, jobs.StudiesFile, func(a studyAnswer) {
		if k, ok := studies[a.StudyUID]; ok {
			g.groups[k].answer = &a
		}
	}); err != nil {
		return nil, err
	}
	for k, gr := range g.groups {
		gr.top = g.topOf(gr, g.members[k], names)
	}
	return g.entries(), nil
}

// event makes a group of an event's listed frames.
func (g *grouper) event(e eventLine) {
	var ms []int32
	for _, key := range e.Keys {
		if i, ok := g.byKey[key]; ok && g.of[i] < 0 && !g.items[i].failed() {
			ms = append(ms, i)
		}
	}
	g.add(&group{kind: kindEvent, id: "event:" + e.ID, object: e.Object, topic: e.Topic, start: e.Start, end: e.End,
		frames: e.Frames}, ms)
}

// studies makes a group of each study's listed images not in an event,
// and returns the groups by study UID.
func (g *grouper) studies() map[string]int {
	by := map[string][]int32{}
	var order []string
	for i := range g.items {
		it := &g.items[i]
		if it.study == "" || it.failed() || g.of[i] >= 0 {
			continue
		}
		if by[it.study] == nil {
			order = append(order, it.study)
		}
		by[it.study] = append(by[it.study], int32(i))
	}
	out := map[string]int{}
	for _, uid := range order {
		if g.add(&group{kind: kindStudy, id: "study:" + uid, study: uid}, by[uid]) {
			out[uid] = len(g.groups) - 1
		}
	}
	return out
}

// add keeps a group of at least two items, most uncertain first.
func (g *grouper) add(gr *group, ms []int32) bool {
	if len(ms) < 2 {
		return false
	}
	slices.Sort(ms) // the list's order is the uncertainty order
	for _, i := range ms {
		g.of[i] = int32(len(g.groups))
	}
	g.groups = append(g.groups, gr)
	g.members = append(g.members, ms)
	return true
}

// topOf is a group's most probable classes: its study's answer, or the
// mean of its images' shown classes (a class an image does not show
// counts 0 there).
func (g *grouper) topOf(gr *group, ms []int32, names *classNames) []choice {
	if a := gr.answer; a != nil && len(a.Posterior) > 0 {
		return []choice(a.Posterior)
	}
	sum := map[int32]float64{}
	for _, i := range ms {
		for _, c := range g.items[i].top {
			sum[c.index] += float64(c.prob)
		}
	}
	out := make([]choice, 0, len(sum))
	for idx, s := range sum {
		out = append(out, choice{index: idx, prob: float32(s / float64(len(ms)))})
	}
	slices.SortFunc(out, func(a, b choice) int { return cmp.Or(cmp.Compare(b.prob, a.prob), cmp.Compare(a.index, b.index)) })
	return out[:min(len(out), maxShown)]
}

// entries lists items and groups, each where its first item is.
func (g *grouper) entries() []entry {
	out := make([]entry, 0, len(g.items))
	for i := range g.items {
		k := g.of[i]
		switch {
		case k < 0:
			out = append(out, entry{lead: int32(i)})
		case g.members[k][0] == int32(i):
			out = append(out, entry{lead: int32(i), members: g.members[k], group: g.groups[k]})
		}
	}
	return slices.Clip(out)
}
