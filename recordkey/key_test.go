package recordkey

import (
	"errors"
	"testing"
	"time"
)

func TestStringAndParse(t *testing.T) {
	cases := []struct {
		name string
		key  Key
		want string
	}{
		{"a plain object key stays as it is", Of("scans/ct-001.dcm"), "scans/ct-001.dcm"},
		{"a percent sign in a plain key stays as it is", Of("web/photo%20(1).jpg"), "web/photo%20(1).jpg"},
		{"a frame follows the object", Of("scans/cine.dcm").WithFrame(3), "scans/cine.dcm#frame=3"},
		{"a time has three decimals", Of("drive/front.mp4").At(12345678 * time.Microsecond), "drive/front.mp4#t=12.346"},
		{"time zero is written", Of("v.mkv").At(0), "v.mkv#t=0.000"},
		{"a topic comes before the time", Of("logs/run.mcap").OnTopic("/cam/front").At(250 * time.Millisecond),
			"logs/run.mcap#topic=/cam/front#t=0.250"},
		{"a file named like a frame is escaped and closed", Of("phi-multi.dcm#frame=2"), "phi-multi.dcm%23frame=2#"},
		{"a hash and a percent in a framed key are escaped", Of("a#b%c.dcm").WithFrame(1), "a%23b%25c.dcm#frame=1"},
		{"control characters survive", Of("line\r\nbreak.png").WithFrame(2), "line\r\nbreak.png#frame=2"},
		{"a negative time keeps its sign", Of("v.mp4").At(-40 * time.Millisecond), "v.mp4#t=-0.040"},
		{"a part of a video", Of("v.mp4").Span(256*time.Second, 512*time.Second), "v.mp4#span=256.000-512.000"},
		{"the last part of a video has no end", Of("v.mp4").Span(512*time.Second, 0), "v.mp4#span=512.000-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.key.String(); got != c.want {
				t.Fatalf("String() = %q, want %q", got, c.want)
			}
			back, err := Parse(c.want)
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.want, err)
			}
			if back != c.key {
				t.Fatalf("Parse(%q) = %+v, want %+v", c.want, back, c.key)
			}
		})
	}
}

func TestParseRefusesWhatStringNeverWrites(t *testing.T) {
	for _, s := range []string{
		"a#",                // a bare '#' after an object without '#'
		"a#frame=0",         // frames are 1-based
		"a#frame=03",        // not canonical
		"a#t=1.5",           // three decimals
		"a#t=-0.000",        // zero has no sign
		"a#t=1.250#frame=2", // locators out of order
		"a#frame=1#frame=2", // repeated
		"a#size=3",          // unknown locator
		"a%zz#frame=1",      // a percent that escape never writes
		"a%23b",             // fine on its own (no '#'): checked below
		"x#topic=#t=1.000",  // empty topic
	} {
		_, err := Parse(s)
		if s == "a%23b" {
			if err != nil {
				t.Fatalf("Parse(%q): %v (a key without '#' is a plain object key)", s, err)
			}
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", s, err)
		}
	}
}

func TestKeysOfDifferentThingsDiffer(t *testing.T) {
	// The case: a PNG named like a DICOM frame beside the DICOM.
	png := Of("phi-multi.dcm#frame=2").String()
	frame := Of("phi-multi.dcm").WithFrame(2).String()
	if png == frame {
		t.Fatalf("both are %q", png)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("scans/a.dcm", 0, "", int64(0), false)
	f.Add("a#frame=2", 2, "/cam#1", int64(1234), true)
	f.Add("%23%", 0, "", int64(-5), true)
	f.Fuzz(func(t *testing.T, obj string, frame int, topic string, ms int64, timed bool) {
		k := Key{Object: obj, Frame: max(frame, 0) % 1_000_000, Topic: topic}
		if timed {
			k = k.At(time.Duration(ms%1e12) * time.Millisecond)
		}
		if frame%3 == 1 {
			k = k.Span(time.Duration(ms%1e9)*time.Millisecond, time.Duration(frame%1e6)*time.Millisecond)
		}
		s := k.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) of %+v: %v", s, k, err)
		}
		if back != k {
			t.Fatalf("Parse(%q) = %+v, want %+v", s, back, k)
		}
		// Any string that parses is the one form of its key.
		if k2, err := Parse(obj); err == nil && k2.String() != obj {
			t.Fatalf("Parse(%q).String() = %q", obj, k2.String())
		}
	})
}
