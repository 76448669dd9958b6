package review

import (
	"net/http"
	"strconv"
)

// maxPage is the most items one GET /items answers.
const maxPage = 500

// stateAnswer is GET /state: counts of entries (an image, or a group of
// images decided together).
type stateAnswer struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	FirstOpen int `json:"first_open"` // -1 when every entry is decided
	PageSize  int `json:"page_size"`
}

// pageAnswer is GET /items.
type pageAnswer struct {
	From  int        `json:"from"`
	Total int        `json:"total"`
	Done  int        `json:"done"`
	Items []itemJSON `json:"items"`
}

// itemJSON is an entry as the page reads it: its (first) image and, for
// a group, the group.
type itemJSON struct {
	Index       int          `json:"index"`
	Key         string       `json:"key"`
	Class       string       `json:"class"`
	ClassIndex  int32        `json:"class_index"`
	MaxProb     float32      `json:"max_prob"`
	EntropyNorm float64      `json:"entropy_norm"`
	SetSize     *int32       `json:"set_size,omitempty"`
	Set         []string     `json:"set,omitempty"`
	Top         []choiceJSON `json:"top"`
	Error       string       `json:"error,omitempty"`
	ErrorReason string       `json:"error_reason,omitempty"`
	// NoImage says why the page cannot show the image (a video frame or a
	// log message): it asks for none.
	NoImage string `json:"no_image,omitempty"`
	// Decided is the image's last decision; for a group, its first
	// image's once every image of it is decided.
	Decided *Decision  `json:"decided"`
	Group   *groupJSON `json:"group,omitempty"`
}

// choiceJSON is one shown class; Class is "" when the job does not name it.
type choiceJSON struct {
	Class string  `json:"class"`
	Index int32   `json:"index"`
	Prob  float32 `json:"prob"`
}

// state answers the counts and the first open entry, with every
// reviewer's decisions as they are now.
func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	if !s.refresh(w, r) {
		return
	}
	done, first := s.decided.state()
	writeJSON(w, stateAnswer{Total: len(s.entries), Done: done, FirstOpen: first, PageSize: s.cfg.PageSize})
}

// page answers entries [from, from+n) in the list's order (computed once,
// at Open) with the last decisions on their images.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	from, err1 := strconv.Atoi(r.URL.Query().Get("from"))
	n, err2 := strconv.Atoi(r.URL.Query().Get("n"))
	if err1 != nil || err2 != nil || from < 0 || n < 1 || n > maxPage {
		http.Error(w, "want from=0 or more and n=1 to "+strconv.Itoa(maxPage), http.StatusBadRequest)
		return
	}
	if !s.refresh(w, r) {
		return
	}
	from = min(from, len(s.entries))
	to := min(from+n, len(s.entries))
	out := pageAnswer{From: from, Total: len(s.entries), Items: make([]itemJSON, to-from)}
	for k := range out.Items {
		out.Items[k] = s.entryJSON(from + k)
	}
	out.Done = s.decided.doneCount()
	writeJSON(w, out)
}

// entryJSON is entry e as the page reads it.
func (s *Server) entryJSON(e int) itemJSON {
	en := &s.entries[e]
	if en.group == nil {
		ds, _ := s.decided.decisionsOf(e, []int32{en.lead})
		return s.itemJSON(e, en.lead, ds[0])
	}
	shown := en.members[:min(len(en.members), maxMembers)]
	ds, decided := s.decided.decisionsOf(e, shown)
	var lead *Decision
	if decided == len(en.members) {
		lead = ds[0]
	}
	out := s.itemJSON(e, en.lead, lead)
	out.Group = s.groupJSON(en, shown, ds, decided)
	return out
}

func (s *Server) itemJSON(e int, i int32, d *Decision) itemJSON {
	it := &s.items[i]
	out := itemJSON{Index: e, Key: it.key, Class: s.names.predicted(it), ClassIndex: it.index, MaxProb: it.maxProb,
		EntropyNorm: it.entropy, Set: it.set, Top: s.choices(it.top), Error: it.err, ErrorReason: it.reason, Decided: d,
		NoImage: noImage(it)}
	if it.setSize >= 0 {
		out.SetSize = &it.setSize
	}
	return out
}

func (s *Server) choices(cs []choice) []choiceJSON {
	out := make([]choiceJSON, len(cs))
	for k, c := range cs {
		out[k] = choiceJSON{Class: s.names.name(c.index), Index: c.index, Prob: c.prob}
	}
	return out
}

// classes answers up to 20 of the job's class names containing q.
func (s *Server) classes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string][]string{"classes": s.names.matching(r.URL.Query().Get("q"), 20)})
}

// refresh brings the decisions up to date, or answers why it could not.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) bool {
	if err := s.decided.refresh(r.Context()); err != nil {
		s.cfg.Log.Error("read reviews", "err", err)
		http.Error(w, "could not read the reviews so far", http.StatusBadGateway)
		return false
	}
	return true
}
