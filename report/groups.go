package report

import (
	"cmp"
	"context"
	"slices"

	"github.com/didicm/didicm/grouping"
	"github.com/didicm/didicm/jobs"
)

// The bounds on what the report shows of a job's groups: the rest is in
// the group files, and the page says how much.
const (
	maxStudyRows    = 50  // studies in the table, most uncertain first
	maxStrips       = 40  // videos and log topics drawn, those that struggled most first
	maxStripEvents  = 100 // events marked on one strip, most uncertain first
	maxEventRows    = 20  // events in the table
	stripPointsWant = 160 // points drawn per strip, at most
)

// groupsRead is what the report reads of the group files.
type groupsRead struct {
	studies      []grouping.Group // the most uncertain, at most maxStudyRows
	studiesN     int
	studiesFlag  int
	series       int
	streams      []grouping.Timeline // those drawn
	streamsN     int
	events       map[string][]stripEvent // by stream name, of the streams drawn
	eventsN      int
	topEvents    []stripEvent // the table's
	eventsCapped map[string]int
}

// stripEvent is what the report reads of an event (grouping.Event):
// not its keys, but its peak's.
type stripEvent struct {
	Object string         `json:"object"`
	Topic  string         `json:"topic"`
	Start  float64        `json:"start"`
	End    float64        `json:"end"`
	Frames int            `json:"frames"`
	Peak   grouping.Frame `json:"peak"`
}

func streamName(object, topic string) string { return object + "\x00" + topic }

// readGroups reads the group files a job has (none: nothing to show).
func readGroups(ctx context.Context, store *jobs.Store) (*groupsRead, error) {
	g := &groupsRead{events: map[string][]stripEvent{}, eventsCapped: map[string]int{}}
	err := jobs.EachGroupLine(ctx, store, jobs.StudiesFile, func(s grouping.Group) {
		g.studiesN++
		if s.Review {
			g.studiesFlag++
		}
		s.Posterior = nil
		g.studies = keepFirst(g.studies, s, maxStudyRows, studyOrder)
	})
	if err == nil {
		err = jobs.EachGroupLine(ctx, store, jobs.SeriesFile, func(grouping.Group) { g.series++ })
	}
	if err == nil {
		err = jobs.EachGroupLine(ctx, store, jobs.TimelinesFile, func(tl grouping.Timeline) {
			g.streamsN++
			g.streams = keepFirst(g.streams, tl, maxStrips, streamOrder)
		})
	}
	if err == nil {
		err = g.readEvents(ctx, store)
	}
	return g, err
}

// readEvents keeps the events of the streams drawn, and the table's.
func (g *groupsRead) readEvents(ctx context.Context, store *jobs.Store) error {
	drawn := map[string]bool{}
	for _, tl := range g.streams {
		drawn[streamName(tl.Object, tl.Topic)] = true
	}
	return jobs.EachGroupLine(ctx, store, jobs.EventsFile, func(ev stripEvent) {
		g.eventsN++
		g.topEvents = keepFirst(g.topEvents, ev, maxEventRows, eventOrder)
		name := streamName(ev.Object, ev.Topic)
		if !drawn[name] {
			return
		}
		before := len(g.events[name])
		g.events[name] = keepFirst(g.events[name], ev, maxStripEvents, eventOrder)
		if len(g.events[name]) == before {
			g.eventsCapped[name]++
		}
	})
}

// studyOrder puts flagged studies first, then the higher entropy, then by UID.
func studyOrder(a, b grouping.Group) int {
	if a.Review != b.Review {
		if a.Review {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(b.EntropyNorm, a.EntropyNorm), cmp.Compare(a.StudyUID, b.StudyUID))
}

// streamOrder puts the streams with more events first, then more
// uncertain frames, then by name.
func streamOrder(a, b grouping.Timeline) int {
	return cmp.Or(cmp.Compare(b.Events, a.Events), cmp.Compare(b.Uncertain, a.Uncertain),
		cmp.Compare(a.Object, b.Object), cmp.Compare(a.Topic, b.Topic))
}

// eventOrder puts longer events first, then the more uncertain peak, then
// the earlier.
func eventOrder(a, b stripEvent) int {
	return cmp.Or(cmp.Compare(b.Frames, a.Frames), cmp.Compare(b.Peak.EntropyNorm, a.Peak.EntropyNorm),
		cmp.Compare(a.Object, b.Object), cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Start, b.Start))
}

// keepFirst inserts v into vs (sorted by order) and keeps the first n.
func keepFirst[T any](vs []T, v T, n int, order func(a, b T) int) []T {
	at, _ := slices.BinarySearchFunc(vs, v, order)
	if at >= n {
		return vs
	}
	vs = slices.Insert(vs, at, v)
	return vs[:min(len(vs), n)]
}
