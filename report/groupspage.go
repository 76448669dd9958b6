package report

import (
	"fmt"
	"strconv"

	"github.com/didicm/didicm/pipeline"
)

// studySection is the table of studies, most uncertain first.
type studySection struct {
	Facts []fact
	Rows  []studyRow
	Note  string
}

type studyRow struct {
	UID, Images, Series, Errors, Class, Prob, Entropy, Driver string
	Review                                                    bool
}

// timeSection is the uncertainty strips of videos and logs and the
// table of their longest events.
type timeSection struct {
	Strips    []*chart
	Note      string
	Events    []eventRow
	EventNote string
}

type eventRow struct {
	Stream, Span, Frames, Peak, PeakKey string
}

// studySection lays out the studies read; nil when the job has none.
func (g *groupsRead) studySection() *studySection {
	if g == nil || g.studiesN == 0 {
		return nil
	}
	s := &studySection{Facts: []fact{
		{"Studies", comma(g.studiesN)},
		{"Flagged for review", comma(g.studiesFlag) + " (" + percent(g.studiesFlag, g.studiesN) + ")"},
		{"Series", comma(g.series)},
	}}
	if len(g.studies) > 0 {
		s.Facts = append(s.Facts, fact{"Rule", string(g.studies[0].Rule) + " of the image posteriors"})
	}
	for _, st := range g.studies {
		r := studyRow{UID: st.StudyUID, Images: comma(st.Images), Series: strconv.Itoa(st.SeriesCount), Errors: comma(st.Errors),
			Class: st.Class, Prob: "—", Entropy: "—", Review: st.Review}
		if st.ClassIndex >= 0 {
			r.Prob, r.Entropy = fmt.Sprintf("%.3f", st.MaxProb), fmt.Sprintf("%.3f", st.EntropyNorm)
			if r.Class == "" {
				r.Class = "#" + strconv.Itoa(st.ClassIndex)
			}
		}
		if len(st.Drivers) > 0 {
			r.Driver = st.Drivers[0].Key
		}
		s.Rows = append(s.Rows, r)
	}
	if more := g.studiesN - len(g.studies); more > 0 {
		s.Note = fmt.Sprintf("The %d most uncertain studies are shown; %s more are in studies.jsonl.", len(g.studies), comma(more))
	}
	return s
}

// timeSection lays out the strips and events read; nil when the job has
// no video or log.
func (g *groupsRead) timeSection(rule pipeline.ReviewRule) *timeSection {
	if g == nil || g.streamsN == 0 {
		return nil
	}
	t := &timeSection{}
	for i, tl := range g.streams {
		name := streamName(tl.Object, tl.Topic)
		t.Strips = append(t.Strips, strip(fmt.Sprintf("strip-%d", i), tl, g.events[name], g.eventsCapped[name], rule.Threshold, !rule.BySetSize))
	}
	t.Note = fmt.Sprintf("%s videos or log topics, %s events.", comma(g.streamsN), comma(g.eventsN))
	if more := g.streamsN - len(g.streams); more > 0 {
		t.Note += fmt.Sprintf(" The %d with the most events are drawn; %s more are in timelines.jsonl.", len(g.streams), comma(more))
	}
	for _, e := range g.topEvents {
		t.Events = append(t.Events, eventRow{Stream: streamLabel(e.Object, e.Topic), Span: secs(e.Start) + "–" + secs(e.End) + " s",
			Frames: comma(e.Frames), Peak: fmt.Sprintf("%.3f at %s s", e.Peak.EntropyNorm, secs(e.Peak.T)), PeakKey: e.Peak.Key})
	}
	if more := g.eventsN - len(g.topEvents); more > 0 {
		t.EventNote = fmt.Sprintf("The %d longest events are listed; %s more are in events.jsonl.", len(g.topEvents), comma(more))
	}
	return t
}
