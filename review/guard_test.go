package review_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/didicm/didicm/review"
)

// longToken is a token long enough to be taken.
const longToken = "s3cret-4f9a1c7e2b"

// routes are a request to each of the server's routes.
var routes = []struct{ method, path string }{
	{"GET", "/"},
	{"GET", "/image?key=archive%2Fb.png"},
	{"POST", "/decision"},
	{"GET", "/nowhere"},
}

func request(method, path string, header map[string]string) *http.Request {
	req := httptest.NewRequest(method, "http://127.0.0.1:8090"+path, strings.NewReader(`{"key":"archive/a.png","decision":"unsure"}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

func TestEveryAnswerIsForThisOriginOnly(t *testing.T) {
	h := newTestJob(t).open(t, "alice", "").Handler()
	for _, r := range routes {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request(r.method, r.path, nil))
		if got := w.Header().Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
			t.Errorf("%s %s: status %d, Cross-Origin-Resource-Policy %q", r.method, r.path, w.Code, got)
		}
	}
}

func TestRequestsFromOtherSitesAreRefused(t *testing.T) {
	h := newTestJob(t).open(t, "alice", "").Handler()
	for _, site := range []string{"cross-site", "same-site"} {
		for _, r := range routes[:3] {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request(r.method, r.path, map[string]string{"Sec-Fetch-Site": site, "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}))
			if w.Code != http.StatusForbidden {
				t.Errorf("%s %s from a %s page: status %d, want 403", r.method, r.path, site, w.Code)
			}
		}
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
	}{
		{"the page's own requests", map[string]string{"Sec-Fetch-Site": "same-origin"}},
		{"an address typed by the user", map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}},
		{"a link followed from another site", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}},
		{"a client that is not a browser", nil},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request("GET", "/", tc.header))
		if w.Code != 200 {
			t.Errorf("the page for %s: status %d", tc.name, w.Code)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("POST", "/decision", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}))
	if w.Code != http.StatusForbidden {
		t.Errorf("a form posted from another site: status %d, want 403", w.Code)
	}
}

func TestTheBearerSchemeIsTakenInAnyCase(t *testing.T) {
	h := newTestJob(t).open(t, "alice", longToken).Handler()
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, request("GET", "/", map[string]string{"Authorization": scheme + " " + longToken}))
		if w.Code != 200 {
			t.Errorf("%s: status %d", scheme, w.Code)
		}
	}
}

func TestAShortTokenIsRefused(t *testing.T) {
	j := newTestJob(t)
	for _, tok := range []string{"s3cret", "fifteen-chars-x"} {
		s, err := review.Open(context.Background(), review.Config{Store: j.store, Reviewer: "alice", Token: tok})
		if err == nil {
			s.Close()
			t.Errorf("a token of %d characters was taken", len(tok))
		} else if strings.Contains(err.Error(), tok) {
			t.Errorf("the refusal shows the token: %v", err)
		}
	}
}
