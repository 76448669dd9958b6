//go:build !cgo || novideo

package ffmpeg_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/didicm/didicm/imaging/video"
	"github.com/didicm/didicm/imaging/video/ffmpeg"
)

func TestThisBuildRefusesVideoAsAnUnsupportedFormat(t *testing.T) {
	if ffmpeg.Available {
		t.Fatal("Available in a build without cgo or with -tags novideo")
	}
	mp4 := bytes.NewReader([]byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"))
	_, err := ffmpeg.Decoder{}.Probe(context.Background(), mp4, video.Limits{})
	if !errors.Is(err, video.ErrUnavailable) || video.Reason(err) != "unsupported_format" {
		t.Fatalf("Probe: %v (reason %q)", err, video.Reason(err))
	}
	err = ffmpeg.Decoder{}.Sample(context.Background(), mp4, video.Options{}, func(video.Frame) error {
		t.Fatal("a frame from a build without a decoder")
		return nil
	})
	if !errors.Is(err, video.ErrUnavailable) || video.Reason(err) != "unsupported_format" {
		t.Fatalf("Sample: %v (reason %q)", err, video.Reason(err))
	}
}
