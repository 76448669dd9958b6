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
	// Group names the group the decision was made on, one decision per
	// image of it ("study:UID", "event:KEY"); empty for one image.
	Group string `json:"group,omitempty"`
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

	// entryOf is each item's entry, and size each entry's items (nil: an
	// entry per item).
	entryOf []int32
	size    []int32

	mu        sync.Mutex
	own       []*stored // this session's decisions
	last      []*stored // per item; nil: open
	done      int       // entries whose every item is decided
	entryDone []int32   // decided items per entry
}

// object is a decisions object as last read.
type object struct {
	size int64
	mod  time.Time
	ds   []stored
}

func newDecisions(store *jobs.Store, session *jobs.ReviewSession, index map[string]int32, n int, entries []entry) *decisions {
	c := &decisions{store: store, session: session, index: index, n: n, objs: map[string]object{}, last: make([]*stored, n)}
	if len(entries) != n {
		c.entryOf, c.size = make([]int32, n), make([]int32, len(entries))
		for e := range entries {
			c.size[e] = int32(entries[e].size())
			if entries[e].members == nil {
				c.entryOf[entries[e].lead] = int32(e)
			}
			for _, i := range entries[e].members {
				c.entryOf[i] = int32(e)
			}
		}
	}
	c.entryDone = make([]int32, c.entries())
	return c
}

// entries is how many entries the list has.
func (c *decisions) entries() int {
	if c.entryOf == nil {
		return c.n
	}
	return len(c.size)
}

// entry is item i's entry, and how many items it holds.
func (c *decisions) entry(i int32) (int32, int32) {
	if c.entryOf == nil {
		return i, 1
	}
	return c.entryOf[i], c.size[c.entryOf[i]]
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
	c.last, c.done, c.entryDone = make([]*stored, c.n), 0, make([]int32, c.entries())
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
		e, size := c.entry(i)
		if c.entryDone[e]++; c.entryDone[e] == size {
			c.done++
		}
	case d.after(last):
		c.last[i] = d
	}
}

// add takes some of this session's decisions, once stored; it returns
// the number of decided entries.
func (c *decisions) add(ds ...*stored) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range ds {
		c.own = append(c.own, d)
		c.take(d)
	}
	return c.done
}

// state returns the number of decided entries and the first open one (-1
// when none is).
func (c *decisions) state() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := range c.entries() {
		if c.entryDone[e] < c.sizeOf(e) {
			return c.done, e
		}
	}
	return c.done, -1
}

// doneCount is the number of decided entries.
func (c *decisions) doneCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// sizeOf is how many items entry e holds.
func (c *decisions) sizeOf(e int) int32 {
	if c.entryOf == nil {
		return 1
	}
	return c.size[e]
}

// decisionsOf returns the decisions on the given items of entry e, and
// how many of the entry's items are decided.
func (c *decisions) decisionsOf(e int, items []int32) ([]*Decision, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Decision, len(items))
	for k, i := range items {
		if d := c.last[i]; d != nil {
			out[k] = &d.Decision
		}
	}
	return out, int(c.entryDone[e])
}
