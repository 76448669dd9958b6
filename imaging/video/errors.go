package video

import "errors"

// Sentinels for errors.Is; the errors of a Decoder wrap one of them with a
// detail. Reason maps them to the reasons of result records.
var (
	// ErrUnavailable: this build has no video decoder (cgo off, or built
	// with -tags novideo).
	ErrUnavailable = errors.New("video decoding is not in this build")
	// ErrFormat: not a container or codec the decoder reads, or no video
	// stream.
	ErrFormat = errors.New("not a supported video")
	// ErrTooLarge: a limit other than the frame size (duration, frames,
	// decoding memory, packet or header size, stream count).
	ErrTooLarge = errors.New("video too large")
	// ErrTooManyPixels: a frame larger than Limits.MaxPixels.
	ErrTooManyPixels = errors.New("video frame too large")
	// ErrCorrupt: damaged data; the reason of error frames.
	ErrCorrupt = errors.New("corrupt video")
	// ErrRead: the Source failed (a storage error, worth a retry).
	ErrRead = errors.New("read video")
)

// Reason is the result-record reason for err: unsupported_format,
// too_large, too_many_pixels, corrupt or read, and "" for an error of none
// of this package's kinds (a cancelled context, an error from the callback).
func Reason(err error) string {
	switch {
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrFormat):
		return "unsupported_format"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrTooManyPixels):
		return "too_many_pixels"
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	case errors.Is(err, ErrRead):
		return "read"
	}
	return ""
}
