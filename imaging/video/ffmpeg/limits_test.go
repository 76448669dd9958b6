//go:build cgo && !novideo

package ffmpeg_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

func TestLimitsRefuseWhatTheyBound(t *testing.T) {
	c := loadCorpus(t)
	tests := []struct {
		name   string
		file   string
		o      video.Options
		reason string
	}{
		{"a frame size over MaxPixels", "h264.mp4", video.Options{Limits: video.Limits{MaxPixels: 112*128 - 1}}, "too_many_pixels"},
		{"a duration over MaxDuration", "h264.mkv", video.Options{Limits: video.Limits{MaxDuration: 29 * time.Second}}, "too_large"},
		{"more sample times than MaxFrames", "h264.mp4", video.Options{Every: 10 * time.Millisecond, Limits: video.Limits{MaxFrames: 2000}}, "too_large"},
		{"more frames than MaxFrames", "vp9.webm", video.Options{Limits: video.Limits{MaxFrames: 100}}, "too_large"},
		{"a decoder pool over MaxDecodedBytes", "hevc.mp4", video.Options{Limits: video.Limits{MaxDecodedBytes: 200_000}}, "too_large"},
		{"a header over MaxHeaderBytes", "h264.mp4", video.Options{Limits: video.Limits{MaxHeaderBytes: 4 << 10}}, "too_large"},
		{"a packet over MaxPacketBytes", "mjpeg.avi", video.Options{Limits: video.Limits{MaxPacketBytes: 100}}, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := grey28(tt.o)
			n := 0
			err := ffmpeg.Decoder{}.Sample(context.Background(), c.open(t, tt.file), o, func(video.Frame) error { n++; return nil })
			if video.Reason(err) != tt.reason || (tt.reason == "") != (err == nil) {
				t.Fatalf("Sample: %v (reason %q, after %d frames), want reason %q", err, video.Reason(err), n, tt.reason)
			}
		})
	}
}

func TestMaxStreamsCountsEveryStream(t *testing.T) {
	c := loadCorpus(t)
	b, err := os.ReadFile(c.path("h264.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	two := manyTraks(t, b, 1) // a second, empty track
	for _, tt := range []struct {
		max    int
		reason string
	}{{1, "too_large"}, {2, ""}} {
		_, err := ffmpeg.Decoder{}.Probe(context.Background(), bytes.NewReader(two), video.Limits{MaxStreams: tt.max})
		if video.Reason(err) != tt.reason || (err == nil) != (tt.reason == "") {
			t.Errorf("two tracks, MaxStreams %d: %v, want reason %q", tt.max, err, tt.reason)
		}
	}
}

func TestSampleRefusesWhatIsNotAVideo(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":           nil,
		"a PNG":           []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
		"an MP4 header":   []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"),
		"a password file": []byte("root:x:0:0:root:/root:/bin/bash\n"),
	} {
		t.Run(name, func(t *testing.T) {
			err := ffmpeg.Decoder{}.Sample(context.Background(), bytes.NewReader(data), video.Options{}, func(video.Frame) error { return nil })
			if r := video.Reason(err); r != "unsupported_format" && r != "corrupt" {
				t.Fatalf("Sample: %v (reason %q)", err, r)
			}
			if strings.Contains(err.Error(), "root") || strings.Contains(err.Error(), "PNG") {
				t.Fatalf("the error quotes the file: %v", err)
			}
		})
	}
}

// failingSource is a Source whose reads fail from offset on: a storage
// fault around a real file.
type failingSource struct {
	video.Source
	offset int64
}

var errStorage = errors.New("storage unavailable")

func (s failingSource) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > s.offset {
		return 0, errStorage
	}
	return s.Source.ReadAt(p, off)
}

func TestAFailingSourceFailsTheCall(t *testing.T) {
	c := loadCorpus(t)
	src := c.open(t, "mjpeg.avi")
	err := ffmpeg.Decoder{}.Sample(context.Background(), failingSource{src, src.Size() / 2}, grey28(video.Options{}),
		func(video.Frame) error { return nil })
	if !errors.Is(err, errStorage) || video.Reason(err) != "read" {
		t.Fatalf("Sample: %v (reason %q), want the storage error with reason read", err, video.Reason(err))
	}
}

func TestSampleStopsOnCancelAndOnTheCallbacksError(t *testing.T) {
	c := loadCorpus(t)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := ffmpeg.Decoder{}.Sample(ctx, c.open(t, "h264.mp4"), grey28(video.Options{}), func(video.Frame) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 4 {
		t.Fatalf("after cancelling at frame 3: %v, %d frames", err, n)
	}
	stop := errors.New("enough")
	err = ffmpeg.Decoder{}.Sample(context.Background(), c.open(t, "h264.mp4"), grey28(video.Options{}), func(video.Frame) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("the callback's error: %v", err)
	}
}

func TestSampleRefusesInvalidOptions(t *testing.T) {
	c := loadCorpus(t)
	for _, o := range []video.Options{
		{Every: -time.Second}, {From: 5 * time.Second, To: 5 * time.Second}, {Width: 28}, {Width: -1, Height: 4},
	} {
		err := (ffmpeg.Decoder{}).Sample(context.Background(), c.open(t, "h264.mp4"), o, func(video.Frame) error { return nil })
		if err == nil || video.Reason(err) != "" {
			t.Errorf("Sample(%+v): %v, want an error of the call", o, err)
		}
	}
}

// TestRGBFramesAreTheCLIsFrames checks the colour path (RGB24, an upscale
// that swscale does bilinearly, MJPEG's full-range YUV) against the ffmpeg
// CLI with the same filter.
func TestRGBFramesAreTheCLIsFrames(t *testing.T) {
	c := loadCorpus(t)
	for _, name := range []string{"h264.mp4", "mjpeg.avi"} {
		t.Run(name, func(t *testing.T) {
			frames := sample(t, c.open(t, name), video.Options{Every: 7 * time.Second, Width: 200, Height: 150})
			for _, f := range frames {
				if f.Channels != 3 || len(f.pix) != 200*150*3 {
					t.Fatalf("frame %v: %d channels, %d bytes", f, f.Channels, len(f.pix))
				}
				want := cliRGB(t, c.path(name), f.T, 200, 150)
				if d := meanAbsDiff(f.pix, want); d > cliTolerance {
					t.Errorf("frame at %v differs from the CLI's by %.3f", f.T, d)
				}
			}
		})
	}
}

func cliRGB(t *testing.T, path string, at time.Duration, w, h int) []byte {
	t.Helper()
	cmd := cliCommand(path, at, "scale=200:150:flags=bilinear", "rgb24")
	out, err := cmd.Output()
	if err != nil || len(out) != w*h*3 {
		t.Fatalf("%v: %v, %d bytes", cmd.Args, err, len(out))
	}
	return out
}
