package review

import (
	"fmt"
	"strings"
)

// maxClassIndex bounds the class indices a job without class names may
// name (records are read, not trusted).
const maxClassIndex = 1 << 24

// classNames names a job's classes: from the job spec (class_names, the
// model's classes as enqueued), or for jobs enqueued before it, from what
// the records name. A decision only ever stores one of these names.
type classNames struct {
	byIndex  []string        // the name of class i; "" when unknown
	known    map[string]bool // every name a pick may take
	fromSpec bool
	interned map[string]string
}

func newClassNames(spec []string) *classNames {
	c := &classNames{known: map[string]bool{}, interned: map[string]string{}, fromSpec: len(spec) > 0}
	for _, name := range spec {
		name = c.intern(name)
		c.byIndex = append(c.byIndex, name)
		if name != "" {
			c.known[name] = true
		}
	}
	return c
}

// note records that a record names class i; the spec's names win.
func (c *classNames) note(i int, name string) {
	if c.fromSpec || name == "" || i < 0 || i >= maxClassIndex {
		return
	}
	for len(c.byIndex) <= i {
		c.byIndex = append(c.byIndex, "")
	}
	if c.byIndex[i] == "" {
		c.byIndex[i] = c.intern(name)
		c.known[c.byIndex[i]] = true
	}
}

// intern shares one copy of each name between the items.
func (c *classNames) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := c.interned[s]; ok {
		return v
	}
	c.interned[s] = s
	return s
}

// name is class i's name, "" when the job does not name it.
func (c *classNames) name(i int32) string {
	if i < 0 || int(i) >= len(c.byIndex) {
		return ""
	}
	return c.byIndex[i]
}

// predicted is an item's predicted class name ("" when it has none).
func (c *classNames) predicted(it *item) string {
	if it.failed() {
		return ""
	}
	if n := c.name(it.index); n != "" {
		return n
	}
	return it.class
}

// check says why class cannot be picked, or nil.
func (c *classNames) check(class string) error {
	if c.known[class] {
		return nil
	}
	if c.fromSpec {
		return fmt.Errorf("class %q is not one of the job's class names", class)
	}
	return fmt.Errorf("class %q is not one of the class names this job's records give (the job was enqueued "+
		"before jobs kept the model's class names, so a class no record names cannot be picked)", class)
}

// matching returns up to n class names containing q (any case), in class
// order, then the names only prediction sets give.
func (c *classNames) matching(q string, n int) []string {
	q = strings.ToLower(q)
	out := []string{}
	seen := map[string]bool{}
	take := func(name string) bool {
		if name != "" && !seen[name] && strings.Contains(strings.ToLower(name), q) {
			seen[name] = true
			out = append(out, name)
		}
		return len(out) < n
	}
	for _, name := range c.byIndex {
		if !take(name) {
			return out
		}
	}
	for name := range c.known {
		if !take(name) {
			return out
		}
	}
	return out
}
