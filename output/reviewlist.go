package output

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/didicm/didicm/storage"
)

// listItem is what the exports read of a review.jsonl line (a record's
// JSON names); the posterior is skipped.
type listItem struct {
	Key         string  `json:"key"`
	Class       string  `json:"class"`
	MaxProb     float64 `json:"max_prob"`
	Error       string  `json:"error"`
	SOPUID      string  `json:"sop_uid"`
	ModelSHA256 string  `json:"model_sha256"`
}

// maxListLine bounds one review.jsonl line: a full posterior at K=10⁶ is
// ~15 MB of JSON (the review page's bound).
const maxListLine = 64 << 20

// eachListItem calls fn with each image of the job's review list, in its
// order, reading the list as a stream.
func (j *Job) eachListItem(ctx context.Context, fn func(listItem) error) error {
	r, err := j.Store.OpenReviewList(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("job %s has no review list (review.jsonl): %w", j.Spec.ID, err)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxListLine)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var it listItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return fmt.Errorf("review.jsonl line %d: %w", n, err)
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return sc.Err()
}
