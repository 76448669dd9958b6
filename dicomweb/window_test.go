package dicomweb_test

import (
	"testing"
	"time"

	"github.com/didicm/didicm/dicomweb"
)

func TestAWindowOpensAndClosesAtItsTimes(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, h, m int) time.Time { return time.Date(2026, 3, day, h, m, 0, 0, brussels) }
	cases := []struct {
		window   string
		t        time.Time
		open     bool
		nextOpen time.Time
	}{
		{"20:00-06:00", at(10, 22, 0), true, at(10, 22, 0)},
		{"20:00-06:00", at(10, 5, 59), true, at(10, 5, 59)},
		{"20:00-06:00", at(10, 6, 0), false, at(10, 20, 0)},
		{"20:00-06:00", at(10, 19, 59), false, at(10, 20, 0)},
		{"08:00-18:00", at(10, 18, 30), false, at(11, 8, 0)},
		{"08:00-18:00", at(10, 7, 0), false, at(10, 8, 0)},
		{"08:00-18:00", at(10, 8, 0), true, at(10, 8, 0)},
		// The night the clocks go forward (29 March 2026 in Brussels): 23 hours.
		{"02:30-04:00", at(28, 23, 0), false, time.Date(2026, 3, 29, 2, 30, 0, 0, brussels)},
	}
	for _, c := range cases {
		w, err := dicomweb.ParseWindow(c.window, brussels)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Contains(c.t); got != c.open {
			t.Errorf("%s at %s: open %v, want %v", c.window, c.t, got, c.open)
		}
		if got := w.Next(c.t); !got.Equal(c.nextOpen) {
			t.Errorf("%s at %s: opens %s, want %s", c.window, c.t, got, c.nextOpen)
		}
	}
}

func TestAWindowMustNameTwoTimes(t *testing.T) {
	for _, s := range []string{"20:00", "20:00-20:00", "25:00-06:00", "20:00-06:60", "8pm-6am", "20:00-06:00x"} {
		if _, err := dicomweb.ParseWindow(s, time.UTC); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	w, err := dicomweb.ParseWindow("", time.UTC)
	if err != nil || !w.IsZero() || !w.Contains(time.Now()) {
		t.Fatalf("the empty window: %v, %v", w, err)
	}
}
