package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// decisionRequest is what the page posts: a decision on one image (Key)
// or on every image of a group (Group).
type decisionRequest struct {
	Key      string `json:"key"`
	Group    string `json:"group"`
	Decision string `json:"decision"`
	Class    string `json:"class"`
}

// decisionAnswer is the decision as stored (for a group, on its first
// image), how many images it covers, and how many entries are decided.
type decisionAnswer struct {
	Decision
	Images int `json:"images"`
	Done   int `json:"done"`
}

// decide stores a decision in this server's review session and answers
// it as stored; it answers 200 only once the decision is stored. A
// decision on a group is one line per image, stored together. Only JSON
// bodies are taken, so that another site's form cannot post one.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req decisionRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "bad decision: "+err.Error(), http.StatusBadRequest)
		return
	}
	ds, err := s.decisions(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var lines []byte
	for _, d := range ds {
		line, _ := json.Marshal(d)
		lines = append(append(lines, line...), '\n')
	}
	key, at, err := s.session.Append(r.Context(), lines)
	if err != nil {
		s.cfg.Log.Error("record decision", "key", ds[0].Key, "group", req.Group, "err", err)
		http.Error(w, "could not record the decision", http.StatusInternalServerError)
		return
	}
	st := make([]*stored, len(ds))
	for k, d := range ds {
		st[k] = &stored{Decision: d, at: unixNano(d.Time), obj: key, line: at + k}
	}
	done := s.decided.add(st...)
	s.cfg.Log.Info("decision", "key", ds[0].Key, "group", req.Group, "images", len(ds), "decision", req.Decision,
		"class", ds[0].Class, "reviewer", s.cfg.Reviewer)
	writeJSON(w, decisionAnswer{Decision: ds[0], Images: len(ds), Done: done})
}

// decisions checks a request and completes its decisions: one for an
// image, one per image for a group.
func (s *Server) decisions(req decisionRequest) ([]Decision, error) {
	base := Decision{Reviewer: s.cfg.Reviewer, Time: s.cfg.Now().UTC().Format(timeLayout)}
	if req.Group != "" {
		return s.groupDecisions(req, base)
	}
	d, err := s.decision(req)
	return []Decision{d}, err
}

// decision checks a request against the list and the job's class names,
// and completes it.
func (s *Server) decision(req decisionRequest) (Decision, error) {
	i, ok := s.byKey[req.Key]
	if !ok {
		return Decision{}, errors.New("no such image in the review list")
	}
	it := &s.items[i]
	d := Decision{Key: it.key, Decision: req.Decision, Reviewer: s.cfg.Reviewer, Time: s.cfg.Now().UTC().Format(timeLayout)}
	switch req.Decision {
	case Accept:
		if it.failed() {
			return Decision{}, errors.New("the image has no predicted class to accept")
		}
		if d.Class = s.names.predicted(it); d.Class == "" {
			return Decision{}, fmt.Errorf("the predicted class (index %d) has no name in this job: pick a named class", it.index)
		}
	case Pick:
		if err := s.names.check(req.Class); err != nil {
			return Decision{}, err
		}
		d.Class = req.Class
	case Unsure:
	default:
		return Decision{}, fmt.Errorf("decision %q: want accept, class or unsure", req.Decision)
	}
	return d, nil
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "could not encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}
