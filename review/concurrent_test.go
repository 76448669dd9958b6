package review_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/didicm/didicm/internal/s3test"
	"github.com/didicm/didicm/pipeline"
	"github.com/didicm/didicm/review"
)

// listOf is a review list of n images, most uncertain first.
func listOf(n int) ([]pipeline.Record, []string) {
	recs, keys := make([]pipeline.Record, n), make([]string, n)
	for i := range recs {
		keys[i] = fmt.Sprintf("archive/img-%06d.png", i)
		recs[i] = rec(keys[i], "cat", 0, 0.99-float64(i)/float64(2*n), nil, []float64{0.5, 0.3, 0.2}, nil)
	}
	return recs, keys
}

func TestTwoServersForOneReviewerLoseNoDecision(t *testing.T) {
	for name, url := range map[string]string{"file": "file://" + t.TempDir(), "s3": s3test.Start(t, "night")} {
		t.Run("on "+name, func(t *testing.T) {
			recs, keys := listOf(100)
			j := jobOn(t, url, recs, nil, nil)
			servers := []http.Handler{j.open(t, "ana", "").Handler(), j.open(t, "ana", "").Handler()}
			acked := make([]*review.Decision, len(keys))
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i, key := range keys {
				wg.Go(func() {
					<-start
					w := post(servers[i%2], `{"key":"`+key+`","decision":"unsure"}`)
					if w.Code != 200 {
						t.Errorf("%s: status %d: %s", key, w.Code, w.Body)
						return
					}
					var d review.Decision
					if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
						t.Errorf("%s: %v", key, err)
						return
					}
					acked[i] = &d
				})
			}
			close(start)
			wg.Wait()
			stored := map[string]bool{}
			for _, d := range j.decisions(t, "ana") {
				stored[d.Key+" "+d.Time] = true
			}
			lost := 0
			for _, d := range acked {
				if d != nil && !stored[d.Key+" "+d.Time] {
					lost++
				}
			}
			if lost > 0 {
				t.Fatalf("%d of %d acknowledged decisions are not stored", lost, len(keys))
			}
		})
	}
}
