package review

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
)

var (
	//go:embed page.html
	pageHTML string
	//go:embed review.js
	reviewJS string
	//go:embed review.css
	reviewCSS string

	pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
		"inc": func(i int) int { return i + 1 },
	}).Parse(pageHTML))
)

// pageData is what page.html shows.
type pageData struct {
	Job, Reviewer string
	Items         []pageItem
	Done          int
	Nonce         string
	Script        template.JS  // review.js, ours
	Style         template.CSS // review.css, ours
}

// pageItem is an item with the last decision on it, if any.
type pageItem struct {
	Item
	Decided *Decision
}

// page renders the list with every reviewer's decisions as they are now.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	files, err := s.cfg.Store.ReadReviews(r.Context())
	if err != nil {
		s.cfg.Log.Error("read reviews", "err", err)
		http.Error(w, "could not read the reviews so far", http.StatusBadGateway)
		return
	}
	last := latest(files)
	d := pageData{Job: s.job, Reviewer: s.cfg.Reviewer, Items: make([]pageItem, len(s.items)), Nonce: nonce(),
		Script: template.JS(reviewJS), Style: template.CSS(reviewCSS)}
	for i, it := range s.items {
		d.Items[i].Item = it
		if dec, ok := last[it.Key]; ok {
			d.Items[i].Decided = &dec
			d.Done++
		}
	}
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		s.cfg.Log.Error("render review page", "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+d.Nonce+"'; style-src 'nonce-"+d.Nonce+
		"'; img-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	_, _ = w.Write(buf.Bytes())
}
