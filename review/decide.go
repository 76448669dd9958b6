package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// decisionRequest is what the page posts.
type decisionRequest struct {
	Key      string `json:"key"`
	Decision string `json:"decision"`
	Class    string `json:"class"`
}

// decisionAnswer is the decision as stored, and how many items are decided.
type decisionAnswer struct {
	Decision
	Done int `json:"done"`
}

// decide stores one decision in this server's review session and answers
// it as stored; it answers 200 only once the decision is stored. Only
// JSON bodies are taken, so that another site's form cannot post one.
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
	d, err := s.decision(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	line, _ := json.Marshal(d)
	key, at, err := s.session.Append(r.Context(), append(line, '\n'))
	if err != nil {
		s.cfg.Log.Error("record decision", "key", d.Key, "err", err)
		http.Error(w, "could not record the decision", http.StatusInternalServerError)
		return
	}
	done := s.decided.add(&stored{Decision: d, at: unixNano(d.Time), obj: key, line: at})
	s.cfg.Log.Info("decision", "key", d.Key, "decision", d.Decision, "class", d.Class, "reviewer", d.Reviewer)
	writeJSON(w, decisionAnswer{Decision: d, Done: done})
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
