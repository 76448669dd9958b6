//go:build cgo && !novideo

package ffmpeg_test

import (
	"errors"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
)

// TestDamagedFilesGiveTheirFramesAndErrorFrames: a truncated file and one
// with a corrupted stretch give one frame per sample time, the readable
// ones with the right digit and the others as error frames, and the call
// succeeds.
func TestDamagedFilesGiveTheirFramesAndErrorFrames(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range []string{"truncated.mp4", "truncated.mkv", "corrupt.mp4"} {
		t.Run(name, func(t *testing.T) {
			frames := sample(t, c.open(t, name), grey28(video.Options{Every: time.Second}))
			if len(frames) != c.Seconds {
				t.Fatalf("%d frames, want one per sample time (%d): %v", len(frames), c.Seconds, frames)
			}
			var good, bad int
			for i, f := range frames {
				if i > 0 && f.T <= frames[i-1].T {
					t.Fatalf("frame %d at %v after one at %v", i, f.T, frames[i-1].T)
				}
				if f.T < time.Duration(i)*time.Second || f.T >= time.Duration(i+1)*time.Second {
					t.Fatalf("frame %d at %v, not in second %d: %v", i, f.T, i, frames)
				}
				if f.Err == nil {
					good++
					checkDigit(t, c, f)
					continue
				}
				bad++
				if !errors.Is(f.Err, video.ErrCorrupt) || video.Reason(f.Err) != "corrupt" || f.pix != nil {
					t.Errorf("error frame %v: reason %q, %d pixel bytes", f, video.Reason(f.Err), len(f.pix))
				}
				if c.Files[name].Damaged == "corrupt" && (f.T < 12*time.Second || f.T >= 20*time.Second) {
					t.Errorf("error frame %v away from the corrupted stretch (15 s ± 3 s)", f)
				}
				if c.Files[name].Damaged == "truncated" && i+1 < len(frames) && frames[i+1].Err == nil {
					t.Errorf("a readable frame %v after the error frame %v of a truncated file", frames[i+1], f)
				}
			}
			if good < 10 || bad < 1 {
				t.Fatalf("%d readable frames and %d error frames: %v", good, bad, frames)
			}
			t.Logf("%d readable frames, %d error frames", good, bad)
		})
	}
}

// TestACorruptStretchKeepsEveryFrameInPlace: with every frame sampled, the
// frames lost in a corrupted stretch come as error frames at their own
// times, so times increase and indices count every frame once.
func TestACorruptStretchKeepsEveryFrameInPlace(t *testing.T) {
	c := loadCorpus(t)
	frames := sample(t, c.open(t, "corrupt.mp4"), grey28(video.Options{}))
	if len(frames) != c.Seconds*c.FPS {
		t.Fatalf("%d frames, want %d", len(frames), c.Seconds*c.FPS)
	}
	var bad int
	for i, f := range frames {
		if f.Index != int64(i) || f.T != time.Duration(i)*time.Second/time.Duration(c.FPS) {
			t.Fatalf("frame %d: %v", i, f)
		}
		if f.Err != nil {
			bad++
			continue
		}
		checkDigit(t, c, f)
	}
	if bad == 0 || bad > 3*c.FPS {
		t.Fatalf("%d error frames, want some and not more than 3 s of them", bad)
	}
}
