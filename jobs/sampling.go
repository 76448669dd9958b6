package jobs

import (
	"fmt"
	"time"
)

// Sampling is how a job reads videos and logs (imaging.Sampling), and how
// its manifest cuts long ones into parts, so that one hour of footage
// spreads over workers and a retry redoes one part, not the hour.
type Sampling struct {
	// Every is the time between sampled frames of a video, or messages of
	// a log topic, as a Go duration ("1s"); empty or zero takes every one.
	Every string `json:"every,omitempty" mapstructure:"every"`
	// KeyframesOnly reads a video's key frames only.
	KeyframesOnly bool `json:"keyframes_only,omitempty" mapstructure:"keyframes_only"`
	// Topics are a log's camera topics; empty means every compressed-image
	// topic.
	Topics []string `json:"topics,omitempty" mapstructure:"topics"`
	// Part is the length of a video's or log's parts in the manifest, as a
	// Go duration; empty means the time that holds about BatchSize sampled
	// images (see PartLength).
	Part string `json:"part,omitempty" mapstructure:"part"`
}

// Step is Every as a duration (0: every frame).
func (s Sampling) Step() time.Duration {
	d, _ := time.ParseDuration(s.Every)
	return d
}

// PartLength is how long one manifest part of a file is: Part when set,
// else the time that holds batchSize images of a file giving rate images
// per second (rate: its frame rate, or its message rate over the selected
// topics), sampled every Step; at least a second.
func (s Sampling) PartLength(batchSize int, rate float64) time.Duration {
	if d, err := time.ParseDuration(s.Part); err == nil && d > 0 {
		return d
	}
	per := time.Second // a key frame a second when nothing better is known
	switch {
	case s.Step() > 0:
		per = s.Step()
	case !s.KeyframesOnly && rate > 0:
		per = time.Duration(float64(time.Second) / rate)
	}
	return max(time.Second, time.Duration(batchSize)*per)
}

// validate names a wrong field.
func (s Sampling) validate() error {
	for _, f := range []struct{ name, v string }{{"every", s.Every}, {"part", s.Part}} {
		if f.v == "" {
			continue
		}
		d, err := time.ParseDuration(f.v)
		if err != nil || d < 0 {
			return fmt.Errorf("sampling %s %q: want a duration such as 1s or 250ms", f.name, f.v)
		}
	}
	if d := s.Step(); d != 0 && d < time.Millisecond {
		return fmt.Errorf("sampling every %q: want 1ms or more (keys keep milliseconds)", s.Every)
	}
	if d, _ := time.ParseDuration(s.Part); s.Part != "" && d < time.Second {
		return fmt.Errorf("sampling part %q: want 1s or more", s.Part)
	}
	for _, t := range s.Topics {
		if t == "" {
			return fmt.Errorf("sampling topics: an empty topic")
		}
	}
	return nil
}
