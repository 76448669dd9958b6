package review

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
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

	pageTmpl = template.Must(template.New("page").Parse(pageHTML))
)

// pageData is what page.html shows: the page only, never the list, which
// the script fetches a page at a time (GET /items).
type pageData struct {
	Job, Reviewer   string
	Total, PageSize int
	Nonce           string
	Script          template.JS  // review.js, ours
	Style           template.CSS // review.css, ours
}

// shell serves the page: a few kilobytes whatever the list's length.
func (s *Server) shell(w http.ResponseWriter, _ *http.Request) {
	d := pageData{Job: s.job, Reviewer: s.cfg.Reviewer, Total: len(s.entries), PageSize: s.cfg.PageSize, Nonce: nonce(),
		Script: template.JS(reviewJS), Style: template.CSS(reviewCSS)}
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

// nonce returns a fresh value for the page's Content-Security-Policy.
func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
