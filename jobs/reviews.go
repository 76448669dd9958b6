package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/didicm/didicm/storage"
)

// Review decisions are stored one review session at a time, so that no two
// writers ever share an object:
//
//	reviews/NAME/SESSION-NNNNNN.jsonl
//
// SESSION is the time the session started (UTC, to the second) and 16 random
// hex digits; one `didicm review` server is one session. A session rewrites
// only its own current segment (NNNNNN, from 000001), whole, for each
// decision, and starts the next segment once one holds ReviewSegmentBytes;
// a decision is acknowledged only after its segment is stored. Readers
// merge every segment of every reviewer, and also read reviews/NAME.jsonl,
// the one file per reviewer that earlier versions appended to.

// ReviewSegmentBytes is the size past which a session starts a new segment:
// each decision rewrites at most this much, and 10⁵ decisions of ~200
// bytes fill ~600 segments.
const ReviewSegmentBytes = 32 << 10

// maxReviewObject bounds one decisions object read (an old reviews/NAME.jsonl
// grows with its reviewer's decisions; 10⁵ of them are ~20 MB).
const maxReviewObject = 256 << 20

var reviewSegmentRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]{0,63})/(\d{8}T\d{6}Z-[0-9a-f]{16})-(\d{6})\.jsonl$`)

// ReviewSegment is segment n (from 1) of a review session's decisions.
func (l Layout) ReviewSegment(reviewer, session string, n int) string {
	return l.key(fmt.Sprintf("reviews/%s/%s-%06d.jsonl", reviewer, session, n))
}

// ReviewsOf returns the reviewer whose decisions key holds, if key is one
// of this layout's decisions objects: a session segment or an old
// reviews/NAME.jsonl.
func (l Layout) ReviewsOf(key string) (string, bool) {
	if name, ok := l.ReviewerOf(key); ok {
		return name, true
	}
	rel, ok := strings.CutPrefix(key, l.ReviewsDir())
	if !ok {
		return "", false
	}
	m := reviewSegmentRE.FindStringSubmatch(rel)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// ReviewObject is one stored decisions object.
type ReviewObject struct {
	Key      string
	Reviewer string
	Size     int64
	ModTime  time.Time
}

// ListReviews lists every decisions object of the job (sessions and old
// per-reviewer files), sorted by key.
func (s *Store) ListReviews(ctx context.Context) ([]ReviewObject, error) {
	objs, err := s.bucket.List(ctx, s.lay.ReviewsDir(), storage.Filter{})
	if err != nil {
		return nil, err
	}
	out := make([]ReviewObject, 0, len(objs))
	for _, o := range objs {
		if name, ok := s.lay.ReviewsOf(o.Key); ok {
			out = append(out, ReviewObject{Key: o.Key, Reviewer: name, Size: o.Size, ModTime: o.ModTime})
		}
	}
	return out, nil
}

// ReadReviewObject reads one decisions object that ListReviews gave;
// storage.ErrNotFound means it was removed since.
func (s *Store) ReadReviewObject(ctx context.Context, key string) ([]byte, error) {
	if _, ok := s.lay.ReviewsOf(key); !ok {
		return nil, fmt.Errorf("%q is not a decisions object of job %s: %w", key, s.Ref.ID, storage.ErrBadKey)
	}
	return s.bucket.Read(ctx, key, maxReviewObject)
}

// ReviewSession writes one server's decisions: only it writes its
// segments, so sessions never overwrite each other, whoever the reviewer.
// It is safe for concurrent use.
type ReviewSession struct {
	store    *Store
	reviewer string
	id       string

	mu   sync.Mutex
	seg  int    // current segment, from 1
	data []byte // its stored content
}

// NewReviewSession starts a session for reviewer (ValidReviewer); nothing
// is written until the first Append.
func (s *Store) NewReviewSession(reviewer string) (*ReviewSession, error) {
	if err := ValidReviewer(reviewer); err != nil {
		return nil, err
	}
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, fmt.Errorf("review session id: %w", err)
	}
	id := time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(r[:])
	return &ReviewSession{store: s, reviewer: reviewer, id: id, seg: 1}, nil
}

// ID is the session's name in its segments' keys.
func (rs *ReviewSession) ID() string { return rs.id }

// Owns reports whether key is one of this session's segments.
func (rs *ReviewSession) Owns(key string) bool {
	return strings.HasPrefix(key, rs.store.lay.ReviewsDir()+rs.reviewer+"/"+rs.id+"-")
}

// Append stores lines (whole JSON lines, each ending in a newline) after
// the session's earlier ones, and returns the key of the segment and the
// index there of the first of them. When it returns nil the lines are
// stored; on an error they are not part of the session (a later Append
// rewrites the segment without them).
func (rs *ReviewSession) Append(ctx context.Context, lines []byte) (string, int, error) {
	if len(lines) == 0 || lines[len(lines)-1] != '\n' {
		return "", 0, errors.New("append decisions: want whole lines, each ending in a newline")
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	seg, data := rs.seg, rs.data
	if len(data) > 0 && len(data)+len(lines) > ReviewSegmentBytes {
		seg, data = seg+1, nil
	}
	next := append(data[:len(data):len(data)], lines...)
	key := rs.store.lay.ReviewSegment(rs.reviewer, rs.id, seg)
	if err := rs.store.bucket.Write(ctx, key, next, "application/x-ndjson"); err != nil {
		return "", 0, err
	}
	first := countLines(data)
	rs.seg, rs.data = seg, next
	return key, first, nil
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// OpenReviewList opens review.jsonl for reading line by line: at large K
// each line holds a full posterior, and the list need not fit in memory.
// storage.ErrNotFound means the job has not been summarised.
func (s *Store) OpenReviewList(ctx context.Context) (io.ReadCloser, error) {
	return s.bucket.NewReader(ctx, s.lay.Review())
}
