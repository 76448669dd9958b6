package dicomweb_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/didicm/didicm/dicomweb"
	"github.com/didicm/didicm/storage"
)

// refuse answers the first n WADO requests with code (Retry-After: after,
// when set).
func refuse(n int, code int, after string) func(w http.ResponseWriter, r *http.Request) bool {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if kind(r) != "wado" || n == 0 {
			return false
		}
		n--
		if after != "" {
			w.Header().Set("Retry-After", after)
		}
		w.WriteHeader(code)
		return true
	}
}

func TestRefusalsWith429And503AreRetried(t *testing.T) {
	p := newProxy(t, pacs.URL)
	e := corpusEntry(t, "chest-ct-axial-5-rle")
	for _, c := range []struct {
		code  int
		after string
	}{{http.StatusServiceUnavailable, "0"}, {http.StatusTooManyRequests, ""}, {http.StatusServiceUnavailable, "garbage"}} {
		t.Run(fmt.Sprintf("%d retry-after %q", c.code, c.after), func(t *testing.T) {
			before := p.count("wado")
			p.setHook(refuse(3, c.code, c.after))
			s := open(t, sourceURL(p.root(), "backoff=1ms&retries=3"))
			data, err := s.Read(context.Background(), e.key(), 0)
			if err != nil || len(data) != len(e.data) {
				t.Fatalf("read after three refusals: %d bytes, %v", len(data), err)
			}
			if n := p.count("wado") - before; n != 4 {
				t.Fatalf("%d requests, want 4", n)
			}
		})
	}
}

func TestAServiceThatStaysUnavailableFailsTheReadAfterItsRetries(t *testing.T) {
	p := newProxy(t, pacs.URL)
	p.setHook(refuse(-1, http.StatusServiceUnavailable, ""))
	e := corpusEntry(t, "chest-ct-axial-5-rle")
	_, err := open(t, sourceURL(p.root(), "backoff=1ms&retries=2")).Read(context.Background(), e.key(), 0)
	if !errors.Is(err, dicomweb.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("read: %v", err)
	}
	if n := p.count("wado"); n != 3 {
		t.Fatalf("%d requests, want 3 (the first and two retries)", n)
	}
}

func TestARetryAfterBeyondTheDeadlineEndsTheRetriesAtOnce(t *testing.T) {
	p := newProxy(t, pacs.URL)
	p.setHook(refuse(-1, http.StatusServiceUnavailable, "3600"))
	e := corpusEntry(t, "chest-ct-axial-5-rle")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := open(t, sourceURL(p.root(), "backoff=1ms")).Read(ctx, e.key(), 0)
	if !errors.Is(err, dicomweb.ErrUnavailable) || p.count("wado") != 1 {
		t.Fatalf("read: %v after %d requests, want unavailable after 1", err, p.count("wado"))
	}
}

func TestRetryAfterIsReadInSecondsOrAsADate(t *testing.T) {
	now := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, "7": 7 * time.Second, "soon": 0,
		"Fri, 27 Nov 2026 22:01:30 GMT": 90 * time.Second, "Fri, 27 Nov 2026 21:00:00 GMT": 0,
	} {
		if got := dicomweb.RetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", h, got, want)
		}
	}
}

// stall answers WADO requests (after writing head, when set) only once the
// client has given up, and reports each give-up on gaveUp.
func stall(head string, gaveUp chan<- struct{}) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if kind(r) != "wado" {
			return false
		}
		if head != "" {
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			io.WriteString(w, head)
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
		gaveUp <- struct{}{}
		return true
	}
}

func TestASlowAnswerIsCutByTheTimeout(t *testing.T) {
	e := corpusEntry(t, "chest-ct-axial-5-rle")
	for name, head := range map[string]string{"before its headers": "", "in its body": "--b\r\nContent-Type: application/dicom\r\n\r\nDICM"} {
		t.Run(name, func(t *testing.T) {
			p := newProxy(t, pacs.URL)
			gaveUp := make(chan struct{}, 1)
			p.setHook(stall(head, gaveUp))
			_, err := open(t, sourceURL(p.root(), "timeout=200ms")).Read(context.Background(), e.key(), 0)
			if !errors.Is(err, dicomweb.ErrTimeout) {
				t.Fatalf("read: %v, want a timeout", err)
			}
			<-gaveUp
		})
	}
}

// filler streams n copies of a byte.
type filler struct {
	c byte
	n int64
}

func (f *filler) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(b)), f.n)
	for i := range b[:k] {
		b[i] = f.c
	}
	f.n -= k
	return int(k), nil
}

// allocated is what f allocates on the heap, in bytes.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestMemoryStaysBoundedWhateverTheServerSends(t *testing.T) {
	const huge = 1 << 30
	cases := []struct {
		name  string
		serve func(w http.ResponseWriter)
		want  error
	}{
		{"an instance that never ends", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=b`)
			io.WriteString(w, "--b\r\nContent-Type: application/dicom\r\n\r\n")
			io.Copy(w, &filler{0, huge})
		}, storage.ErrTooLarge},
		{"a bare application/dicom answer that never ends", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/dicom")
			io.Copy(w, &filler{0, huge})
		}, storage.ErrTooLarge},
		{"a declared length over the limit", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/dicom")
			w.Header().Set("Content-Length", "1099511627776")
			w.WriteHeader(http.StatusOK)
		}, storage.ErrTooLarge},
		{"a search page that never ends", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/dicom+json")
			io.WriteString(w, `[{"0020000D": {"vr": "UI", "Value": ["`)
			io.Copy(w, &filler{'1', huge})
		}, dicomweb.ErrPageTooLarge},
		{"an answer of another type", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.Copy(w, &filler{0, huge})
		}, dicomweb.ErrBadResponse},
	}
	e := corpusEntry(t, "chest-ct-axial-5-rle")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProxy(t, pacs.URL)
			p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
				if (kind(r) == "qido") != strings.Contains(c.name, "search") {
					return false
				}
				c.serve(w)
				return true
			})
			s := open(t, sourceURL(p.root(), ""))
			var err error
			n := allocated(func() {
				if strings.Contains(c.name, "search") {
					_, err = tryWalk(s, "", storage.Filter{})
				} else {
					_, err = s.Read(context.Background(), e.key(), 1<<20)
				}
			})
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if n > 64<<20 {
				t.Fatalf("allocated %d MiB reading a 1 GiB answer", n>>20)
			}
		})
	}
}

func TestRequestsInFlightStayWithinTheBound(t *testing.T) {
	p := newProxy(t, pacs.URL)
	var mu sync.Mutex
	inFlight, most := 0, 0
	both := make(chan struct{})
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == 2 && most == 2 {
			close(both) // two at once: let every request through
		}
		mu.Unlock()
		<-both
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		return false
	})
	s := open(t, sourceURL(p.root(), "inflight=2"))
	var wg sync.WaitGroup
	for _, e := range loadCorpus() {
		wg.Go(func() {
			if _, err := s.Read(context.Background(), e.key(), 0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most != 2 {
		t.Fatalf("at most %d requests at once, want 2", most)
	}
}

func TestOutsideItsWindowTheSourceSendsNothing(t *testing.T) {
	p := newProxy(t, pacs.URL)
	now := time.Now()
	window := now.Add(2*time.Hour).Format("15:04") + "-" + now.Add(3*time.Hour).Format("15:04")
	s := open(t, sourceURL(p.root(), "window="+window))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the window opens later than that
	defer cancel()
	err := s.Walk(ctx, "", storage.Filter{}, func(storage.Object) error { return nil })
	if !errors.Is(err, dicomweb.ErrOutsideWindow) {
		t.Fatalf("walk: %v", err)
	}
	if _, err := s.Read(ctx, corpusEntry(t, "chest-ct-axial-5-rle").key(), 0); !errors.Is(err, dicomweb.ErrOutsideWindow) {
		t.Fatalf("read: %v", err)
	}
	if n := p.count("qido") + p.count("wado"); n != 0 {
		t.Fatalf("%d requests outside the window", n)
	}
}

func TestAServerThatCapsPagesIsStillListedCompletely(t *testing.T) {
	p := newProxy(t, pacs.URL)
	p.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		if q.Get("limit") != "" {
			q.Set("limit", "2") // at most two matches a page, whatever was asked
			r.URL.RawQuery = strings.ReplaceAll(q.Encode(), "%2A", "*")
		}
		return false
	})
	got := walk(t, open(t, sourceURL(p.root(), "page=200")), "", storage.Filter{})
	sameKeys(t, got, corpusKeys(func(entry) bool { return true }))
	if n := p.count("qido"); n < 10 {
		t.Fatalf("%d searches: the cap did not apply", n)
	}
}

func TestAReadAsksForTheDecodableSyntaxesThenAsStoredAndNoCompression(t *testing.T) {
	p := newProxy(t, pacs.URL)
	var mu sync.Mutex
	var accept, encoding string
	p.setHook(func(_ http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		accept, encoding = r.Header.Get("Accept"), r.Header.Get("Accept-Encoding")
		mu.Unlock()
		return false
	})
	e := corpusEntry(t, "head-mr-t1-5-jpegls")
	if _, err := open(t, sourceURL(p.root(), "")).Read(context.Background(), e.key(), 0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ts := range dicomweb.DefaultTransferSyntaxes {
		if !strings.Contains(accept, `multipart/related; type="application/dicom"; transfer-syntax=`+ts+",") {
			t.Errorf("Accept %q does not ask for %s", accept, ts)
		}
	}
	if !strings.HasSuffix(accept, "transfer-syntax=*; q=0.1") || encoding != "identity" {
		t.Fatalf("Accept %q, Accept-Encoding %q", accept, encoding)
	}
}
