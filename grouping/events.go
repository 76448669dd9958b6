package grouping

import (
	"cmp"
	"slices"
	"time"

	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// Timeline is one line of timelines.jsonl: a video's or a log topic's
// frames over time.
type Timeline struct {
	FormatVersion int    `json:"format_version"`
	Object        string `json:"object"` // the file's key
	Topic         string `json:"topic,omitempty"`
	// Frames counts the stream's records; Classified and Errors split
	// them; Uncertain counts the classified ones the review rule wants.
	Frames     int `json:"frames"`
	Classified int `json:"classified"`
	Errors     int `json:"errors"`
	Uncertain  int `json:"uncertain"`
	Events     int `json:"events"`
	// Start and End are the first and last frames' times (seconds); Step
	// the sampling step and Gap the event gap used (seconds).
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Step  float64 `json:"step"`
	Gap   float64 `json:"gap"`
	Bins
}

// Event is one line of events.jsonl: uncertain frames of one stream, each
// at most the gap from the next.
type Event struct {
	FormatVersion int    `json:"format_version"`
	Object        string `json:"object"`
	Topic         string `json:"topic,omitempty"`
	// ID is the key of the event's first frame: it names the event.
	ID string `json:"id"`
	// Start and End are its first and last frames' times (seconds).
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Frames counts its frames; Keys are their keys in time order.
	Frames          int          `json:"frames"`
	Keys            []string     `json:"keys"`
	MeanEntropyNorm float64      `json:"mean_entropy_norm"`
	Peak            Frame        `json:"peak"`    // the most uncertain frame
	Classes         []ClassCount `json:"classes"` // the frames' predicted classes, most frames first
}

// Frame is one frame of an event.
type Frame struct {
	Key         string  `json:"key"`
	T           float64 `json:"t"`
	Class       string  `json:"class"`
	EntropyNorm float64 `json:"entropy_norm"`
	SetSize     *int    `json:"set_size,omitempty"`
}

// ClassCount is how many of an event's frames predict a class.
type ClassCount struct {
	Class  string `json:"class"`
	Index  int    `json:"class_index"`
	Frames int    `json:"frames"`
}

// stream is one video's or log topic's running numbers.
type stream struct {
	key                        recordkey.Key // the file and topic, no time
	frames, classified, errors int
	first, last                int64 // ms
	uncertain                  []flagged
	tl                         timeline
}

// flagged is an uncertain frame, in 24 bytes: its key is rebuilt from
// the stream's and its time.
type flagged struct {
	t       int64 // ms
	entropy float32
	class   int32
	set     int16 // -1: no prediction set; sizes above 2¹⁵−1 count as that
}

// streams are the job's streams, in the order they were first seen.
type streams struct {
	res   *Result
	index map[string]int
	all   []*stream
}

func newStreams(res *Result) *streams { return &streams{res: res, index: map[string]int{}} }

// add counts a record of a video or log (a key with a time); others, and
// keys that do not parse (as jobs enqueued before recordkey may have),
// are not a stream's.
func (s *streams) add(r *pipeline.Record) {
	k, err := recordkey.Parse(r.Key)
	if err != nil || !k.Timed {
		return
	}
	t := k.Time.Milliseconds()
	k.Time, k.Timed = 0, false
	name := k.String()
	i, ok := s.index[name]
	if !ok {
		i = len(s.all)
		s.index[name] = i
		s.all = append(s.all, &stream{key: k, first: t, last: t, tl: timeline{n: s.res.cfg.TimelineBins}})
	}
	st := s.all[i]
	st.frames++
	st.first, st.last = min(st.first, t), max(st.last, t)
	if r.Error != "" {
		st.errors++
		return
	}
	st.classified++
	st.tl.add(t, r.EntropyNorm)
	if s.res.cfg.Review.Wants(*r) {
		f := flagged{t: t, entropy: float32(r.EntropyNorm), class: int32(max(r.ClassIndex, -1)), set: -1}
		if r.SetSize != nil {
			f.set = int16(min(*r.SetSize, 1<<15-1))
		}
		st.uncertain = append(st.uncertain, f)
	}
}

// step is the stream's sampling step, and gap its event gap (ms).
func (s *streams) step(st *stream) (step, gap int64) {
	step = s.res.cfg.Step.Milliseconds()
	if step <= 0 && st.frames > 1 {
		step = (st.last - st.first) / int64(st.frames-1)
	}
	gap = 2 * step
	if s.res.cfg.Gap > 0 {
		gap = s.res.cfg.Gap.Milliseconds()
	}
	return step, gap
}

// cut sorts a stream's uncertain frames by time and returns where each
// event ends: event j is uncertain[ends[j-1]:ends[j]].
func (s *streams) cut(st *stream) []int {
	slices.SortFunc(st.uncertain, func(a, b flagged) int { return cmp.Compare(a.t, b.t) })
	_, gap := s.step(st)
	var ends []int
	for i := 1; i <= len(st.uncertain); i++ {
		if i == len(st.uncertain) || st.uncertain[i].t-st.uncertain[i-1].t > gap {
			ends = append(ends, i)
		}
	}
	return ends
}

func (s *streams) timelines() []Timeline {
	out := make([]Timeline, len(s.all))
	for i, st := range s.all {
		step, gap := s.step(st)
		out[i] = Timeline{FormatVersion: FormatVersion, Object: st.key.Object, Topic: st.key.Topic, Frames: st.frames,
			Classified: st.classified, Errors: st.errors, Uncertain: len(st.uncertain), Events: len(s.cut(st)),
			Start: seconds(st.first), End: seconds(st.last), Step: seconds(step), Gap: seconds(gap), Bins: st.tl.out()}
	}
	return out
}

func (s *streams) events(fn func(Event) error) error {
	for _, st := range s.all {
		from := 0
		for _, to := range s.cut(st) {
			if err := fn(s.event(st, st.uncertain[from:to])); err != nil {
				return err
			}
			from = to
		}
	}
	return nil
}

// event builds one event's line from its frames, in time order.
func (s *streams) event(st *stream, fs []flagged) Event {
	e := Event{FormatVersion: FormatVersion, Object: st.key.Object, Topic: st.key.Topic,
		Start: seconds(fs[0].t), End: seconds(fs[len(fs)-1].t), Frames: len(fs), Keys: make([]string, len(fs))}
	peak, counts, sum := 0, map[int32]int{}, 0.0
	for i, f := range fs {
		e.Keys[i] = st.key.At(time.Duration(f.t) * time.Millisecond).String()
		sum += float64(f.entropy)
		counts[f.class]++
		if s.moreUncertain(f, fs[peak]) {
			peak = i
		}
	}
	e.ID = e.Keys[0]
	e.MeanEntropyNorm = round6(sum / float64(len(fs)))
	p := fs[peak]
	e.Peak = Frame{Key: e.Keys[peak], T: seconds(p.t), Class: s.res.names.of(int(p.class)), EntropyNorm: round6(float64(p.entropy))}
	if p.set >= 0 {
		n := int(p.set)
		e.Peak.SetSize = &n
	}
	for c, n := range counts {
		e.Classes = append(e.Classes, ClassCount{Class: s.res.names.of(int(c)), Index: int(c), Frames: n})
	}
	slices.SortFunc(e.Classes, func(a, b ClassCount) int {
		return cmp.Or(cmp.Compare(b.Frames, a.Frames), cmp.Compare(a.Index, b.Index))
	})
	return e
}

// moreUncertain orders frames as the review list does: by the rule's set
// size first when it is by set size, then by normalised entropy; the
// earlier frame wins ties (a is later than b here).
func (s *streams) moreUncertain(a, b flagged) bool {
	if s.res.cfg.Review.BySetSize && a.set != b.set {
		return a.set > b.set
	}
	return a.entropy > b.entropy
}

// seconds writes ms as seconds.
func seconds(ms int64) float64 { return float64(ms) / 1000 }
