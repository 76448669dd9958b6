package review

import (
	"errors"
	"fmt"
)

// groupJSON is a group as the page reads it.
type groupJSON struct {
	Kind string `json:"kind"` // study or event
	ID   string `json:"id"`   // what a decision on the group names
	// A study's UID and, when studies.jsonl has it, its answer from all
	// its images.
	StudyUID string      `json:"study_uid,omitempty"`
	Answer   *answerJSON `json:"answer,omitempty"`
	// An event's file, topic, first and last times (seconds) and frames.
	Object string  `json:"object,omitempty"`
	Topic  string  `json:"topic,omitempty"`
	Start  float64 `json:"start,omitempty"`
	End    float64 `json:"end,omitempty"`
	Frames int     `json:"frames,omitempty"`
	// Class is what accepting the group labels its images with: its
	// most probable class (Top's first), "" when unnamed.
	Class string       `json:"class"`
	Top   []choiceJSON `json:"top"`
	// Count is the group's images in the review list, Decided how many of
	// them are decided; Members are the first of them, most uncertain
	// first.
	Count   int          `json:"count"`
	Decided int          `json:"decided"`
	Members []memberJSON `json:"members"`
}

// answerJSON is a study's answer (studies.jsonl).
type answerJSON struct {
	Class       string  `json:"class"`
	MaxProb     float32 `json:"max_prob"`
	EntropyNorm float64 `json:"entropy_norm"`
	Review      bool    `json:"review"`
	Images      int     `json:"images"`
	Errors      int     `json:"errors"`
}

// memberJSON is one image of a group.
type memberJSON struct {
	Key         string    `json:"key"`
	Class       string    `json:"class"`
	MaxProb     float32   `json:"max_prob"`
	EntropyNorm float64   `json:"entropy_norm"`
	SetSize     *int32    `json:"set_size,omitempty"`
	NoImage     string    `json:"no_image,omitempty"`
	Decided     *Decision `json:"decided"`
}

func (s *Server) groupJSON(en *entry, shown []int32, ds []*Decision, decided int) *groupJSON {
	g := en.group
	out := &groupJSON{Kind: g.kind, ID: g.id, StudyUID: g.study, Object: g.object, Topic: g.topic, Start: g.start, End: g.end,
		Frames: g.frames, Top: s.choices(g.top), Count: len(en.members), Decided: decided, Members: make([]memberJSON, len(shown))}
	if len(g.top) > 0 {
		out.Class = s.names.name(g.top[0].index)
	}
	if a := g.answer; a != nil {
		out.Answer = &answerJSON{Class: a.Class, MaxProb: a.MaxProb, EntropyNorm: a.EntropyNorm, Review: a.Review,
			Images: a.Images, Errors: a.Errors}
	}
	for k, i := range shown {
		it := &s.items[i]
		out.Members[k] = memberJSON{Key: it.key, Class: s.names.predicted(it), MaxProb: it.maxProb, EntropyNorm: it.entropy,
			NoImage: noImage(it), Decided: ds[k]}
		if it.setSize >= 0 {
			out.Members[k].SetSize = &it.setSize
		}
	}
	return out
}

// groupDecisions are the decisions that one decision on a group stores:
// one per image of it, each naming the group. Labelling a group with a
// class accepts the images that predict it and picks it for the others;
// accepting the group labels it with its most probable class.
func (s *Server) groupDecisions(req decisionRequest, base Decision) ([]Decision, error) {
	e, ok := s.byGroup[req.Group]
	if !ok {
		return nil, errors.New("no such group in the review list")
	}
	en := &s.entries[e]
	class := ""
	switch req.Decision {
	case Accept:
		if len(en.group.top) > 0 {
			class = s.names.name(en.group.top[0].index)
		}
		if class == "" {
			return nil, errors.New("the group's most probable class has no name in this job: pick a named class")
		}
	case Pick:
		if err := s.names.check(req.Class); err != nil {
			return nil, err
		}
		class = req.Class
	case Unsure:
	default:
		return nil, fmt.Errorf("decision %q: want accept, class or unsure", req.Decision)
	}
	out := make([]Decision, len(en.members))
	for k, i := range en.members {
		d := base
		d.Key, d.Group = s.items[i].key, en.group.id
		switch {
		case req.Decision == Unsure:
			d.Decision = Unsure
		case s.names.predicted(&s.items[i]) == class:
			d.Decision, d.Class = Accept, class
		default:
			d.Decision, d.Class = Pick, class
		}
		out[k] = d
	}
	return out, nil
}
