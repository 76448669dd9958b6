package output

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/review"
)

// ImportOptions say how a Label Studio export becomes decisions.
type ImportOptions struct {
	// Reviewer names every imported decision; empty means each
	// annotation's annotator (AnnotatorName).
	Reviewer string
	// Now stamps annotations that carry no time; nil means time.Now.
	Now func() time.Time
}

// ImportCounts is what an import read and stored.
type ImportCounts struct {
	Decisions int      // stored
	Reviewers []string // whose, in order of first appearance
	Unknown   int      // annotations of images not in the job's review list
	Empty     int      // annotations without a choice of the interface's class and not skipped
}

// lsExported is one task of Label Studio's JSON export.
type lsExported struct {
	ID          int64          `json:"id"`
	Data        lsData         `json:"data"`
	Annotations []lsAnnotation `json:"annotations"`
}

type lsAnnotation struct {
	CompletedBy  json.RawMessage `json:"completed_by"`
	Result       []lsResult      `json:"result"`
	WasCancelled bool            `json:"was_cancelled"`
	CreatedAt    string          `json:"created_at"`
	UpdatedAt    string          `json:"updated_at"`
}

// ImportLabelStudio reads a Label Studio JSON export of a project made by
// the LabelStudio writer (a JSON array of tasks, read as a stream) and
// stores each annotation as a decision in the job's reviews, one review
// session per reviewer, exactly as the review page stores its own: a
// choice of the predicted class is accept, another class is class, and a
// skipped (cancelled) annotation is unsure. Each decision keeps the
// annotation's time (updated_at, else created_at), so the last decision
// per reviewer is the annotator's last word whichever tool it came from.
// A task of another job is an error; one of an image not in the job's
// review list is counted and left out. Importing a file twice stores the
// same decisions twice, which changes no label.
func ImportLabelStudio(ctx context.Context, job *Job, r io.Reader, opts ImportOptions) (ImportCounts, error) {
	var n ImportCounts
	if opts.Reviewer != "" {
		if err := jobs.ValidReviewer(opts.Reviewer); err != nil {
			return n, err
		}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	predicted, err := reviewListClasses(ctx, job)
	if err != nil {
		return n, err
	}
	st := newSessions(job.Store)
	err = eachExportedTask(r, func(t lsExported) error {
		if t.Data.Job != "" && t.Data.Job != job.Spec.ID {
			return fmt.Errorf("task %d is of job %q, not %q", t.ID, t.Data.Job, job.Spec.ID)
		}
		class, listed := predicted[t.Data.Key]
		for _, a := range t.Annotations {
			d, ok := decisionOf(a, t.Data.Key, class, opts)
			switch {
			case !listed:
				n.Unknown++
			case !ok:
				n.Empty++
			default:
				if err := st.add(ctx, d); err != nil {
					return err
				}
				n.Decisions++
			}
		}
		return nil
	})
	if err == nil {
		err = st.flush(ctx)
	}
	n.Reviewers = st.order
	return n, err
}

// reviewListClasses maps each key of the review list to its predicted
// class ("" for a failed image).
func reviewListClasses(ctx context.Context, job *Job) (map[string]string, error) {
	out := map[string]string{}
	err := job.eachListItem(ctx, func(it listItem) error {
		out[it.Key] = it.Class
		return nil
	})
	return out, err
}

// eachExportedTask decodes a JSON array of tasks one at a time.
func eachExportedTask(r io.Reader, fn func(lsExported) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("label studio export: %w", err)
	}
	if tok != json.Delim('[') {
		return errors.New("label studio export: want a JSON array of tasks (Label Studio's JSON export)")
	}
	for i := 0; dec.More(); i++ {
		var t lsExported
		if err := dec.Decode(&t); err != nil {
			return fmt.Errorf("label studio export: task %d: %w", i+1, err)
		}
		if t.Data.Key == "" {
			return fmt.Errorf("label studio export: task %d has no data.key: not a task of `didicm export --to labelstudio`", i+1)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	_, err = dec.Token()
	return err
}

// decisionOf turns an annotation into a decision; ok is false when it
// chose nothing.
func decisionOf(a lsAnnotation, key, predicted string, opts ImportOptions) (review.Decision, bool) {
	d := review.Decision{Key: key, Reviewer: opts.Reviewer, Time: annotationTime(a, opts.Now)}
	if d.Reviewer == "" {
		d.Reviewer = AnnotatorName(a.CompletedBy)
	}
	if a.WasCancelled {
		d.Decision = review.Unsure
		return d, true
	}
	for _, r := range a.Result {
		if r.Type == "choices" && r.FromName == LabelStudioChoice && len(r.Value.Choices) == 1 {
			d.Class = r.Value.Choices[0]
		}
	}
	switch d.Class {
	case "":
		return d, false
	case predicted:
		d.Decision = review.Accept
	default:
		d.Decision = review.Pick
	}
	return d, true
}

// decisionTime is how decisions are stamped (review's: UTC, milliseconds).
const decisionTime = "2006-01-02T15:04:05.000Z07:00"

func annotationTime(a lsAnnotation, now func() time.Time) string {
	for _, s := range []string{a.UpdatedAt, a.CreatedAt} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Format(decisionTime)
		}
	}
	return now().UTC().Format(decisionTime)
}

// AnnotatorName names a Label Studio annotator (an annotation's
// completed_by: a user's ID, or the user as an object with id and email)
// as a reviewer: the email with every character a reviewer's name cannot
// hold replaced by '_' (ana@example.org is ana_example.org), else
// labelstudio-ID.
func AnnotatorName(completedBy json.RawMessage) string {
	var user struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	}
	if id, err := strconv.ParseInt(string(completedBy), 10, 64); err == nil {
		user.ID = id
	} else {
		_ = json.Unmarshal(completedBy, &user)
	}
	name := strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return '_'
	}, user.Email)
	if len(name) > 64 || jobs.ValidReviewer(name) != nil {
		return "labelstudio-" + strconv.FormatInt(user.ID, 10)
	}
	return name
}

// sessions writes imported decisions, one review session per reviewer,
// in segments of about jobs.ReviewSegmentBytes.
type sessions struct {
	store *jobs.Store
	open  map[string]*jobs.ReviewSession
	buf   map[string][]byte
	order []string
}

func newSessions(store *jobs.Store) *sessions {
	return &sessions{store: store, open: map[string]*jobs.ReviewSession{}, buf: map[string][]byte{}}
}

func (s *sessions) add(ctx context.Context, d review.Decision) error {
	if _, ok := s.open[d.Reviewer]; !ok {
		rs, err := s.store.NewReviewSession(d.Reviewer)
		if err != nil {
			return err
		}
		s.open[d.Reviewer] = rs
		s.order = append(s.order, d.Reviewer)
	}
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if b := s.buf[d.Reviewer]; len(b) > 0 && len(b)+len(line) >= jobs.ReviewSegmentBytes {
		if err := s.write(ctx, d.Reviewer); err != nil {
			return err
		}
	}
	s.buf[d.Reviewer] = append(append(s.buf[d.Reviewer], line...), '\n')
	return nil
}

func (s *sessions) write(ctx context.Context, reviewer string) error {
	if len(s.buf[reviewer]) == 0 {
		return nil
	}
	if _, _, err := s.open[reviewer].Append(ctx, s.buf[reviewer]); err != nil {
		return err
	}
	s.buf[reviewer] = nil
	return nil
}

func (s *sessions) flush(ctx context.Context) error {
	var errs []error
	for _, r := range s.order {
		errs = append(errs, s.write(ctx, r))
	}
	return errors.Join(errs...)
}
