package review_test

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/didicm/didicm/review"
)

func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		name, addr, token string
		refused           bool
	}{
		{"an IPv4 loopback address needs no token", "127.0.0.1:8090", "", false},
		{"an IPv6 loopback address needs no token", "[::1]:0", "", false},
		{"localhost needs no token", "localhost:8090", "", false},
		{"every interface needs a token", ":8090", "", true},
		{"0.0.0.0 needs a token", "0.0.0.0:8090", "", true},
		{"a LAN address needs a token", "10.1.2.3:8090", "", true},
		{"a LAN address with a token is fine", "10.1.2.3:8090", longToken, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := review.CheckListen(tc.addr, tc.token)
			if refused := errors.Is(err, review.ErrTokenRequired); refused != tc.refused {
				t.Fatalf("CheckListen(%q): %v", tc.addr, err)
			}
		})
	}
}

func TestEveryRequestMustCarryTheToken(t *testing.T) {
	j := newTestJob(t)
	srv := httptest.NewServer(j.open(t, "alice", longToken).Handler())
	defer srv.Close()
	img := "/image?key=" + url.QueryEscape("archive/b.png")
	for _, tc := range []struct {
		name, method, path, auth string
		want                     int
	}{
		{"the page without a token is refused", "GET", "/", "", 401},
		{"the page with a wrong token is refused", "GET", "/?token=" + longToken[1:], "", 401},
		{"the page with the token in its query is served", "GET", "/?token=" + longToken, "", 200},
		{"the page with a bearer token is served", "GET", "/", "Bearer " + longToken, 200},
		{"the list without a token is refused", "GET", "/items?from=0&n=2", "", 401},
		{"the list with the token only in its query is refused", "GET", "/items?from=0&n=2&token=" + longToken, "", 401},
		{"the list with a bearer token is served", "GET", "/items?from=0&n=2", "Bearer " + longToken, 200},
		{"an image without a token is refused", "GET", img, "", 401},
		{"an image with the token only in its query is refused", "GET", img + "&token=" + longToken, "", 401},
		{"an image with a bearer token is served", "GET", img, "Bearer " + longToken, 200},
		{"a decision without a token is refused", "POST", "/decision", "", 401},
		{"a decision with a wrong token is refused", "POST", "/decision", "Bearer nope", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(`{"key":"archive/a.png","decision":"unsure"}`))
			must(t, err)
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if bytes.Contains(body, []byte(longToken)) {
				t.Fatal("the answer holds the token")
			}
		})
	}
	if ds := j.decisions(t, "alice"); len(ds) != 0 {
		t.Fatalf("a refused decision was written: %+v", ds)
	}
}

func TestWithoutATokenOnlyLoopbackHostsAreAnswered(t *testing.T) {
	j := newTestJob(t)
	h := j.open(t, "alice", "").Handler()
	for host, want := range map[string]int{"127.0.0.1:8090": 200, "localhost:8090": 200, "[::1]:8090": 200,
		"attacker.example:8090": 403} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: status %d, want %d", host, w.Code, want)
		}
	}
}

func TestDecisionsAreCheckedAgainstTheList(t *testing.T) {
	j := newTestJob(t)
	h := j.open(t, "alice", "").Handler()
	post := func(ct, body string) int {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8090/decision", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for _, tc := range []struct {
		name, ct, body string
		want           int
	}{
		{"a form post is refused", "application/x-www-form-urlencoded", `key=archive/a.png&decision=unsure`, 415},
		{"a key not in the list is refused", "application/json", `{"key":"archive/zzz.png","decision":"unsure"}`, 400},
		{"a failed image cannot be accepted", "application/json", `{"key":"archive/broken.png","decision":"accept"}`, 400},
		{"a class the job does not name is refused", "application/json", `{"key":"archive/a.png","decision":"class","class":"wolf"}`, 400},
		{"an unnamed class is refused", "application/json", `{"key":"archive/c.png","decision":"class","class":"#3"}`, 400},
		{"an unknown decision is refused", "application/json", `{"key":"archive/a.png","decision":"maybe"}`, 400},
		{"a failed image can be marked unsure", "application/json", `{"key":"archive/broken.png","decision":"unsure"}`, 200},
		{"an offered class is taken", "application/json", `{"key":"archive/a.png","decision":"class","class":"<owl & \"friends\">"}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.ct, tc.body); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	if ds := j.decisions(t, "alice"); len(ds) != 2 || ds[1].Class != oddClass || ds[0].Reviewer != "alice" {
		t.Fatalf("reviews/alice.jsonl holds %+v", ds)
	}
}

func TestImagesAreServedAsPNG(t *testing.T) {
	j := newTestJob(t)
	h := j.open(t, "alice", "").Handler()
	get := func(key, size string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8090/image?key="+url.QueryEscape(key)+"&size="+size, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	for _, tc := range []struct {
		name, key, size string
		w, h            int
	}{
		{"a large image's thumbnail is 512 px on its longest side", "archive/a.png", "", 512, 341},
		{"a tall image's thumbnail too", "archive/c.png", "", 204, 512},
		{"a small image keeps its size", "archive/d.png", "", 28, 28},
		{"the full image has its own size", "archive/a.png", "full", 900, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(tc.key, tc.size)
			if w.Code != 200 || w.Header().Get("Content-Type") != "image/png" {
				t.Fatalf("status %d, %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			img, err := png.Decode(w.Body)
			must(t, err)
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("%v, want %dx%d", b, tc.w, tc.h)
			}
		})
	}
	if w := get("archive/broken.png", ""); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("a broken image: status %d, want 422", w.Code)
	}
	if w := get("out/night-1/spec.json", ""); w.Code != http.StatusNotFound {
		t.Errorf("a key not in the list: status %d, want 404", w.Code)
	}
}
