package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/didicm/didicm/imaging"
	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/source"
	"github.com/didicm/didicm/storage"
)

// The defaults of Config's zero fields.
const (
	DefaultPageSize = 100
	DefaultDecodes  = 2
)

// Config is what a review server needs.
type Config struct {
	// Store is the job's store; the server writes only its own review
	// session's objects (reviews/Reviewer/SESSION-N.jsonl).
	Store *jobs.Store
	// Reviewer names this server's decisions; it must pass
	// jobs.ValidReviewer.
	Reviewer string
	// Token, when set, must come with every request (Authorization: Bearer,
	// or ?token= on the page itself) and have at least MinTokenLength
	// characters. Empty means none is asked for, and the server then
	// answers only requests addressed to a loopback host.
	Token string
	// PageSize is how many items the page fetches at a time (at most 500);
	// zero means DefaultPageSize.
	PageSize int
	// Limits bound each image the server decodes: zero MaxBytes means the
	// job's max_bytes, other zero fields imaging's defaults, and a nil
	// Budget one of MaxDecodedBytes for this server's still images.
	Limits imaging.Limits
	// Decodes is how many images are read and decoded at once; zero means
	// DefaultDecodes.
	Decodes int
	// Log receives one line per decision; nil discards.
	Log *slog.Logger
	// Now stamps decisions; nil means time.Now.
	Now func() time.Time
}

// Server serves one job's review list to one reviewer.
type Server struct {
	cfg     Config
	job     string
	input   source.Source
	items   []item
	byKey   map[string]int32
	entries []entry          // the page's list: images and groups
	byGroup map[string]int32 // group entries by group ID
	names   *classNames
	session *jobs.ReviewSession
	decided *decisions
	render  *renderer
}

// Open reads the job's spec and review list (once: the order is fixed
// here), groups its items by event and study (from the job's group files
// and the items' study UIDs), reads every reviewer's decisions so far, and
// opens the job's input bucket; Close closes it.
func Open(ctx context.Context, cfg Config) (*Server, error) {
	if err := jobs.ValidReviewer(cfg.Reviewer); err != nil {
		return nil, err
	}
	if err := CheckToken(cfg.Token); err != nil {
		return nil, err
	}
	cfg = withDefaults(cfg)
	spec, err := cfg.Store.ReadSpec(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, job: spec.ID, names: newClassNames(spec.ClassNames)}
	if s.items, err = readReviewList(ctx, cfg.Store, s.names, spec.ID); err != nil {
		return nil, err
	}
	s.byKey = make(map[string]int32, len(s.items))
	for i := range s.items {
		s.byKey[s.items[i].key] = int32(i)
	}
	if s.entries, err = groupItems(ctx, cfg.Store, s.items, s.byKey, s.names); err != nil {
		return nil, fmt.Errorf("group the review list: %w", err)
	}
	s.byGroup = map[string]int32{}
	for e := range s.entries {
		if g := s.entries[e].group; g != nil {
			s.byGroup[g.id] = int32(e)
		}
	}
	if s.session, err = cfg.Store.NewReviewSession(cfg.Reviewer); err != nil {
		return nil, err
	}
	s.decided = newDecisions(cfg.Store, s.session, s.byKey, len(s.items), s.entries)
	if err := s.decided.refresh(ctx); err != nil {
		return nil, fmt.Errorf("read reviews: %w", err)
	}
	if s.input, err = source.Open(ctx, spec.InputURL); err != nil {
		return nil, err
	}
	s.render = newRenderer(s.input, cfg, spec)
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	cfg.PageSize = min(cfg.PageSize, maxPage)
	if cfg.Decodes <= 0 {
		cfg.Decodes = DefaultDecodes
	}
	return cfg
}

// readReviewList reads review.jsonl as a stream.
func readReviewList(ctx context.Context, store *jobs.Store, names *classNames, job string) ([]item, error) {
	r, err := store.OpenReviewList(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("job %s has no review list yet (review.jsonl is written when the job finishes): %w", job, err)
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readList(r, names)
}

// newRenderer applies the job's limits: its max_bytes, imaging's defaults.
func newRenderer(in source.Source, cfg Config, spec jobs.Spec) *renderer {
	lim := cfg.Limits
	lim.MaxBytes = cmp.Or(lim.MaxBytes, spec.MaxBytes, imaging.DefaultMaxBytes)
	lim.MaxPixels = cmp.Or(lim.MaxPixels, imaging.DefaultMaxPixels)
	lim.MaxDecodedBytes = cmp.Or(lim.MaxDecodedBytes, imaging.DefaultMaxDecodedBytes)
	if lim.Budget == nil {
		lim.Budget = imaging.NewBudget(lim.MaxDecodedBytes)
	}
	return &renderer{in: in, lim: lim, slots: make(chan struct{}, cfg.Decodes)}
}

// Close closes the input bucket.
func (s *Server) Close() error { return s.input.Close() }

// Handler serves the page (GET /), the list a page at a time (GET
// /state, GET /items?from=I&n=N), class names (GET /classes?q=), the
// images (GET /image?key=K[&size=full]) and takes decisions (POST
// /decision).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.shell)
	mux.HandleFunc("GET /state", s.state)
	mux.HandleFunc("GET /items", s.page)
	mux.HandleFunc("GET /classes", s.classes)
	mux.HandleFunc("GET /image", s.image)
	mux.HandleFunc("POST /decision", s.decide)
	return s.guard(mux)
}
