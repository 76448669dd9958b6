package review

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/didicm/didicm/jobs"
	"github.com/didicm/didicm/storage"
)

// The kinds of decision.
const (
	Accept = "accept" // the predicted class is right
	Pick   = "class"  // the image is of Class
	Unsure = "unsure" // the reviewer cannot tell
)

// timeLayout stamps decisions: RFC 3339 in UTC to the millisecond.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Decision is one line of a reviewer's decisions.
type Decision struct {
	Key      string `json:"key"`
	Decision string `json:"decision"`
	// Class is the class decided on, always a name: the predicted one for
	// accept, the picked one for class, empty for unsure.
	Class    string `json:"class"`
	Reviewer string `json:"reviewer"`
	Time     string `json:"time"` // RFC 3339
}

// stored is a decision and where it is stored, which orders decisions
// that share a time.
type stored struct {
	Decision
	at   int64  // Time in Unix nanoseconds (0 when it does not parse)
	obj  string // the decisions object's key
	line int    // its line there
}

// after reports whether d supersedes e: the later time, then the later
// object key, then the later line. Every server orders decisions the same.
func (d *stored) after(e *stored) bool {
	return cmp.Or(cmp.Compare(d.at, e.at), cmp.Compare(d.obj, e.obj), cmp.Compare(d.line, e.line)) > 0
}

// parseDecisions reads a decisions object's lines. Lines that do not parse
// are skipped: a torn write must not hide the rest.
func parseDecisions(key, reviewer string, data []byte) []stored {
	var out []stored
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 0; sc.Scan(); line++ {
		var d Decision
		if json.Unmarshal(sc.Bytes(), &d) != nil || d.Key == "" {
			continue
		}
		if d.Reviewer == "" {
			d.Reviewer = reviewer
		}
		out = append(out, stored{Decision: d, at: unixNano(d.Time), obj: key, line: line})
	}
	return out
}

func unixNano(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// decisions is every reviewer's last decision on each item, kept current
// at the cost of one listing of reviews/ per refresh: objects whose size
// and time are unchanged since the last refresh are not read again, and
// this server's own decisions are taken from memory.
type decisions struct {
	store   *jobs.Store
	session *jobs.ReviewSession
	index   map[string]int32 // item by key
	n       int

	refreshing sync.Mutex        // one refresh at a time; guards objs
	objs       map[string]object // other sessions' objects, by key

	mu   sync.Mutex
	own  []*stored // this session's decisions
	last []*stored // per item; nil: open
	done int
}

// object is a decisions object as last read.
type object struct {
	size int64
	mod  time.Time
	ds   []stored
}

func newDecisions(store *jobs.Store, session *jobs.ReviewSession, index map[string]int32, n int) *decisions {
	return &decisions{store: store, session: session, index: index, n: n, objs: map[string]object{}, last: make([]*stored, n)}
}

// refresh lists the decisions objects, reads those that changed and, if
// any did, merges them again.
func (c *decisions) refresh(ctx context.Context) error {
	c.refreshing.Lock()
	defer c.refreshing.Unlock()
	listed, err := c.store.ListReviews(ctx)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(listed))
	var changed []jobs.ReviewObject
	for _, o := range listed {
		if c.session.Owns(o.Key) {
			continue
		}
		seen[o.Key] = true
		if old, ok := c.objs[o.Key]; !ok || old.size != o.Size || !old.mod.Equal(o.ModTime) {
			changed = append(changed, o)
		}
	}
	gone := 0
	for key := range c.objs {
		if !seen[key] {
			delete(c.objs, key)
			gone++
		}
	}
	if err := c.read(ctx, changed); err != nil {
		return err
	}
	if len(changed) > 0 || gone > 0 {
		c.merge()
	}
	return nil
}

// read reads objects into objs, eight at a time.
func (c *decisions) read(ctx context.Context, objs []jobs.ReviewObject) error {
	parsed := make([]object, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, o := range objs {
		g.Go(func() error {
			data, err := c.store.ReadReviewObject(gctx, o.Key)
			if errors.Is(err, storage.ErrNotFound) { // removed since the listing
				return nil
			}
			if err != nil {
				return err
			}
			parsed[i] = object{size: o.Size, mod: o.ModTime, ds: parseDecisions(o.Key, o.Reviewer, data)}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, o := range objs {
		c.objs[o.Key] = parsed[i]
	}
	return nil
}

// merge recomputes the last decision on each item: one pass over every
// decision (~10 ms at 10⁵).
func (c *decisions) merge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last, c.done = make([]*stored, c.n), 0
	for _, o := range c.objs {
		for k := range o.ds {
			c.take(&o.ds[k])
		}
	}
	for _, d := range c.own {
		c.take(d)
	}
}

// take counts d if it supersedes its item's decision; c.mu is held.
func (c *decisions) take(d *stored) {
	i, ok := c.index[d.Key]
	if !ok {
		return
	}
	switch last := c.last[i]; {
	case last == nil:
		c.last[i] = d
		c.done++
	case d.after(last):
		c.last[i] = d
	}
}

// add takes one of this session's decisions, once stored; it returns the
// number of decided items.
func (c *decisions) add(d *stored) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.own = append(c.own, d)
	c.take(d)
	return c.done
}

// state returns the number of decided items and the first open one (-1
// when none is).
func (c *decisions) state() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, d := range c.last {
		if d == nil {
			return c.done, i
		}
	}
	return c.done, -1
}

// slice returns the decisions on items [from, to) and the decided count.
func (c *decisions) slice(from, to int) ([]*Decision, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Decision, to-from)
	for i := range out {
		if d := c.last[from+i]; d != nil {
			out[i] = &d.Decision
		}
	}
	return out, c.done
}
