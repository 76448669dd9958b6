//go:build cgo && !novideo

package ffmpeg_test

import (
	"testing"

	"github.com/didicm/didicm/imaging/video"
)

// TestKeyframesOnlyGivesTheKeyFrames compares KeyframesOnly with the key
// frames ffprobe finds decoding every frame (-show_frames key_frame; its
// -skip_frame nokey is no oracle: the VP9 decoder ignores it).
func TestKeyframesOnlyGivesTheKeyFrames(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range goodFiles {
		t.Run(name, func(t *testing.T) {
			src := c.open(t, name)
			info := probe(t, src)
			var want []int64 // presentation numbers of the key frames
			all := probeFrames(t, c.path(name))
			for i, p := range all {
				if p.key {
					want = append(want, int64(i))
				}
			}
			got := sample(t, src, grey28(video.Options{KeyframesOnly: true}))
			if len(got) != len(want) || len(want) < 2 {
				t.Fatalf("%d key frames, ffprobe finds %d: %v", len(got), len(want), got)
			}
			indexKnown := c.Files[name].Container != "matroska"
			for i, f := range got {
				p := all[want[i]]
				if !f.Key || f.Err != nil || f.PTS != p.pts || f.T != ticksToT(p.pts, info) {
					t.Fatalf("key frame %d: %v, want pts %d", i, f, p.pts)
				}
				if indexKnown && f.Index != want[i] || !indexKnown && f.Index != -1 {
					t.Errorf("key frame %d at %v: index %d, want %d (-1 without a full index)", i, f.T, f.Index, want[i])
				}
				checkDigit(t, c, f)
			}
		})
	}
}
