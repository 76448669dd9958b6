package review_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/didicm/didicm/internal/dicomtest"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/recordkey"
)

// Record keys as classify builds them: frames of a 3-frame DICOM file, a
// PNG named like one of its frames, a PNG named like a frame of itself and
// a file name with a carriage return.
var (
	frameKeys = []string{
		recordkey.Of("archive/phi-multi.dcm").WithFrame(1).String(),
		recordkey.Of("archive/phi-multi.dcm").WithFrame(2).String(),
		recordkey.Of("archive/phi-multi.dcm").WithFrame(3).String(),
	}
	lookalikeKey = recordkey.Of("archive/phi-multi.dcm#frame=2").String()
	selfFrameKey = recordkey.Of("archive/a.png#frame=1").String()
	crKey        = recordkey.Of("archive/cr\rkey\x01.png").String()
)

// namesJob is a job with those keys; the PNGs' sizes tell them apart from
// the 16×16 frames.
func namesJob(t *testing.T) *testJob {
	t.Helper()
	inputs := map[string][]byte{
		"archive/phi-multi.dcm":         dicomtest.NativeFrames(3, 16, 16),
		"archive/phi-multi.dcm#frame=2": greyPNG(40, 30, 0),
		"archive/a.png#frame=1":         greyPNG(20, 10, 0),
		"archive/cr\rkey\x01.png":       greyPNG(12, 12, 0),
	}
	var recs []pipeline.Record
	keys := append(append([]string{}, frameKeys...), lookalikeKey, selfFrameKey, crKey)
	for i, key := range keys {
		r := rec(key, "cat", 0, 0.9-float64(i)/100, nil, []float64{0.6, 0.4}, nil)
		if i < 3 {
			r.Frame = i + 1
		}
		recs = append(recs, r)
	}
	j := jobOn(t, "file://"+t.TempDir(), recs, inputs, func(s *jobs.Spec) { s.ClassNames = []string{"cat", "dog"} })
	j.order = keys
	return j
}

func TestEveryKeyShowsItsOwnImage(t *testing.T) {
	h := namesJob(t).open(t, "alice", "").Handler()
	for _, tc := range []struct {
		name, key string
		w, h      int
	}{
		{"a DICOM file's frame is its frame", frameKeys[1], 16, 16},
		{"a PNG named like that frame is the PNG", lookalikeKey, 40, 30},
		{"a PNG named like a frame of itself is shown", selfFrameKey, 20, 10},
		{"a name with control characters is shown", crKey, 12, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(h, imagePath(tc.key, ""))
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if b := decodePNG(t, w.Body.Bytes()).Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("%v, want %dx%d", b, tc.w, tc.h)
			}
		})
	}
	first, last := decodePNG(t, get(h, imagePath(frameKeys[0], "")).Body.Bytes()), decodePNG(t, get(h, imagePath(frameKeys[2], "")).Body.Bytes())
	if meanGrey(first) >= meanGrey(last) {
		t.Fatalf("frame 1 (mean %.1f) is not darker than frame 3 (%.1f): the same frame for both?", meanGrey(first), meanGrey(last))
	}
}

func TestEveryKeyGetsItsOwnDecision(t *testing.T) {
	j := namesJob(t)
	h := j.open(t, "alice", "").Handler()
	for _, key := range []string{frameKeys[1], lookalikeKey, selfFrameKey, crKey} {
		body, _ := json.Marshal(map[string]string{"key": key, "decision": "accept"})
		if w := post(h, string(body)); w.Code != 200 {
			t.Fatalf("deciding %q: status %d: %s", key, w.Code, w.Body)
		}
	}
	got := map[string]bool{}
	for _, d := range j.decisions(t, "alice") {
		got[d.Key] = true
	}
	for _, key := range []string{frameKeys[1], lookalikeKey, selfFrameKey, crKey} {
		if !got[key] {
			t.Errorf("no decision stored for %q (stored: %v)", key, got)
		}
	}
	if got[frameKeys[0]] || got[frameKeys[2]] {
		t.Errorf("a decision landed on another frame: %v", got)
	}
}

// post sends a decision to h as a loopback client would.
func post(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "http://127.0.0.1:8090/decision", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}
