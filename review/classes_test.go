package review_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
)

// digits are MNIST's class names.
var digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// tenClassPosterior makes class 4 the least probable of ten, so that the
// page's nine shown classes leave it out.
func tenClassPosterior() []float64 {
	p := []float64{0.3, 0.2, 0.1, 0.08, 0.01, 0.07, 0.07, 0.06, 0.06, 0.05}
	return p
}

func TestAnyOfTheModelsClassesCanBePicked(t *testing.T) {
	recs := []pipeline.Record{rec("archive/x.png", "0", 0, 0.9, nil, tenClassPosterior(), nil)}
	j := jobOn(t, "file://"+t.TempDir(), recs, nil, func(s *jobs.Spec) { s.ClassNames = digits })
	h := j.open(t, "alice", "").Handler()
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"a class the page does not show is taken", `{"key":"archive/x.png","decision":"class","class":"4"}`, 200},
		{"a shown class is taken", `{"key":"archive/x.png","decision":"class","class":"1"}`, 200},
		{"a name the model does not have is refused", `{"key":"archive/x.png","decision":"class","class":"#4"}`, 400},
		{"a class index is not a name", `{"key":"archive/x.png","decision":"class","class":"10"}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := post(h, tc.body); w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
	ds := j.decisions(t, "alice")
	if len(ds) != 2 || ds[0].Class != "4" || ds[1].Class != "1" {
		t.Fatalf("stored %+v", ds)
	}
}

func TestAJobWithoutClassNamesNeverStoresAnIndex(t *testing.T) {
	// Records name classes 0 ("cat") and 1 ("dog") only; 2 and 3 have no name.
	recs := []pipeline.Record{
		rec("archive/x.png", "cat", 0, 0.9, nil, []float64{0.4, 0.1, 0.3, 0.2}, nil),
		rec("archive/y.png", "dog", 1, 0.8, nil, []float64{0.1, 0.5, 0.3, 0.1}, nil),
	}
	j := jobOn(t, "file://"+t.TempDir(), recs, nil, nil)
	h := j.open(t, "alice", "").Handler()
	w := post(h, `{"key":"archive/x.png","decision":"class","class":"#2"}`)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "name") {
		t.Fatalf("picking an unnamed class: status %d: %s", w.Code, w.Body)
	}
	if w := post(h, `{"key":"archive/x.png","decision":"class","class":"dog"}`); w.Code != 200 {
		t.Fatalf("picking a named class: status %d: %s", w.Code, w.Body)
	}
	if w := post(h, `{"key":"archive/y.png","decision":"accept"}`); w.Code != 200 {
		t.Fatalf("accepting: status %d: %s", w.Code, w.Body)
	}
	for _, d := range j.decisions(t, "alice") {
		if strings.HasPrefix(d.Class, "#") {
			t.Fatalf("stored %+v", d)
		}
	}
}
