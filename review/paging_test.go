package review_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
)

// apiState and apiPage are what GET /state and GET /items answer.
type apiState struct {
	Total     int `json:"total"`
	Done      int `json:"done"`
	FirstOpen int `json:"first_open"`
	PageSize  int `json:"page_size"`
}

type apiItem struct {
	Index   int    `json:"index"`
	Key     string `json:"key"`
	Class   string `json:"class"`
	Error   string `json:"error"`
	Decided *struct {
		Decision, Class, Reviewer string
	} `json:"decided"`
	Top []struct {
		Class string  `json:"class"`
		Index int     `json:"index"`
		Prob  float64 `json:"prob"`
	} `json:"top"`
}

type apiPage struct {
	From  int       `json:"from"`
	Total int       `json:"total"`
	Done  int       `json:"done"`
	Items []apiItem `json:"items"`
}

func getJSON[T any](t *testing.T, h http.Handler, path string) T {
	t.Helper()
	w := get(h, path)
	if w.Code != 200 {
		t.Fatalf("GET %s: status %d: %s", path, w.Code, w.Body)
	}
	var v T
	must(t, json.Unmarshal(w.Body.Bytes(), &v))
	return v
}

func TestTheFirstResponseStaysSmallForALongList(t *testing.T) {
	recs, _ := listOf(20_000)
	h := jobOn(t, "file://"+t.TempDir(), recs, nil, nil).open(t, "alice", "").Handler()
	w := get(h, "/")
	if w.Code != 200 || w.Body.Len() > 64<<10 {
		t.Fatalf("status %d, %d bytes for a list of 20,000", w.Code, w.Body.Len())
	}
}

func TestTheListComesInPagesMostUncertainFirst(t *testing.T) {
	j := newTestJob(t)
	h := j.open(t, "alice", "").Handler()
	if s := getJSON[apiState](t, h, "/state"); s.Total != 5 || s.Done != 0 || s.FirstOpen != 0 || s.PageSize < 1 {
		t.Fatalf("state %+v", s)
	}
	var keys []string
	for from := 0; from < 5; from += 2 {
		p := getJSON[apiPage](t, h, "/items?from="+strconv.Itoa(from)+"&n=2")
		if p.From != from || p.Total != 5 || len(p.Items) != min(2, 5-from) {
			t.Fatalf("page from %d: %+v", from, p)
		}
		for k, it := range p.Items {
			if it.Index != from+k {
				t.Fatalf("item %d has index %d", from+k, it.Index)
			}
			keys = append(keys, it.Key)
		}
	}
	if !slices.Equal(keys, j.order) {
		t.Fatalf("order %v, want %v", keys, j.order)
	}
	if w := post(h, `{"key":"archive/a.png","decision":"accept"}`); w.Code != 200 {
		t.Fatalf("decide: %d %s", w.Code, w.Body)
	}
	if s := getJSON[apiState](t, h, "/state"); s.Done != 1 || s.FirstOpen != 1 {
		t.Fatalf("state after one decision %+v", s)
	}
	p := getJSON[apiPage](t, h, "/items?from=0&n=1")
	if d := p.Items[0].Decided; p.Done != 1 || d == nil || d.Decision != "accept" || d.Class != "cat" || d.Reviewer != "alice" {
		t.Fatalf("first page after a decision: %+v", p)
	}
	for _, bad := range []string{"/items?from=-1&n=2", "/items?from=x", "/items?from=0&n=0", "/items?from=0&n=100000"} {
		if w := get(h, bad); w.Code != 400 {
			t.Errorf("GET %s: status %d, want 400", bad, w.Code)
		}
	}
	if p := getJSON[apiPage](t, h, "/items?from=5&n=2"); len(p.Items) != 0 {
		t.Errorf("past the end: %+v", p)
	}
}
