package dicomweb

import (
	"errors"
	"fmt"
	"time"
)

// ErrOutsideWindow is returned for a request that may not start before the
// service's time window opens and cannot wait that long (its context ends
// first). It is transient: a batch that fails with it is retried later.
var ErrOutsideWindow = errors.New("outside the DICOMweb time window")

// Window is the daily time in which requests may start, such as
// 20:00-06:00 (overnight) or 08:00-18:00, in a time zone. A request that
// started inside the window runs to its end. The zero Window is always open.
type Window struct {
	from, to int // minutes after midnight; from == to only in the zero Window
	loc      *time.Location
}

// ParseWindow reads "HH:MM-HH:MM" in loc (nil: the process's local time).
// An empty string is the zero Window.
func ParseWindow(s string, loc *time.Location) (Window, error) {
	if s == "" {
		return Window{}, nil
	}
	var fh, fm, th, tm int
	var rest string
	n, _ := fmt.Sscanf(s, "%d:%d-%d:%d%s", &fh, &fm, &th, &tm, &rest)
	from, to := fh*60+fm, th*60+tm
	if n != 4 || !clock(fh, fm) || !clock(th, tm) || from == to {
		return Window{}, fmt.Errorf("window %q: want HH:MM-HH:MM with two different times, e.g. 20:00-06:00", s)
	}
	if loc == nil {
		loc = time.Local
	}
	return Window{from: from, to: to, loc: loc}, nil
}

func clock(h, m int) bool { return h >= 0 && h < 24 && m >= 0 && m < 60 }

// IsZero reports whether w is always open.
func (w Window) IsZero() bool { return w.from == w.to }

// Contains reports whether a request may start at t.
func (w Window) Contains(t time.Time) bool {
	if w.IsZero() {
		return true
	}
	t = t.In(w.loc)
	m := t.Hour()*60 + t.Minute()
	if w.from < w.to {
		return m >= w.from && m < w.to
	}
	return m >= w.from || m < w.to // overnight
}

// Next is t when the window is open at t, else when it next opens.
func (w Window) Next(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	l := t.In(w.loc)
	open := time.Date(l.Year(), l.Month(), l.Day(), w.from/60, w.from%60, 0, 0, w.loc)
	if !open.After(t) {
		open = time.Date(l.Year(), l.Month(), l.Day()+1, w.from/60, w.from%60, 0, 0, w.loc)
	}
	return open
}

// String is the window as ParseWindow reads it, or "always".
func (w Window) String() string {
	if w.IsZero() {
		return "always"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s", w.from/60, w.from%60, w.to/60, w.to%60, w.loc)
}
