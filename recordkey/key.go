// Package recordkey builds and parses the key of a result record: the key
// of the object the record came from, plus where in that object when the
// object holds many images (a frame of a multi-frame DICOM file, a time in
// a video, a topic and a time in a log).
//
// The string form is the object key as it is when the record has no
// locator and the object key has no '#':
//
//	scans/ct-001.dcm
//	scans/cine.dcm#frame=3
//	drive/front.mp4#t=12.345
//	logs/run.mcap#topic=/cam/front#t=0.250
//	drive/front.mp4#span=256.000-512.000   (a part of a video, in a manifest)
//
// Otherwise '%' and '#' in the object key are percent-encoded (%25, %23)
// and the locators follow, each after a '#'; an object key with '#' and no
// locator ends in a bare '#'. So every key names one object and one place
// in it: a PNG named "cine.dcm#frame=3" is "cine.dcm%23frame=3#", never
// frame 3 of cine.dcm. Any byte an object store allows in a name survives
// the round trip.
package recordkey

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax marks a string that is not a record key.
var ErrSyntax = errors.New("not a record key")

// Key is an object key plus an optional locator inside the object.
type Key struct {
	// Object is the object's key in its bucket (or source), as listed.
	Object string
	// Frame is the 1-based frame of a multi-frame file; 0: none.
	Frame int
	// Topic is the log topic of the image; empty: none.
	Topic string
	// Time is the image's time from the start of its video or log, kept to
	// the millisecond; it is part of the key only when Timed.
	Time  time.Duration
	Timed bool
	// From and To are a part of a video or log, [From, To) from its start,
	// To zero meaning its end: a manifest's entry for one part of a long
	// file. It is part of the key only when Spanned.
	From, To time.Duration
	Spanned  bool
}

// Of is the key of a whole object.
func Of(object string) Key { return Key{Object: object} }

// WithFrame is k at 1-based frame n.
func (k Key) WithFrame(n int) Key { k.Frame = n; return k }

// At is k at time t, rounded to the millisecond.
func (k Key) At(t time.Duration) Key {
	k.Time, k.Timed = t.Round(time.Millisecond), true
	return k
}

// Span is k's part [from, to) of a video or log (to zero: to the end),
// rounded to the millisecond; times before the start count as the start.
func (k Key) Span(from, to time.Duration) Key {
	k.From, k.To, k.Spanned = max(0, from.Round(time.Millisecond)), max(0, to.Round(time.Millisecond)), true
	return k
}

// OnTopic is k on a log topic.
func (k Key) OnTopic(topic string) Key { k.Topic = topic; return k }

// Whole reports whether k names a whole object (no locator).
func (k Key) Whole() bool { return k.Frame == 0 && k.Topic == "" && !k.Timed && !k.Spanned }

// File is the key of k's whole object, without its locators.
func (k Key) File() Key { return Key{Object: k.Object} }

// String is the key's one string form (see the package comment).
func (k Key) String() string {
	if k.Whole() && !strings.Contains(k.Object, "#") {
		return k.Object
	}
	var b strings.Builder
	b.Grow(len(k.Object) + 24)
	escape(&b, k.Object)
	b.WriteByte('#')
	sep := ""
	if k.Frame > 0 {
		b.WriteString("frame=")
		b.WriteString(strconv.Itoa(k.Frame))
		sep = "#"
	}
	if k.Topic != "" {
		b.WriteString(sep)
		b.WriteString("topic=")
		escape(&b, k.Topic)
		sep = "#"
	}
	if k.Timed {
		b.WriteString(sep)
		b.WriteString("t=")
		b.WriteString(Seconds(k.Time))
		sep = "#"
	}
	if k.Spanned {
		b.WriteString(sep)
		b.WriteString("span=")
		b.WriteString(Seconds(k.From))
		b.WriteByte('-')
		if k.To != 0 {
			b.WriteString(Seconds(k.To))
		}
	}
	return b.String()
}

// Seconds writes t as seconds with three decimals ("12.345", "-0.040").
func Seconds(t time.Duration) string {
	ms := t.Round(time.Millisecond).Milliseconds()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Sprintf("%s%d.%03d", sign, ms/1000, ms%1000)
}

// Parse reads a key's string form. A string without '#' is a whole
// object's key as it is.
func Parse(s string) (Key, error) {
	obj, rest, ok := strings.Cut(s, "#")
	if !ok {
		return Key{Object: s}, nil
	}
	var k Key
	var err error
	if k.Object, err = unescape(obj); err != nil {
		return Key{}, fmt.Errorf("%w: %q: %w", ErrSyntax, s, err)
	}
	if rest != "" {
		for _, loc := range strings.Split(rest, "#") {
			if err := k.set(loc); err != nil {
				return Key{}, fmt.Errorf("%w: %q: %w", ErrSyntax, s, err)
			}
		}
	}
	if k.String() != s { // one string per key: locators in order, '#' only where needed
		return Key{}, fmt.Errorf("%w: %q: not in canonical form (%q)", ErrSyntax, s, k.String())
	}
	return k, nil
}

// set reads one locator ("frame=3", "topic=/cam", "t=1.250") into k.
func (k *Key) set(loc string) error {
	name, val, ok := strings.Cut(loc, "=")
	if !ok {
		return fmt.Errorf("locator %q has no '='", loc)
	}
	switch {
	case name == "frame" && k.Frame == 0:
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || strconv.Itoa(n) != val {
			return fmt.Errorf("frame %q: want a positive integer", val)
		}
		k.Frame = n
	case name == "topic" && k.Topic == "":
		t, err := unescape(val)
		if err != nil || t == "" {
			return fmt.Errorf("topic %q: want a non-empty name", val)
		}
		k.Topic = t
	case name == "t" && !k.Timed:
		t, err := parseSeconds(val)
		if err != nil {
			return err
		}
		k.Time, k.Timed = t, true
	case name == "span" && !k.Spanned:
		from, to, ok := strings.Cut(val, "-")
		f, err := parseSeconds(from)
		if err != nil || !ok || f < 0 {
			return fmt.Errorf("span %q: want FROM-TO in seconds with three decimals", val)
		}
		k.From, k.Spanned = f, true
		if to != "" {
			if k.To, err = parseSeconds(to); err != nil || k.To == 0 {
				return fmt.Errorf("span %q: want FROM-TO in seconds with three decimals", val)
			}
		}
	default:
		return fmt.Errorf("locator %q: unknown or repeated", name)
	}
	return nil
}

// parseSeconds reads Seconds' form: an optional '-', digits, '.', three digits.
func parseSeconds(v string) (time.Duration, error) {
	neg := strings.HasPrefix(v, "-")
	whole, frac, ok := strings.Cut(strings.TrimPrefix(v, "-"), ".")
	s, errS := strconv.ParseUint(whole, 10, 40)
	ms, errMS := strconv.ParseUint(frac, 10, 16)
	if !ok || errS != nil || errMS != nil || len(frac) != 3 || strconv.FormatUint(s, 10) != whole {
		return 0, fmt.Errorf("time %q: want seconds with three decimals", v)
	}
	t := time.Duration(s)*time.Second + time.Duration(ms)*time.Millisecond
	if neg {
		t = -t
	}
	return t, nil
}

// escape writes s with '%' and '#' percent-encoded.
func escape(b *strings.Builder, s string) {
	for i := range len(s) {
		switch c := s[i]; c {
		case '%':
			b.WriteString("%25")
		case '#':
			b.WriteString("%23")
		default:
			b.WriteByte(c)
		}
	}
}

// unescape undoes escape; other percent sequences are left as they are
// only if escape could not have written them, so the form stays one-to-one.
func unescape(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "%25"):
			b.WriteByte('%')
		case strings.HasPrefix(s[i:], "%23"):
			b.WriteByte('#')
		default:
			return "", fmt.Errorf("'%%' at byte %d: want %%25 or %%23", i)
		}
		i += 2
	}
	return b.String(), nil
}
