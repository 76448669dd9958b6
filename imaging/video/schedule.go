package video

import (
	"iter"
	"time"
)

// Schedule applies the sampling rule of Options to the frames of one run,
// offered in presentation order. A decoder offers every frame it outputs
// (or, with KeyframesOnly, every key frame), including the frames before
// From that it decodes after a seek, so that Take knows each frame's
// predecessor.
type Schedule struct {
	every, from, to time.Duration
	prev            time.Duration // the latest frame time offered
	started         bool
}

// NewSchedule returns the schedule of sample times every·k in [from, to),
// to 0 meaning no end; every 0 takes every frame in [from, to).
func NewSchedule(every, from, to time.Duration) *Schedule {
	return &Schedule{every: every, from: from, to: to}
}

// next is the first sample time not yet served: 0 before any frame, then
// the first multiple of every after the latest frame time.
func (s *Schedule) next() time.Duration {
	if !s.started {
		return 0
	}
	return (floorDiv(s.prev, s.every) + 1) * s.every
}

// Take offers the frame at time t and says whether the run gives it.
func (s *Schedule) Take(t time.Duration) bool {
	var take bool
	if s.every <= 0 {
		take = t >= s.from && s.before(t)
	} else {
		n := max(s.next(), 0)
		take = n <= t && n >= s.from && s.before(n)
	}
	if !s.started || t > s.prev {
		s.prev = t
	}
	s.started = true
	return take
}

// Done says that no later frame can be taken: the next sample time (with
// Every 0, the latest frame) is at or after To.
func (s *Schedule) Done() bool {
	if s.to <= 0 || !s.started {
		return false
	}
	if s.every <= 0 {
		return s.prev >= s.to
	}
	return s.next() >= s.to
}

// Missing yields the sample times in the range after the latest frame
// offered and before end: those a truncated file no longer holds. With
// Every 0 it yields one time, gap after the latest frame (From when no frame
// was offered), if before end.
func (s *Schedule) Missing(end, gap time.Duration) iter.Seq[time.Duration] {
	if s.to > 0 {
		end = min(end, s.to)
	}
	return func(yield func(time.Duration) bool) {
		if s.every <= 0 {
			t := s.from
			if s.started {
				t = max(t, s.prev+gap)
			}
			if t < end {
				yield(t)
			}
			return
		}
		first := max(s.next(), -floorDiv(-s.from, s.every)*s.every, 0)
		for t := first; t < end; t += s.every {
			if !yield(t) {
				return
			}
		}
	}
}

func (s *Schedule) before(t time.Duration) bool { return s.to <= 0 || t < s.to }

// floorDiv is a/b rounded down (b > 0).
func floorDiv(a, b time.Duration) time.Duration {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
