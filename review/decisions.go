package review

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// The kinds of decision.
const (
	Accept = "accept" // the predicted class is right
	Pick   = "class"  // the image is of Class
	Unsure = "unsure" // the reviewer cannot tell
)

// Decision is one line of reviews/NAME.jsonl.
type Decision struct {
	Key      string `json:"key"`
	Decision string `json:"decision"`
	// Class is the class decided on: the predicted one for accept, the
	// picked one for class, empty for unsure.
	Class    string `json:"class"`
	Reviewer string `json:"reviewer"`
	Time     string `json:"time"` // RFC 3339
}

// latest returns the last decision on each key over every reviewer's file
// (by time; within one file a later line wins a tie). Lines that do not
// parse are skipped: a torn write must not hide the rest.
func latest(files map[string][]byte) map[string]Decision {
	type timed struct {
		Decision
		at  time.Time
		seq int
	}
	var all []timed
	for _, name := range slices.Sorted(maps.Keys(files)) {
		sc := bufio.NewScanner(bytes.NewReader(files[name]))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var d Decision
			if json.Unmarshal(sc.Bytes(), &d) != nil || d.Key == "" {
				continue
			}
			at, _ := time.Parse(time.RFC3339, d.Time)
			all = append(all, timed{d, at, len(all)})
		}
	}
	slices.SortStableFunc(all, func(a, b timed) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq)) })
	out := make(map[string]Decision, len(all))
	for _, d := range all {
		out[d.Key] = d.Decision
	}
	return out
}
