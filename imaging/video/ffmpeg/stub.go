//go:build !cgo || novideo

package ffmpeg

import (
	"context"
	"log/slog"

	"github.com/didicm/didicm/imaging/video"
)

// Available says whether this build decodes video: not this one (built
// without cgo, or with -tags novideo).
const Available = false

// MaxAlloc is the cap FFmpeg's allocations would have (see the cgo build).
const MaxAlloc = 128 << 20

// Decoder refuses every file in this build with video.ErrUnavailable
// (reason unsupported_format).
type Decoder struct{}

var _ video.Decoder = Decoder{}

// Probe returns video.ErrUnavailable.
func (Decoder) Probe(context.Context, video.Source, video.Limits) (video.Info, error) {
	return video.Info{}, video.ErrUnavailable
}

// Sample returns video.ErrUnavailable.
func (Decoder) Sample(context.Context, video.Source, video.Options, func(video.Frame) error) error {
	return video.ErrUnavailable
}

// SetLogger does nothing in this build.
func SetLogger(*slog.Logger) {}
