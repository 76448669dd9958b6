//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

// TestRangesTileTheWholeFile checks the promise the pipeline's split of a
// long video rests on: the frames of calls over ranges [0,d), [d,2d), … are
// those of one call over the whole file, each once, with the same times,
// indices and pixels.
func TestRangesTileTheWholeFile(t *testing.T) {
	c := loadCorpus(t)
	modes := []struct {
		name string
		o    video.Options
	}{
		{"every second", video.Options{Every: time.Second}},
		{"every 370 ms", video.Options{Every: 370 * time.Millisecond}},
		{"every frame", video.Options{}},
		{"key frames", video.Options{KeyframesOnly: true}},
		{"key frames every 2 s", video.Options{KeyframesOnly: true, Every: 2 * time.Second}},
	}
	for _, name := range append(goodFiles, "truncated.mp4", "truncated.mkv", "corrupt.mp4") {
		for _, m := range modes {
			for _, d := range []time.Duration{10 * time.Second, 7*time.Second + 30*time.Millisecond} {
				t.Run(fmt.Sprintf("%s/%s/ranges of %v", name, m.name, d), func(t *testing.T) {
					if c.Files[name].Damaged == "truncated" && m.o.Every == 0 {
						t.Skip("with Every 0 a range after the end of a truncated file reports it with an error frame of its own")
					}
					src := c.open(t, name)
					whole := sample(t, src, grey28(m.o))
					var joined []frame
					for from := time.Duration(0); from < time.Duration(c.Seconds)*time.Second; from += d {
						o := m.o
						o.From, o.To = from, from+d
						joined = append(joined, sample(t, src, grey28(o))...)
					}
					compareRuns(t, c, name, whole, joined)
				})
			}
		}
	}
}

func compareRuns(t *testing.T, c *corpus, name string, whole, joined []frame) {
	t.Helper()
	if len(whole) == 0 {
		t.Fatal("no frames in the whole-file run")
	}
	for i := range max(len(whole), len(joined)) {
		if i >= len(whole) || i >= len(joined) {
			t.Fatalf("%d frames over the whole file, %d over the ranges; first extra: %v", len(whole), len(joined), append(whole[min(i, len(whole)):], joined[min(i, len(joined)):]...)[0])
		}
		w, j := whole[i], joined[i]
		if w.T != j.T || w.PTS != j.PTS || w.Key != j.Key || (w.Err == nil) != (j.Err == nil) || !bytes.Equal(w.pix, j.pix) {
			t.Fatalf("frame %d: %v over the whole file, %v over the ranges", i, w, j)
		}
		indexKnown := c.Files[name].Container != "matroska"
		if j.Index != w.Index && (j.Index != -1 || indexKnown) {
			t.Fatalf("frame %d at %v: index %d over the whole file, %d over the ranges", i, w.T, w.Index, j.Index)
		}
	}
}
