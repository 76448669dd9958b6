package video_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/didicm/didicm/imaging/video"
)

func TestSniffRecognisesVideoContainersByContent(t *testing.T) {
	tests := []struct {
		name, head, container string
	}{
		{"an MP4 with an isom brand", "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", video.ContainerMP4},
		{"a QuickTime MOV", "\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", video.ContainerMP4},
		{"an old QuickTime file opening with moov", "\x00\x00\x10\x00moov\x00\x00\x00\x6cmvhd", video.ContainerMP4},
		{"a Matroska or WebM file", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81", video.ContainerMatroska},
		{"an AVI", "RIFF\x10\x00\x00\x00AVI LIST", video.ContainerAVI},
		{"a HEIC photo is not a video", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ""},
		{"an AVIF image is not a video", "\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", ""},
		{"a WAV file is not a video", "RIFF\x10\x00\x00\x00WAVEfmt ", ""},
		{"a PNG is not a video", "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", ""},
		{"a short head is not a video", "\x1a\x45\xdf", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := video.Container([]byte(tt.head)); got != tt.container {
				t.Fatalf("Container = %q, want %q", got, tt.container)
			}
			if got := video.Sniff([]byte(tt.head)); got != (tt.container != "") {
				t.Fatalf("Sniff = %v", got)
			}
		})
	}
}

func TestReasonNamesEachErrorKind(t *testing.T) {
	for err, want := range map[error]string{
		video.ErrUnavailable:   "unsupported_format",
		video.ErrFormat:        "unsupported_format",
		video.ErrTooLarge:      "too_large",
		video.ErrTooManyPixels: "too_many_pixels",
		video.ErrCorrupt:       "corrupt",
		video.ErrRead:          "read",
		errors.New("other"):    "",
	} {
		if got := video.Reason(fmt.Errorf("wrapped: %w", err)); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestDecodedBytesCountsThePoolAndTheScaler(t *testing.T) {
	frame := int64(1920 * 1080 * 3 / 2)
	inter := video.DecodedBytes(frame, 1920, 224, 224, 3, 1, false)
	intra := video.DecodedBytes(frame, 1920, 224, 224, 3, 1, true)
	threads := video.DecodedBytes(frame, 1920, 224, 224, 3, 4, false)
	if inter < video.FramePool*frame || intra >= inter || threads != inter+3*frame {
		t.Fatalf("inter %d, intra %d, 4 threads %d (frame %d)", inter, intra, threads, frame)
	}
}

func TestLimitsDefaults(t *testing.T) {
	l := video.Limits{MaxFrames: 7}.WithDefaults()
	if l.MaxFrames != 7 || l.MaxDuration != video.DefaultMaxDuration || l.MaxPixels != video.DefaultMaxPixels ||
		l.Threads != 1 || l.MaxStreams != video.DefaultMaxStreams || l.MaxHeaderBytes != video.DefaultMaxHeaderBytes ||
		l.MaxPacketBytes != video.DefaultMaxPacketBytes || l.MaxDecodedBytes != video.DefaultMaxDecodedBytes {
		t.Fatalf("%+v", l)
	}
}
