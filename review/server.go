package review

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/internal/redact"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

// ErrTokenRequired is CheckListen's answer for a non-loopback address
// without a token.
var ErrTokenRequired = errors.New("listening beyond loopback needs a token")

// CheckListen refuses a listen address that other machines can reach
// (anything but 127.0.0.0/8, ::1 and localhost, including an empty host)
// unless a token guards it.
func CheckListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if token == "" && !loopback(host) {
		return fmt.Errorf("listen address %q: %w (--token)", addr, ErrTokenRequired)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Config is what a review server needs.
type Config struct {
	// Store is the job's store; the server writes only reviews/Reviewer.jsonl.
	Store *jobs.Store
	// Reviewer names this server's decisions file; it must pass
	// jobs.ValidReviewer.
	Reviewer string
	// Token, when set, must come with every request (Authorization: Bearer,
	// or ?token= on the page itself). Empty means none is asked for, and the
	// server then answers only requests addressed to a loopback host.
	Token string
	// Log receives one line per decision; nil discards.
	Log *slog.Logger
	// Now stamps decisions; nil means time.Now.
	Now func() time.Time
}

// Server serves one job's review list to one reviewer.
type Server struct {
	cfg   Config
	job   string
	input *storage.Bucket
	// maxBytes is the largest input file read: the job's limit.
	maxBytes int64
	items    []Item
	byKey    map[string]int
	mu       sync.Mutex // one append to the reviewer's file at a time
}

// Open reads the job's spec and review list and the reviews so far, and
// opens the job's input bucket; Close closes it.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if err := jobs.ValidReviewer(cfg.Reviewer); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	spec, err := cfg.Store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	data, err := cfg.Store.ReadReviewList(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("job %s has no review list yet (review.jsonl is written when the job finishes): %w", spec.ID, err)
	}
	if err != nil {
		return nil, err
	}
	items, err := parseList(data)
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Store.ReadReviews(ctx); err != nil {
		return nil, fmt.Errorf("read reviews: %w", err)
	}
	in, err := storage.Open(ctx, spec.InputURL)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, job: spec.ID, input: in, items: items, byKey: make(map[string]int, len(items)),
		maxBytes: cmp.Or(spec.MaxBytes, imaging.DefaultMaxBytes)}
	for i, it := range items {
		s.byKey[it.Key] = i
	}
	return s, nil
}

// Close closes the input bucket.
func (s *Server) Close() error { return s.input.Close() }

// Handler serves the page (GET /), the images (GET /image?key=K[&size=full])
// and takes decisions (POST /decision).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /image", s.image)
	mux.HandleFunc("POST /decision", s.decide)
	return s.guard(mux)
}

// guard checks the token (or, without one, that the request was addressed
// to a loopback host, against DNS rebinding) and sets the headers every
// answer shares.
func (s *Server) guard(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Frame-Options", "DENY")
		if s.cfg.Token == "" {
			host, _, err := net.SplitHostPort(r.Host)
			if err != nil {
				host = r.Host
			}
			if !loopback(strings.Trim(host, "[]")) {
				http.Error(w, "this server answers only on a loopback address", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok && r.Method == http.MethodGet && r.URL.Path == "/" {
			got = r.URL.Query().Get("token")
		}
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="didicm review"`)
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// image serves an item's image as PNG: a thumbnail, or with size=full the
// whole image (up to fullSide). Only keys of the review list are read.
func (s *Server) image(w http.ResponseWriter, r *http.Request) {
	i, ok := s.byKey[r.URL.Query().Get("key")]
	if !ok {
		http.Error(w, "no such image in the review list", http.StatusNotFound)
		return
	}
	side := thumbSide
	if r.URL.Query().Get("size") == "full" {
		side = fullSide
	}
	obj, frame := splitFrame(s.items[i].Key)
	data, err := s.input.Read(r.Context(), obj, s.maxBytes)
	if err == nil {
		data, err = renderPNG(data, frame, side)
	}
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, redact.Error(err), http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=600")
	_, _ = w.Write(data)
}

// decisionRequest is what the page posts.
type decisionRequest struct {
	Key      string `json:"key"`
	Decision string `json:"decision"`
	Class    string `json:"class"`
}

// decide appends one decision to the reviewer's file and answers it as
// stored. Only JSON bodies are taken, so that another site's form cannot
// post one.
func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return
	}
	var req decisionRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "bad decision: "+err.Error(), http.StatusBadRequest)
		return
	}
	d, err := s.decision(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	line, _ := json.Marshal(d)
	s.mu.Lock()
	err = s.cfg.Store.AppendReview(r.Context(), s.cfg.Reviewer, append(line, '\n'))
	s.mu.Unlock()
	if err != nil {
		s.cfg.Log.Error("record decision", "key", d.Key, "err", err)
		http.Error(w, "could not record the decision", http.StatusInternalServerError)
		return
	}
	s.cfg.Log.Info("decision", "key", d.Key, "decision", d.Decision, "class", d.Class, "reviewer", d.Reviewer)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(line)
}

// decision checks a request against the list and completes it.
func (s *Server) decision(req decisionRequest) (Decision, error) {
	i, ok := s.byKey[req.Key]
	if !ok {
		return Decision{}, errors.New("no such image in the review list")
	}
	it := s.items[i]
	d := Decision{Key: it.Key, Decision: req.Decision, Reviewer: s.cfg.Reviewer, Time: s.cfg.Now().UTC().Format(time.RFC3339)}
	switch req.Decision {
	case Accept:
		if it.Failed() || it.Class == "" {
			return Decision{}, errors.New("the image has no predicted class to accept")
		}
		d.Class = it.Class
	case Pick:
		if !it.allows(req.Class) {
			return Decision{}, fmt.Errorf("class %q is not among the image's classes", req.Class)
		}
		d.Class = req.Class
	case Unsure:
	default:
		return Decision{}, fmt.Errorf("decision %q: want accept, class or unsure", req.Decision)
	}
	return d, nil
}

// nonce returns a fresh value for the page's Content-Security-Policy.
func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
