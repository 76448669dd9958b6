package dicomweb_test

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// proxy is a reverse proxy in front of a real Orthanc that injects
// faults: its hook sees each request first and answers it itself when it
// returns true.
type proxy struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool
	seen map[string]int // requests by kind: "qido", "wado"
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport, rp.ErrorLog = tr, log.New(io.Discard, "", 0)
	p := &proxy{seen: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen[kind(r)]++
		hook := p.hook
		p.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		p.srv.Close()
		tr.CloseIdleConnections()
	})
	return p
}

// proxyTo is a plain reverse proxy to target, for a hook that forwards a
// request itself.
func (p *proxy) proxyTo(t testing.TB, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport, rp.ErrorLog = tr, log.New(io.Discard, "", 0)
	return rp
}

// kind is "wado" for an instance's retrieval, else "qido".
func kind(r *http.Request) string {
	if strings.Contains(r.URL.Path, "/instances/") {
		return "wado"
	}
	return "qido"
}

// root is the proxied DICOMweb root.
func (p *proxy) root() string { return p.srv.URL + "/dicom-web" }

func (p *proxy) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	p.hook = h
	p.mu.Unlock()
}

func (p *proxy) count(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[kind]
}
