//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

// cliTolerance is the largest mean absolute difference (0–255 scale)
// allowed between a sampled frame and the ffmpeg CLI's frame at the same
// time: both scale with swscale's area filter, so only rounding may differ.
const cliTolerance = 0.5

func TestSampledFramesAreTheFramesAtTheSampleTimes(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range goodFiles {
		t.Run(name, func(t *testing.T) {
			src := c.open(t, name)
			info := probe(t, src)
			var ts []time.Duration
			for _, p := range probeFrames(t, c.path(name)) {
				ts = append(ts, ticksToT(p.pts, info))
			}
			const every = 370 * time.Millisecond
			frames := sample(t, src, grey28(video.Options{Every: every}))
			want := expectedTimes(ts, every, time.Duration(c.Seconds)*time.Second)
			if len(frames) != len(want) {
				t.Fatalf("%d frames, want %d (ffprobe's frame times under the rule)", len(frames), len(want))
			}
			worst := 0.0
			for i, f := range frames {
				if f.Err != nil || f.T != want[i] {
					t.Fatalf("frame %d is %v, want the frame at %v", i, f, want[i])
				}
				checkDigit(t, c, f)
				if i%8 == 0 {
					d := meanAbsDiff(f.pix, cliFrame(t, c.path(name), want[i]))
					worst = max(worst, d)
					if d > cliTolerance {
						t.Errorf("frame at %v differs from ffmpeg -ss %v by %.3f (mean abs), more than %v", f.T, want[i], d, cliTolerance)
					}
				}
			}
			t.Logf("%d frames; largest mean abs difference from the CLI's %.3f", len(frames), worst)
		})
	}
}

// checkDigit checks that f shows the digit and the marker of its time.
func checkDigit(t *testing.T, c *corpus, f frame) {
	t.Helper()
	sec := int(f.T / time.Second)
	got, d := c.second(f.pix)
	if got != sec || c.Labels[got] != c.Labels[sec] {
		t.Errorf("frame at %v shows the digit of second %d (a %d, %.1f away), want second %d (a %d)", f.T, got, c.Labels[got], d, sec, c.Labels[sec])
	}
	fps := time.Duration(c.FPS)
	if want := int((f.T % time.Second) * fps / time.Second); marker(f.pix) != want {
		t.Errorf("frame at %v shows marker %d, want %d", f.T, marker(f.pix), want)
	}
}

func TestFramesHaveTheirPlaceAndTime(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range goodFiles {
		t.Run(name, func(t *testing.T) {
			src := c.open(t, name)
			info := probe(t, src)
			want := probeFrames(t, c.path(name))
			frames := sample(t, src, grey28(video.Options{}))
			if len(frames) != len(want) {
				t.Fatalf("%d frames, ffprobe decodes %d", len(frames), len(want))
			}
			for i, f := range frames {
				if f.Index != int64(i) || f.PTS != want[i].pts || f.Key != want[i].key || f.T != ticksToT(f.PTS, info) || f.Err != nil {
					t.Fatalf("frame %d: %v, want index %d pts %d key %v", i, f, i, want[i].pts, want[i].key)
				}
				if f.TimeBase != info.TimeBase || f.Width != inW || f.Height != inH || f.Channels != 1 || len(f.pix) != inW*inH {
					t.Fatalf("frame %d: time base %v, %dx%dx%d, %d bytes", i, f.TimeBase, f.Width, f.Height, f.Channels, len(f.pix))
				}
			}
		})
	}
}

// TestSampledFramesAreTheDecodedFramesTheRuleTakes compares each Every run,
// which leaves undecoded the packets no sample time needs, with every frame
// decoded and the rule applied afterwards: the same frames, indices and
// pixels.
func TestSampledFramesAreTheDecodedFramesTheRuleTakes(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range append(goodFiles, "corrupt.mp4") {
		t.Run(name, func(t *testing.T) {
			src := c.open(t, name)
			all := sample(t, src, grey28(video.Options{}))
			var ts []time.Duration
			byT := map[time.Duration]frame{}
			for _, f := range all {
				ts = append(ts, f.T)
				byT[f.T] = f
			}
			for _, every := range []time.Duration{time.Second, 2 * time.Second, 3700 * time.Millisecond} {
				got := sample(t, src, grey28(video.Options{Every: every}))
				want := expectedTimes(ts, every, time.Duration(c.Seconds)*time.Second)
				if len(got) != len(want) {
					t.Fatalf("every %v: %d frames, want %d", every, len(got), len(want))
				}
				for i, f := range got {
					w := byT[want[i]]
					if f.T != w.T || f.Index != w.Index || f.Key != w.Key || (f.Err == nil) != (w.Err == nil) || !bytes.Equal(f.pix, w.pix) {
						t.Fatalf("every %v, frame %d: %v, decoding every frame gives %v", every, i, f, w)
					}
				}
			}
		})
	}
}
